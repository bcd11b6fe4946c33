"""What a split was read from, said two ways: where on this machine, and what it is anywhere.

:attr:`edu.data.CIFAR10Tensors.source` names the resolved path it was read from, so
that a user can see which copy a run used. Metadata that travels with a result (the
shipped pretrained model, the lab tables) must not carry a path of the machine that
made it: :func:`describe_source` turns the same text into the file or folder's name
and a SHA-256 of its bytes, which identify the data on any machine.

The three phrasings are made here and read back here, so they cannot drift apart.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["archive_source", "batches_source", "describe_source", "tree_source"]

_ARCHIVE = "image archive"
_BATCHES = "CIFAR-10 python batches"
_TREE = "image folder"
_PATTERN = re.compile(rf"^(?P<form>{_ARCHIVE}|{_BATCHES}|{_TREE}) (?P<path>.+?)(?P<rest>, .*)?$")


def archive_source(archive: Path, where: str) -> str:
    """``"image archive /abs/cifar10-jpeg.tar.gz, test/"``: a split read from a tar.gz."""
    return f"{_ARCHIVE} {archive.resolve()}, {where}"


def batches_source(folder: Path, split: str) -> str:
    """``"CIFAR-10 python batches /abs/cifar-10-batches-py, test"``: torchvision's batches."""
    return f"{_BATCHES} {folder.resolve()}, {split}"


def tree_source(split_dir: Path) -> str:
    """``"image folder /abs/data/test"``: a split read from an image-folder tree."""
    return f"{_TREE} {split_dir.resolve()}"


def _sha256(files: Iterable[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        with path.open("rb") as file:
            for block in iter(lambda: file.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def describe_source(source: str) -> dict[str, Any]:
    """The data behind ``source`` without the path of this machine.

    Parameters
    ----------
    source : str
        A :attr:`edu.data.CIFAR10Tensors.source` (``", first N images"`` may follow).

    Returns
    -------
    dict
        ``description``: the source with the path replaced by the file or folder's
        name; ``sha256``: of the archive's bytes, or of the batch files' bytes in
        sorted order, or ``None`` for an image-folder tree (thousands of files: its
        name and image count identify it) or for a source that no longer exists;
        ``sha256_of``: what was hashed.

    Examples
    --------
    >>> describe_source("demo")
    {'description': 'demo', 'sha256': None, 'sha256_of': None}
    >>> describe_source("image folder /nowhere/data/test")["description"]
    'image folder test'
    """
    match = _PATTERN.match(source)
    if match is None:
        return {"description": source, "sha256": None, "sha256_of": None}
    form, path = match["form"], Path(match["path"])
    description = f"{form} {path.name}{match['rest'] or ''}"
    sha256, of = None, None
    if form == _ARCHIVE and path.is_file():
        sha256, of = _sha256([path]), f"the file {path.name}"
    elif form == _BATCHES and path.is_dir():
        files = sorted(file for file in path.iterdir() if file.is_file())
        sha256 = _sha256(files)
        of = f"the files of {path.name} in name order ({', '.join(f.name for f in files)})"
    return {"description": description, "sha256": sha256, "sha256_of": of}
