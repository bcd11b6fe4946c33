"""``load_cifar10``: one split of CIFAR-10 as uint8 tensors, from whatever form is at hand.

A data root may hold any of three forms, tried in this order:

1. torchvision's ``cifar-10-batches-py/`` folder (the original pickled batches);
2. an image-folder tree ``train/<class>/*``, ``test/<class>/*``, in the root or in one
   of its subfolders;
3. a ``.tar.gz`` (or ``.tgz``) of such a tree in the root, read without extracting it
   (the course machines' ``cifar10-jpeg.tar.gz``).

Image files are decoded once and the tensors cached (:mod:`edu.data._cache`); the
batches are already pixels and load in well under a second, so they are not cached.
"""

from __future__ import annotations

import os
from pathlib import Path

from edu.data._batches import BATCHES_FOLDER, find_batches, read_batches
from edu.data._cache import cache_file, load_cached, save_cached
from edu.data._cifar10 import CIFAR10Tensors, check_split, take
from edu.data._errors import DataNotFoundError
from edu.data._images import (
    find_archives,
    find_tree,
    list_tree,
    read_archive,
    read_tree,
    tree_identity,
)
from edu.data._paths import DATA_ROOT_ENV, resolve_data_root, user_cache_home
from edu.data._source import archive_source, batches_source, tree_source

__all__ = ["load_cifar10"]


def load_cifar10(
    split: str,
    root: str | os.PathLike[str] | None = None,
    *,
    download: bool = False,
    cache: bool = True,
    limit: int | None = None,
) -> CIFAR10Tensors:
    """Load the ``"train"`` or ``"test"`` split of CIFAR-10 as uint8 tensors.

    Parameters
    ----------
    split : {"train", "test"}
    root : str or path-like, optional
        The data root (a folder, or a ``.tar.gz`` file); default: ``$EDU_DATA_ROOT``,
        then the per-user folder (see :func:`edu.data.find_data_root`).
    download : bool, default False
        If no CIFAR-10 is found, download the original into the root through
        ``torchvision.datasets.CIFAR10(root, download=True)`` (which shows a progress
        bar; needs internet access) and read that.
    cache : bool, default True
        Read and write the decoded-tensor cache (in ``$EDU_CACHE_DIR``, default
        ``~/.cache/edu/cifar10``) when the source is image files.
    limit : int, optional
        Keep only the first ``limit`` images (:func:`edu.data.take`); smoke runs use it.

    Returns
    -------
    CIFAR10Tensors
        ``images`` uint8 (N, 3, 32, 32), ``labels`` int64 (N,), ``source``.

    Raises
    ------
    ValueError
        If ``split`` is not ``"train"`` or ``"test"``.
    DataNotFoundError
        If the root holds none of the three forms (the message lists where and what was
        looked for, and how to fix it), or an explicit root does not exist.
    DataFormatError
        Its subclasses :class:`CorruptArchiveError` (a tar.gz that is not one),
        :class:`ClassFoldersError` (missing or unexpected class folders) and
        :class:`ImageSizeError` (an image not 32x32), or a malformed batches folder.

    Notes
    -----
    Label ``c`` is the ``c``-th class folder name in sorted order, which must be
    exactly :data:`CIFAR10_CLASSES` (the batches' ``batches.meta`` must list the same).

    The order of the images: the batches give file order (``data_batch_1`` ... ``_5``),
    which is the dataset's own random order. Image trees and archives give the files of
    each class sorted by name, *class-interleaved*: the first file of every class, then
    the second of every class, and so on (:func:`edu.data.class_interleaved`). So a
    folder and its archive load identically, and any prefix (``limit``) is
    class-balanced. (``torchvision.datasets.ImageFolder`` lists class by class instead.)

    Decoding the 60,000 JPEGs of ``cifar10-jpeg.tar.gz`` takes a few seconds, once; the
    cache file is keyed by the source's path, and checked against its size and
    modification time (every file's, for a folder), so a changed source is decoded
    again. A corrupt or stale cache file is rebuilt silently.

    Examples
    --------
    >>> test = load_cifar10("test")  # doctest: +SKIP
    >>> test.images.shape, test.labels.shape  # doctest: +SKIP
    (torch.Size([10000, 3, 32, 32]), torch.Size([10000]))
    """
    check_split(split)
    data_root, origin = resolve_data_root(root, create=download)
    skipped: list[str] = []
    tensors = _load_from(data_root, split, cache=cache, skipped=skipped)
    if tensors is None and download:
        _download(data_root, split)
        skipped.clear()
        tensors = _load_from(data_root, split, cache=cache, skipped=skipped)
    if tensors is None:
        raise DataNotFoundError(_not_found_message(data_root, origin, split, root, skipped))
    return take(tensors, limit)


