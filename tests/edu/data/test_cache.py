"""Are image files decoded once, and is a bad or stale cache rebuilt without complaint?"""

import os

import pytest
import torch
from PIL import Image

from edu.data import load_cifar10

pytestmark = pytest.mark.usefixtures("isolated_env")


@pytest.fixture
def count_decodes(monkeypatch):
    """Count calls of PIL.Image.open (one per decoded image)."""
    calls = []
    real_open = Image.open

    def counting_open(*args, **kwargs):
        calls.append(1)
        return real_open(*args, **kwargs)

    monkeypatch.setattr(Image, "open", counting_open)
    return calls


def _forbid_decoding(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("decoded an image although a cache was expected")

    monkeypatch.setattr(Image, "open", fail)


def _cache_files(tmp_path):
    return sorted((tmp_path / "edu-cache").glob("*.pt"))


@pytest.mark.parametrize("form", ["archive", "folder"])
def test_second_load_does_not_decode(fake, tmp_path, monkeypatch, form):
    """Does the second load come from the cache, equal to the first?"""
    if form == "archive":
        root = fake.write_archive(tmp_path / "data" / "c.tar.gz").parent
    else:
        root = fake.write_tree(tmp_path / "data")
    first = load_cifar10("test", root)
    assert [path.name.endswith("-test.pt") for path in _cache_files(tmp_path)] == [True]
    _forbid_decoding(monkeypatch)
    second = load_cifar10("test", root)
    assert torch.equal(first.images, second.images)
    assert torch.equal(first.labels, second.labels)
    assert second.source == first.source


def test_corrupt_cache_file_is_rebuilt(fake, tmp_path, count_decodes):
    """Is a damaged cache file silently replaced by a good one?"""
    root = fake.write_archive(tmp_path / "data" / "c.tar.gz").parent
    first = load_cifar10("train", root)
    (cache,) = _cache_files(tmp_path)
    cache.write_bytes(cache.read_bytes()[:100])
    decoded_before = len(count_decodes)
    again = load_cifar10("train", root)
    assert len(count_decodes) > decoded_before  # decoded again
    assert torch.equal(again.images, first.images)
    assert cache.stat().st_size > 1000  # rewritten
    decoded_before = len(count_decodes)
    load_cifar10("train", root)
    assert len(count_decodes) == decoded_before  # and used


def test_changed_archive_is_decoded_again(fake, fake_factory, tmp_path):
    """Does replacing the archive (new size/mtime) invalidate its cache?"""
    path = fake.write_archive(tmp_path / "data" / "c.tar.gz")
    load_cifar10("test", path.parent)
    other = fake_factory(seed=1)
    other.write_archive(path)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    reloaded = load_cifar10("test", path.parent)
    assert torch.equal(reloaded.images, other.images["test"])
    assert len(_cache_files(tmp_path)) == 1  # overwritten, not a second file


def test_changed_image_file_is_decoded_again(fake, tmp_path):
    """Does editing one file of a folder tree invalidate its cache?"""
    root = fake.write_tree(tmp_path / "data")
    load_cifar10("test", root)
    Image.new("RGB", (32, 32), color=(1, 2, 3)).save(root / "test" / "airplane" / "0000.png")
    reloaded = load_cifar10("test", root)
    assert reloaded.images[0, :, 0, 0].tolist() == [1, 2, 3]


def test_cache_false_neither_reads_nor_writes(fake, tmp_path):
    """With cache=False, is no cache file read or written?"""
    root = fake.write_tree(tmp_path / "data")
    load_cifar10("test", root, cache=False)
    assert _cache_files(tmp_path) == []


def test_unwritable_cache_warns_and_still_loads(fake, tmp_path, monkeypatch):
    """If the cache folder cannot be made, is there a warning rather than a failure?"""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("EDU_CACHE_DIR", str(blocker / "cache"))
    root = fake.write_tree(tmp_path / "data")
    with pytest.warns(RuntimeWarning, match="could not write the CIFAR-10 cache"):
        loaded = load_cifar10("test", root)
    assert torch.equal(loaded.images, fake.images["test"])


def test_batches_are_not_cached(fake, tmp_path):
    """The original batches are pixels already: is no cache file written for them?"""
    load_cifar10("train", fake.write_batches(tmp_path / "data"))
    assert _cache_files(tmp_path) == []
