"""Where is the data looked for, and where are decoded tensors cached?"""

from pathlib import Path

import pytest

from edu.data import DataNotFoundError, cache_dir, find_data_root

pytestmark = pytest.mark.usefixtures("isolated_env")


def test_explicit_root_wins_over_env_and_user_folder(tmp_path, monkeypatch):
    """Is the root argument used even when EDU_DATA_ROOT is set?"""
    explicit, env = tmp_path / "explicit", tmp_path / "env"
    explicit.mkdir()
    env.mkdir()
    monkeypatch.setenv("EDU_DATA_ROOT", str(env))
    assert find_data_root(explicit) == explicit
    assert find_data_root(str(explicit)) == explicit


def test_env_wins_over_user_folder(tmp_path, monkeypatch):
    """Without a root argument, is $EDU_DATA_ROOT used?"""
    env = tmp_path / "env"
    env.mkdir()
    monkeypatch.setenv("EDU_DATA_ROOT", str(env))
    assert find_data_root() == env


def test_user_folder_comes_last(tmp_path, monkeypatch):
    """With neither, is it $XDG_CACHE_HOME/edu/data, or ~/.cache/edu/data without XDG?"""
    assert find_data_root() == tmp_path / "xdg-cache" / "edu" / "data"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert find_data_root() == tmp_path / "home" / ".cache" / "edu" / "data"


def test_empty_env_var_counts_as_unset(tmp_path, monkeypatch):
    """Is EDU_DATA_ROOT= (empty) ignored rather than meaning the current folder?"""
    monkeypatch.setenv("EDU_DATA_ROOT", "")
    assert find_data_root() == tmp_path / "xdg-cache" / "edu" / "data"


def test_missing_explicit_root_is_an_error(tmp_path):
    """Does a root that does not exist fail, naming it and where it came from?"""
    missing = tmp_path / "no-such-folder"
    with pytest.raises(DataNotFoundError, match="no-such-folder") as error:
        find_data_root(missing)
    assert "root argument" in str(error.value)
    assert "does not exist" in str(error.value)


def test_missing_env_root_is_an_error(tmp_path, monkeypatch):
    """Does a typo in EDU_DATA_ROOT fail instead of falling back to another copy?"""
    monkeypatch.setenv("EDU_DATA_ROOT", str(tmp_path / "typo"))
    with pytest.raises(DataNotFoundError, match=r"typo.*\$EDU_DATA_ROOT"):
        find_data_root()


def test_create_makes_the_folder(tmp_path):
    """Does create=True (used by downloads) make a missing root?"""
    target = tmp_path / "new" / "root"
    assert find_data_root(target, create=True) == target
    assert target.is_dir()


def test_cache_dir_override_and_default(tmp_path, monkeypatch):
    """Is the cache in $EDU_CACHE_DIR, else in <user cache>/edu/cifar10?"""
    assert cache_dir() == tmp_path / "edu-cache"
    monkeypatch.delenv("EDU_CACHE_DIR")
    assert cache_dir() == tmp_path / "xdg-cache" / "edu" / "cifar10"
    assert isinstance(cache_dir(), Path)
