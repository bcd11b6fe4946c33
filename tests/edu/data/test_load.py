"""Does every form of CIFAR-10 load to the same tensors, and does every failure explain itself?"""

import gzip
import io
import pickle
import tarfile

import pytest
import torch
from PIL import Image

from edu.data import (
    CIFAR10_CLASSES,
    ClassFoldersError,
    CorruptArchiveError,
    DataFormatError,
    DataNotFoundError,
    ImageSizeError,
    class_interleaved,
    load_cifar10,
    take,
)

pytestmark = pytest.mark.usefixtures("isolated_env")


def _assert_same(loaded, fake, split):
    assert loaded.images.dtype == torch.uint8
    assert loaded.labels.dtype == torch.int64
    assert loaded.images.is_contiguous()
    assert torch.equal(loaded.images, fake.images[split])
    assert torch.equal(loaded.labels, fake.labels[split])


@pytest.mark.parametrize("split", ["train", "test"])
def test_three_forms_give_identical_tensors(fake, tmp_path, split):
    """Do batches, an image folder and a tar.gz of it load to exactly the same tensors?"""
    batches = load_cifar10(split, fake.write_batches(tmp_path / "batches"))
    folder = load_cifar10(split, fake.write_tree(tmp_path / "folder"))
    archive_root = tmp_path / "archive"
    fake.write_archive(archive_root / "cifar10-fake.tar.gz")
    archive = load_cifar10(split, archive_root)
    for loaded in (batches, folder, archive):
        _assert_same(loaded, fake, split)
    assert "cifar-10-batches-py" in batches.source
    assert "image folder" in folder.source
    assert "cifar10-fake.tar.gz" in archive.source


def test_tree_in_a_subfolder_and_archive_with_a_prefix(fake, tmp_path):
    """Are a tree one folder down and an archive whose tree sits in a folder found?"""
    fake.write_tree(tmp_path / "folder" / "cifar10")
    _assert_same(load_cifar10("train", tmp_path / "folder"), fake, "train")
    fake.write_archive(tmp_path / "archive" / "data.tgz", prefix="cifar10")
    loaded = load_cifar10("test", tmp_path / "archive")
    _assert_same(loaded, fake, "test")
    assert "cifar10/test/" in loaded.source


def test_root_may_be_the_archive_itself(fake, tmp_path):
    """Can the root argument name the .tar.gz file directly?"""
    path = fake.write_archive(tmp_path / "cifar10-fake.tar.gz")
    _assert_same(load_cifar10("train", path), fake, "train")


def test_forms_are_tried_in_the_documented_order(fake, tmp_path):
    """With batches and an archive in one root, are the batches read?"""
    fake.write_batches(tmp_path)
    fake.write_archive(tmp_path / "cifar10-fake.tar.gz")
    assert "batches" in load_cifar10("test", tmp_path).source


def test_image_trees_load_class_interleaved(tmp_path):
    """Is any prefix class-balanced (file k of every class before file k + 1 of any)?"""
    order = class_interleaved([["a0", "a1", "a2"], ["b0"], ["c0", "c1"]])
    assert order == [("a0", 0), ("b0", 1), ("c0", 2), ("a1", 0), ("c1", 2), ("a2", 0)]


def test_limit_and_take(fake, tmp_path):
    """Does limit= keep the first n images (and say so in the source)?"""
    root = fake.write_tree(tmp_path)
    small = load_cifar10("train", root, limit=10)
    assert torch.equal(small.images, fake.images["train"][:10])
    assert sorted(small.labels.tolist()) == list(range(10))
    assert small.source.endswith("first 10 images")
    assert take(small, None) is small
    assert take(small, 100) is small


def test_bad_split_is_a_value_error(tmp_path):
    """Is a split other than 'train' or 'test' a ValueError naming the two?"""
    with pytest.raises(ValueError, match="'train' or 'test'"):
        load_cifar10("validation", tmp_path)


