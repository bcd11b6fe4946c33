"""CIFAR-10 as image files: a ``train/<class>/*``, ``test/<class>/*`` tree, or a tar.gz of one.

Both give the same tensors: files are decoded with Pillow (the decoder behind
``torchvision.datasets.ImageFolder``), the label is the position of the class folder's
name in sorted order, and the images come class-interleaved (see
:func:`class_interleaved`). A tar.gz is read member by member without extracting it.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
import zlib
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import TypeVar

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from edu.data._cifar10 import CIFAR10_CLASSES
from edu.data._errors import ClassFoldersError, CorruptArchiveError, DataFormatError, ImageSizeError

__all__ = [
    "IMAGE_EXTENSIONS",
    "class_interleaved",
    "decode_images",
    "find_archives",
    "find_tree",
    "list_tree",
    "read_archive",
    "read_tree",
    "tree_identity",
]

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".ppm", ".pgm", ".tif", ".tiff", ".webp")
"""The file names counted as images (torchvision's ``IMG_EXTENSIONS``); others are skipped."""

_T = TypeVar("_T")

# What a damaged gzip or tar stream raises while it is read.
_ARCHIVE_ERRORS = (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile)


def _is_image_name(name: str) -> bool:
    return not name.startswith(".") and name.lower().endswith(IMAGE_EXTENSIONS)


def check_class_folders(found: Sequence[str], split: str, where: str) -> None:
    """Raise :class:`ClassFoldersError` unless ``found`` is exactly the CIFAR-10 classes."""
    missing = sorted(set(CIFAR10_CLASSES) - set(found))
    unexpected = sorted(set(found) - set(CIFAR10_CLASSES))
    if missing or unexpected:
        problems = []
        if missing:
            problems.append(f"missing class folder(s) {', '.join(missing)}")
        if unexpected:
            problems.append(f"unexpected folder(s) {', '.join(unexpected)}")
        raise ClassFoldersError(
            f"the {split!r} split in {where} does not have the ten CIFAR-10 class folders: "
            f"{'; '.join(problems)} (expected exactly {', '.join(CIFAR10_CLASSES)})"
        )


def class_interleaved(per_class: Sequence[Sequence[_T]]) -> list[tuple[_T, int]]:
    """Items of every class, round-robin: class 0's first, class 1's first, ..., then seconds.

    Parameters
    ----------
    per_class : sequence of sequences
        ``per_class[c]`` are the items of class ``c``, each already sorted by file name.

    Returns
    -------
    list of (item, label)

    Notes
    -----
    ``torchvision.datasets.ImageFolder`` lists a tree class by class, so its first
    5,000 training images are all airplanes. Interleaving makes every prefix
    class-balanced, like the original CIFAR-10 batches (whose order is random): a smoke
    run on ``images[:n]`` sees all ten classes. The order is still fixed by the file
    names alone, so a folder and its tar.gz load identically.

    Examples
    --------
    >>> class_interleaved([["a0", "a1"], ["b0"]])
    [('a0', 0), ('b0', 1), ('a1', 0)]
    """
    depth = max((len(items) for items in per_class), default=0)
    return [
        (items[k], label)
        for k in range(depth)
        for label, items in enumerate(per_class)
        if k < len(items)
    ]


def decode_images(blobs: Sequence[bytes], names: Sequence[str]) -> torch.Tensor:
    """Decode encoded images (JPEG, PNG, ...) with Pillow into one uint8 tensor.

    Parameters
    ----------
    blobs : sequence of bytes
        The files' contents.
    names : sequence of str
        The files' names, for error messages.

    Returns
    -------
    torch.Tensor of shape (N, 3, 32, 32), dtype uint8, contiguous

    Raises
    ------
    ImageSizeError
        If an image is not 32x32 (the message names the file).
    DataFormatError
        If a file is not a readable image.

    Notes
    -----
    Serial on purpose. Measured on 2 cores for 20,000 CIFAR JPEGs: 2.6 s serial, 3.2 s
    with 2 threads (Pillow holds the GIL for images this small), 1.4 s with 2 processes.
    The decode happens once per copy of the data (the result is cached), so the ~3 s a
    process pool would save once did not justify forking a process that runs torch.
    (``torchvision.io.decode_jpeg`` on a list took 0.5 s, with identical pixels, but
    torchvision deprecated its image decoders in 0.29.)
    Grayscale or palette images are converted to RGB, as ``ImageFolder`` does.
    """
    out = np.empty((len(blobs), 32, 32, 3), dtype=np.uint8)
    for i, (blob, name) in enumerate(zip(blobs, names, strict=True)):
        try:
            with Image.open(io.BytesIO(blob)) as image:
                if image.size != (32, 32):
                    width, height = image.size
                    raise ImageSizeError(
                        f"{name} is {width}x{height} pixels; CIFAR-10 images are 32x32"
                    )
                out[i] = np.asarray(image if image.mode == "RGB" else image.convert("RGB"))
        except (UnidentifiedImageError, OSError, SyntaxError) as exc:
            raise DataFormatError(f"{name} is not a readable image: {exc}") from exc
    return torch.from_numpy(out).permute(0, 3, 1, 2).contiguous()


def _to_tensors(
    ordered: list[tuple[bytes, int]], names: list[str]
) -> tuple[torch.Tensor, torch.Tensor]:
    images = decode_images([blob for blob, _ in ordered], names)
    labels = torch.tensor([label for _, label in ordered], dtype=torch.int64)
    return images, labels


# ---------------------------------------------------------------- image-folder tree


def find_tree(root: Path, split: str) -> Path | None:
    """``root/<split>`` or ``root/<sub>/<split>`` (first subfolder by name), if a folder."""
    if not root.is_dir():
        return None
    candidates = [root]
    candidates += sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    for candidate in candidates:
        if (candidate / split).is_dir():
            return candidate / split
    return None


def list_tree(split_dir: Path, split: str) -> list[tuple[Path, int]]:
    """The image files of ``split_dir/<class>/``, class-interleaved, with their labels.

    Raises
    ------
    ClassFoldersError
        If the class folders are not exactly the ten CIFAR-10 classes, or one is empty.
    """
    folders = sorted(p.name for p in split_dir.iterdir() if p.is_dir() and p.name[0] != ".")
    check_class_folders(folders, split, str(split_dir.parent))
    per_class = []
    for name in CIFAR10_CLASSES:
        files = sorted(
            (p for p in (split_dir / name).iterdir() if _is_image_name(p.name)),
            key=lambda p: p.name,
        )
        if not files:
            raise ClassFoldersError(f"the class folder {split_dir / name} holds no images")
        per_class.append(files)
    return class_interleaved(per_class)


def tree_identity(files: Sequence[tuple[Path, int]]) -> str:
    """A digest of every file's name, size and modification time (for the cache key)."""
    digest = hashlib.sha256()
    for path, label in files:
        stat = path.stat()
        digest.update(f"{path}|{label}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def read_tree(files: Sequence[tuple[Path, int]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Read and decode the files listed by :func:`list_tree`: ``(images, labels)``."""
    ordered = [(path.read_bytes(), label) for path, label in files]
    return _to_tensors(ordered, [str(path) for path, _ in files])


# ---------------------------------------------------------------- tar.gz of a tree


def find_archives(root: Path) -> list[Path]:
    """The ``*.tar.gz`` and ``*.tgz`` files in ``root`` by name (or ``root`` if it is one)."""
    if root.is_file():
        return [root]
    if not root.is_dir():
        return []
    return sorted(
        p
        for p in root.iterdir()
        if p.is_file() and (p.name.endswith(".tar.gz") or p.name.endswith(".tgz"))
    )


def _split_member(name: str, split: str) -> tuple[str, list[str]] | None:
    """``(prefix, [class, ...rest])`` if ``name`` lies under ``[prefix/]<split>/``."""
    parts = [part for part in PurePosixPath(name).parts if part not in ("/", ".")]
    for depth in (0, 1):  # the tree in the archive's top level, or one folder down
        if len(parts) > depth + 1 and parts[depth] == split:
            return "/".join(parts[:depth]), parts[depth + 1 :]
    return None


def read_archive(path: Path, split: str) -> tuple[torch.Tensor, torch.Tensor, str] | None:
    """Decode the ``[prefix/]<split>/<class>/*`` members of the tar.gz at ``path``.

    Returns
    -------
    (images, labels, prefix) or None
        None when the archive has no ``<split>/`` tree (at its top or one folder down);
        ``prefix`` is the folder the tree is in (``""`` at the top).

    Raises
    ------
    CorruptArchiveError
        If the file is not a valid gzip-compressed tar archive (or is truncated).
    ClassFoldersError
        If the tree's class folders are not exactly the ten CIFAR-10 classes.

    Notes
    -----
    The archive is streamed once (mode ``"r|gz"``) and only the split's files are kept
    in memory (about 45 MB of JPEGs for the training split).
    """
    # per prefix: the class folders seen, and (class, file name) -> contents
    folders: dict[str, set[str]] = {}
    files: dict[str, dict[tuple[str, str], bytes]] = {}
    try:
        with tarfile.open(path, mode="r|gz") as archive:
            for member in archive:
                found = _split_member(member.name, split)
                if found is None:
                    continue
                prefix, rest = found
                if rest[0].startswith("."):
                    continue
                folders.setdefault(prefix, set()).add(rest[0])
                if member.isfile() and len(rest) == 2 and _is_image_name(rest[1]):
                    extracted = archive.extractfile(member)
                    assert extracted is not None
                    files.setdefault(prefix, {})[(rest[0], rest[1])] = extracted.read()
    except _ARCHIVE_ERRORS as exc:
        raise CorruptArchiveError(
            f"{path} is not a valid tar.gz archive ({type(exc).__name__}: {exc}); "
            "replace it with a good copy (or remove it from the data folder)"
        ) from exc
    if not folders:
        return None
    prefix = min(folders)  # "" (the top level) first, then by name
    where = f"{path}:{prefix + '/' if prefix else ''}"
    check_class_folders(sorted(folders[prefix]), split, where)
    contents = files.get(prefix, {})
    per_class = []
    for name in CIFAR10_CLASSES:
        keys = sorted(key for key in contents if key[0] == name)
        if not keys:
            raise ClassFoldersError(f"the class folder {where}{split}/{name}/ holds no images")
        per_class.append(keys)
    ordered = class_interleaved(per_class)
    images, labels = _to_tensors(
        [(contents[key], label) for key, label in ordered],
        [f"{where}{split}/{key[0]}/{key[1]}" for key, _ in ordered],
    )
    return images, labels, prefix
