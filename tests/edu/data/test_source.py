"""Does a run's record name its data by file name and hash, never by this machine's path?"""

import hashlib

import pytest

from edu.data import describe_source, load_cifar10

pytestmark = pytest.mark.usefixtures("isolated_env")


def test_archive_is_named_by_file_name_and_its_sha256(fake, tmp_path):
    """Is an archive described by its name, split and the hash of its bytes (hashlib's)?"""
    archive = fake.write_archive(tmp_path / "deep" / "folder" / "fake-cifar.tar.gz")
    source = load_cifar10("test", archive.parent).source
    described = describe_source(source)
    assert str(tmp_path) in source  # where it was read, for the user of this machine
    assert described["description"] == "image archive fake-cifar.tar.gz, test/"
    assert described["sha256"] == hashlib.sha256(archive.read_bytes()).hexdigest()
    assert str(tmp_path) not in str(described)


def test_batches_are_hashed_file_by_file_in_name_order(fake, tmp_path):
    """Are torchvision's batches hashed as the concatenation of their files, sorted by name?"""
    root = fake.write_batches(tmp_path / "data")
    described = describe_source(load_cifar10("train", root).source)
    folder = root / "cifar-10-batches-py"
    expected = hashlib.sha256(
        b"".join(path.read_bytes() for path in sorted(folder.iterdir()))
    ).hexdigest()
    assert described["description"] == "CIFAR-10 python batches cifar-10-batches-py, train"
    assert described["sha256"] == expected
    assert str(tmp_path) not in str(described)


def test_tree_and_prefix_keep_their_words_without_the_path(fake, tmp_path):
    """Does a tree keep its split folder's name and a smoke run's prefix, with no hash?"""
    root = fake.write_tree(tmp_path / "images")
    described = describe_source(load_cifar10("test", root, limit=5).source)
    assert described == {
        "description": "image folder test, first 5 images",
        "sha256": None,
        "sha256_of": None,
    }


def test_a_source_that_moved_is_still_described_without_a_hash(tmp_path):
    """Is a source whose file is gone described by name, with no hash and no error?"""
    described = describe_source(f"image archive {tmp_path}/gone.tar.gz, test/")
    assert described == {
        "description": "image archive gone.tar.gz, test/",
        "sha256": None,
        "sha256_of": None,
    }
