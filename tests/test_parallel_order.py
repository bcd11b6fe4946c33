"""The order tests/conftest.py gives pytest-xdist's workers (``scripts/dev.py test``)."""

from pathlib import Path
from types import SimpleNamespace


def _item(path: str, name: str, slow: bool = False) -> SimpleNamespace:
    """A stand-in for a collected test: its file, its name, and whether it is ``slow``."""
    return SimpleNamespace(
        path=Path(path), name=name, get_closest_marker=lambda mark: slow if mark == "slow" else None
    )


def test_files_with_a_slow_test_come_first_each_kept_whole_and_in_order(repo_script):
    """Do the files holding a slow test come first, each file's tests together, in order?"""
    conftest = repo_script("tests/conftest.py")
    items = [
        _item("a.py", "a1"),
        _item("b.py", "b1"),
        _item("b.py", "b2", slow=True),
        _item("c.py", "c1"),
        _item("d.py", "d1", slow=True),
        _item("d.py", "d2"),
    ]
    ordered = [item.name for item in conftest.slow_files_first(items)]
    assert ordered == ["b1", "b2", "d1", "d2", "a1", "c1"]


def test_the_test_command_keeps_files_whole_and_in_the_given_order(repo_script):
    """Does ``scripts/dev.py test`` send whole files, and keep the order the hook gives
    (without ``--no-loadscope-reorder`` xdist sorts the files by their number of tests)?"""
    parallel = repo_script("scripts/dev.py").PARALLEL
    assert parallel[parallel.index("--dist") + 1] == "loadfile"
    assert "--no-loadscope-reorder" in parallel
