"""The original CIFAR-10: torchvision's ``cifar-10-batches-py/`` folder of pickled batches.

This is the "CIFAR-10 python version" from https://www.cs.toronto.edu/~kriz/cifar.html,
as ``torchvision.datasets.CIFAR10(root, download=True)`` unpacks it:
``data_batch_1`` ... ``data_batch_5`` (10,000 training images each), ``test_batch`` and
``batches.meta`` (the class names). Each batch is a pickled dict with ``data`` (uint8,
shape (10000, 3072): the R, G, B planes of 32x32 pixels, row-major) and ``labels``.

Security note: these files are read with :mod:`pickle`, only because that is the
format the dataset is distributed in (torchvision reads it the same way). Unpickling
can run code, so only point the data root at a copy you trust (downloaded by
torchvision, which checks its MD5 sums).
"""

from __future__ import annotations

import pickle
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import torch

from edu.data._cifar10 import CIFAR10_CLASSES
from edu.data._errors import DataFormatError

__all__ = ["BATCHES_FOLDER", "SPLIT_FILES", "find_batches", "read_batches"]

BATCHES_FOLDER = "cifar-10-batches-py"
"""The folder name that torchvision's CIFAR10 downloads into."""

SPLIT_FILES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"train": tuple(f"data_batch_{i}" for i in range(1, 6)), "test": ("test_batch",)}
)
"""The batch files of each split, in the order they are concatenated."""


def find_batches(root: Path) -> Path | None:
    """``root/cifar-10-batches-py`` (or ``root`` itself) if it holds ``batches.meta``."""
    for folder in (root / BATCHES_FOLDER, root):
        if (folder / "batches.meta").is_file():
            return folder
    return None


def _unpickle(path: Path) -> Any:
    try:
        with path.open("rb") as file:
            return pickle.load(file, encoding="latin1")  # the dataset's own format
    except FileNotFoundError:
        raise DataFormatError(
            f"{path.parent} is incomplete: {path.name} is missing; delete the folder and "
            "download it again (download=True / --download)"
        ) from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as exc:
        raise DataFormatError(f"{path} is not a readable CIFAR-10 batch file: {exc}") from exc


def read_batches(folder: Path, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Read one split of a ``cifar-10-batches-py`` folder: ``(images, labels)``.

    Parameters
    ----------
    folder : Path
        The folder holding ``batches.meta`` and the batch files.
    split : {"train", "test"}

    Returns
    -------
    images : torch.Tensor of shape (N, 3, 32, 32), dtype uint8, contiguous
    labels : torch.Tensor of shape (N,), dtype int64
        In file order: ``data_batch_1`` to ``data_batch_5`` (or ``test_batch``), each
        in its stored order, as ``torchvision.datasets.CIFAR10`` gives them.

    Raises
    ------
    DataFormatError
        If ``batches.meta`` does not name the ten CIFAR-10 classes in order (CIFAR-100's
        folder, for instance), or a batch file is missing or malformed.
    """
    meta = _unpickle(folder / "batches.meta")
    names = tuple(meta.get("label_names", ())) if isinstance(meta, dict) else ()
    if names != CIFAR10_CLASSES:
        raise DataFormatError(
            f"{folder / 'batches.meta'} does not describe CIFAR-10: its label_names are "
            f"{list(names)}, expected {list(CIFAR10_CLASSES)}"
        )
    images, labels = [], []
    for name in SPLIT_FILES[split]:
        batch = _unpickle(folder / name)
        try:
            data = np.asarray(batch["data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
            batch_labels = np.asarray(batch["labels"], dtype=np.int64)
        except (KeyError, TypeError, ValueError) as exc:
            raise DataFormatError(
                f"{folder / name} is not a CIFAR-10 batch (a dict with 'data' of shape "
                f"(N, 3072) and N 'labels'): {exc!r}"
            ) from exc
        if batch_labels.shape != data.shape[:1] or not np.all(
            (batch_labels >= 0) & (batch_labels < len(CIFAR10_CLASSES))
        ):
            raise DataFormatError(f"{folder / name} has labels that do not match its images")
        images.append(torch.from_numpy(data))
        labels.append(torch.from_numpy(batch_labels))
    return torch.cat(images).contiguous(), torch.cat(labels)