def test_empty_root_says_where_it_looked_and_how_to_fix_it(tmp_path):
    """Does the not-found error list the places, the forms, and the two fixes?"""
    root = tmp_path / "empty"
    root.mkdir()
    with pytest.raises(DataNotFoundError) as error:
        load_cifar10("train", root)
    message = str(error.value)
    assert isinstance(error.value, FileNotFoundError)
    for needle in (
        str(root),
        "root argument",
        "EDU_DATA_ROOT (not set)",
        str(tmp_path / "xdg-cache" / "edu" / "data"),
        "cifar-10-batches-py",
        "train/<class>/*",
        ".tar.gz",
        "download=True",
        "--download",
        "cifar10-jpeg.tar.gz",
    ):
        assert needle in message, needle


def test_default_root_not_found_mentions_the_user_folder(tmp_path):
    """With no root and no EDU_DATA_ROOT, is the missing per-user folder the one named?"""
    with pytest.raises(DataNotFoundError, match="per-user data folder"):
        load_cifar10("test")


def test_archive_without_the_tree_is_listed_in_the_error(tmp_path):
    """Is an unrelated tar.gz in the root skipped and mentioned?"""
    with tarfile.open(tmp_path / "other.tar.gz", "w:gz") as archive:
        info = tarfile.TarInfo("notes/readme.txt")
        archive.addfile(info, io.BytesIO(b""))
    with pytest.raises(DataNotFoundError, match=r"other\.tar\.gz \(no train/<class>/ tree"):
        load_cifar10("train", tmp_path)