def _load_from(root: Path, split: str, *, cache: bool, skipped: list[str]) -> CIFAR10Tensors | None:
    """The split from the first of the three forms found in ``root``, or None."""
    batches = find_batches(root)
    if batches is not None:
        images, labels = read_batches(batches, split)
        return CIFAR10Tensors(images, labels, batches_source(batches, split))

    tree = find_tree(root, split)
    if tree is not None:
        files = list_tree(tree, split)
        identity = f"tree:{tree_identity(files)}"
        path = cache_file(tree.parent, split)
        cached = load_cached(path, identity) if cache else None
        if cached is not None:
            return cached
        tensors = CIFAR10Tensors(*read_tree(files), tree_source(tree))
        if cache:
            save_cached(path, tensors, identity)
        return tensors

    for archive in find_archives(root):
        stat = archive.stat()
        identity = f"archive:{stat.st_size}:{stat.st_mtime_ns}"
        path = cache_file(archive, split)
        cached = load_cached(path, identity) if cache else None
        if cached is not None:
            return cached
        result = read_archive(archive, split)
        if result is None:
            skipped.append(f"{archive.name} (no {split}/<class>/ tree inside)")
            continue
        images, labels, prefix = result
        where = f"{prefix}/{split}/" if prefix else f"{split}/"
        tensors = CIFAR10Tensors(images, labels, archive_source(archive, where))
        if cache:
            save_cached(path, tensors, identity)
        return tensors
    return None


def _download(root: Path, split: str) -> None:
    """Download the original CIFAR-10 into ``root/cifar-10-batches-py`` via torchvision."""
    from torchvision.datasets import CIFAR10  # only needed here, and only online

    if not root.is_dir():
        raise DataNotFoundError(f"cannot download CIFAR-10 into {root}: it is not a folder")
    try:
        CIFAR10(str(root), train=split == "train", download=True)
    except OSError as exc:  # URLError, timeouts, a full disk
        raise DataNotFoundError(
            f"downloading CIFAR-10 into {root} failed ({exc}); without internet access, "
            f"set {DATA_ROOT_ENV} to a folder holding a copy such as cifar10-jpeg.tar.gz"
        ) from exc


def _not_found_message(
    data_root: Path,
    origin: str,
    split: str,
    root: str | os.PathLike[str] | None,
    skipped: list[str],
) -> str:
    env = os.environ.get(DATA_ROOT_ENV)
    archives = f"; archives looked in: {', '.join(skipped)}" if skipped else ""
    return "\n".join(
        [
            f"CIFAR-10 ({split!r} split) was not found in {data_root} (chosen from {origin}).",
            "Looked for, in this order:",
            f"  1. torchvision's {BATCHES_FOLDER}/ folder (with batches.meta) in {data_root}",
            f"  2. an image-folder tree {split}/<class>/* in {data_root} or a subfolder of it",
            f"  3. a .tar.gz or .tgz of such a tree in {data_root}{archives}",
            "The data root is the first one given of: the root argument / --data-root "
            f"({'given: ' + str(root) if root is not None else 'not given'}), "
            f"${DATA_ROOT_ENV} ({'= ' + env if env else 'not set'}), "
            f"the per-user data folder ({user_cache_home() / 'data'}).",
            "To fix it: with internet access, pass download=True (--download on the command "
            f"line) to download the original CIFAR-10 into {data_root}; or set "
            f"{DATA_ROOT_ENV} (or pass --data-root) to a folder holding cifar10-jpeg.tar.gz, "
            f"{BATCHES_FOLDER}/, or train/ and test/ class folders.",
        ]
    )