@pytest.mark.parametrize(
    "content",
    [b"this is not an archive", "truncated"],
    ids=["garbage", "truncated"],
)
def test_corrupt_archive_is_named(fake, tmp_path, content):
    """Does a broken .tar.gz give an error naming the file and saying it is no tar.gz?"""
    path = tmp_path / "cifar10-jpeg.tar.gz"
    if content == "truncated":
        good = fake.write_archive(tmp_path / "scratch" / "good.tar.gz").read_bytes()
        content = good[: len(good) // 2]
    path.write_bytes(content)
    with pytest.raises(CorruptArchiveError) as error:
        load_cifar10("train", tmp_path)
    assert str(path) in str(error.value)
    assert "not a valid tar.gz" in str(error.value)
    assert isinstance(error.value, ValueError)


def test_gzip_of_something_else_is_corrupt(tmp_path):
    """Is a valid gzip that holds no tar also reported as not a valid tar.gz?"""
    (tmp_path / "x.tar.gz").write_bytes(gzip.compress(b"hello" * 1000))
    with pytest.raises(CorruptArchiveError, match=r"x\.tar\.gz is not a valid tar\.gz"):
        load_cifar10("test", tmp_path)


def test_missing_class_folder_is_named(fake, tmp_path):
    """Does a tree without 'cat' fail naming the missing class and the split?"""
    root = fake.write_tree(tmp_path)
    for file in (root / "train" / "cat").iterdir():
        file.unlink()
    (root / "train" / "cat").rmdir()
    with pytest.raises(ClassFoldersError, match=r"'train' split.*missing class folder\(s\) cat"):
        load_cifar10("train", root)


def test_unexpected_class_folder_is_named(fake, tmp_path):
    """Does an eleventh folder fail naming it?"""
    root = fake.write_tree(tmp_path / "tree")
    (root / "test" / "unicorn").mkdir()
    with pytest.raises(ClassFoldersError, match=r"'test' split.*unexpected folder\(s\) unicorn"):
        load_cifar10("test", root)


def test_missing_class_in_archive_is_named(fake, tmp_path):
    """Is the class check the same for an archive?"""
    tree = fake.write_tree(tmp_path / "tree")
    for file in (tree / "test" / "dog").iterdir():
        file.unlink()
    (tree / "test" / "dog").rmdir()
    (tmp_path / "root").mkdir()
    with tarfile.open(tmp_path / "root" / "c.tar.gz", "w:gz") as archive:
        archive.add(tree / "test", arcname="test")
    with pytest.raises(ClassFoldersError, match=r"'test' split in .*c\.tar\.gz.*missing.*dog"):
        load_cifar10("test", tmp_path / "root")


def test_empty_class_folder_is_an_error(fake, tmp_path):
    """Does a class folder with no images fail naming that class?"""
    root = fake.write_tree(tmp_path)
    for file in (root / "test" / "frog").iterdir():
        file.unlink()
    with pytest.raises(ClassFoldersError, match=r"frog holds no images"):
        load_cifar10("test", root)


def test_wrong_image_size_names_the_file(fake, tmp_path):
    """Does a 33x32 image fail naming that file?"""
    root = fake.write_tree(tmp_path)
    bad = root / "train" / "ship" / "0001.png"
    Image.new("RGB", (33, 32)).save(bad)
    with pytest.raises(ImageSizeError, match=r"ship/0001\.png is 33x32 pixels"):
        load_cifar10("train", root)


def test_unreadable_image_names_the_file(fake, tmp_path):
    """Does a file that is no image fail naming that file?"""
    root = fake.write_tree(tmp_path)
    (root / "test" / "horse" / "0000.png").write_bytes(b"not a png")
    with pytest.raises(DataFormatError, match=r"horse/0000\.png is not a readable image"):
        load_cifar10("test", root)


def test_grayscale_images_become_rgb(fake, tmp_path):
    """Is a grayscale file read as three equal channels, as ImageFolder would?"""
    root = fake.write_tree(tmp_path)
    Image.new("L", (32, 32), color=77).save(root / "test" / "bird" / "0000.png")
    loaded = load_cifar10("test", root)
    assert (loaded.images[2] == 77).all()  # bird's first file is the third image


def test_batches_of_another_dataset_are_refused(fake, tmp_path):
    """Is a batches folder whose batches.meta names other classes refused?"""
    root = fake.write_batches(tmp_path)
    meta = {"label_names": [f"class{i}" for i in range(10)]}
    (root / "cifar-10-batches-py" / "batches.meta").write_bytes(pickle.dumps(meta))
    with pytest.raises(DataFormatError, match="does not describe CIFAR-10"):
        load_cifar10("train", root)


def test_incomplete_batches_folder_names_the_missing_file(fake, tmp_path):
    """Does a batches folder without data_batch_3 fail naming the missing file?"""
    root = fake.write_batches(tmp_path)
    (root / "cifar-10-batches-py" / "data_batch_3").unlink()
    with pytest.raises(DataFormatError, match="data_batch_3 is missing"):
        load_cifar10("train", root)


def test_download_uses_torchvision_and_reads_the_batches(fake, tmp_path, monkeypatch):
    """With download=True and nothing found, is torchvision's CIFAR10 asked to download?"""
    calls = []

    class FakeCIFAR10:
        def __init__(self, root, train, download):
            calls.append((root, train, download))
            fake.write_batches(tmp_path / "new-root")

    monkeypatch.setattr("torchvision.datasets.CIFAR10", FakeCIFAR10)
    loaded = load_cifar10("train", tmp_path / "new-root", download=True)
    assert calls == [(str(tmp_path / "new-root"), True, True)]
    _assert_same(loaded, fake, "train")
    load_cifar10("test", tmp_path / "new-root", download=True)
    assert len(calls) == 1  # found this time: no second download


def test_failed_download_says_what_to_do(tmp_path, monkeypatch):
    """Does a download that fails (offline) say so and point to EDU_DATA_ROOT?"""

    class Offline:
        def __init__(self, *args, **kwargs):
            raise OSError("<urlopen error [Errno -3] Temporary failure in name resolution>")

    monkeypatch.setattr("torchvision.datasets.CIFAR10", Offline)
    with pytest.raises(DataNotFoundError, match=r"downloading CIFAR-10 .* failed.*EDU_DATA_ROOT"):
        load_cifar10("test", tmp_path, download=True)


def test_class_names_are_the_sorted_folder_names():
    """Are the ten class names sorted, as ImageFolder orders its folders?"""
    assert list(CIFAR10_CLASSES) == sorted(CIFAR10_CLASSES)
    assert len(CIFAR10_CLASSES) == 10
