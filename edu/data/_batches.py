"""The original CIFAR-10: torchvision's ``cifar-10-batches-py/`` folder of pickled batches.

This is the "CIFAR-10 python version" from https://www.cs.toronto.edu/~kriz/cifar.html,
as ``torchvision.datasets.CIFAR10(root, download=True)`` unpacks it:
``data_batch_1`` ... ``data_batch_5`` (10,000 training images each), ``test_batch`` and
``batches.meta`` (the class names). Each batch is a pickled dict with ``data`` (uint8,
shape (10000, 3072): the R, G, B planes of 32x32 pixels, row-major) and ``labels``.

Security note: these files are pickles, because that is the format the dataset is
distributed in, and unpickling a file with plain :func:`pickle.load` (as torchvision
does) can run any code the file names. They are read here with a restricted
unpickler instead: the only globals it resolves are the few that the genuine batches
(Python 2 pickles of dicts, lists, strings and numpy arrays) and Python 3 re-pickles
of them refer to, namely numpy's ``_reconstruct``, ``ndarray`` and ``dtype`` and a
latin-1-only ``_codecs.encode``. A file naming any other (``os.system``, ``print``,
...) is refused with a :class:`DataFormatError` before anything is called.
"""

from __future__ import annotations

import importlib
import pickle
from collections.abc import Callable, Mapping
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


def _numpy_reconstruct() -> Callable[..., np.ndarray]:
    """numpy's ``multiarray._reconstruct``, imported where this numpy keeps it."""
    for module in ("numpy._core.multiarray", "numpy.core.multiarray"):  # numpy >= 2, < 2
        try:
            return importlib.import_module(module)._reconstruct
        except (ImportError, AttributeError):
            continue
    raise ImportError("numpy's multiarray._reconstruct was not found")  # pragma: no cover


def _latin1_encode(text: str, encoding: str) -> bytes:
    """``_codecs.encode`` restricted to what a protocol-2 pickle of ``bytes`` calls.

    Python 3 pickles ``bytes`` with protocol 2 as ``_codecs.encode(text, "latin1")``
    (the fixture's fake batches are written that way); any other codec is refused.
    """
    if encoding != "latin1" or not isinstance(text, str):
        raise pickle.UnpicklingError(
            f"_codecs.encode is allowed only as encode(str, 'latin1'), got encoding {encoding!r}"
        )
    return text.encode("latin1")


_RECONSTRUCT = _numpy_reconstruct()

_ALLOWED_GLOBALS: Mapping[tuple[str, str], Any] = MappingProxyType(
    {
        # Every numpy array: _reconstruct(ndarray, (0,), b"b") then __setstate__.
        ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,  # genuine files, numpy < 2
        ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,  # written by numpy >= 2
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        # The raw bytes of an array in a protocol-2 pickle written by Python 3.
        ("_codecs", "encode"): _latin1_encode,
    }
)
"""The globals a CIFAR-10 batch may refer to, by ``(module, name)`` as the pickle
spells them. Dicts, lists, strings and numbers need none (they have opcodes)."""


class _BatchUnpickler(pickle.Unpickler):
    """Unpickles only what CIFAR-10 batches hold; refuses any other global.

    ``find_class`` is the one place where a pickle turns a name into a callable, so
    refusing names there means no code outside :data:`_ALLOWED_GLOBALS` can run.
    Strings of Python 2 pickles are decoded as latin-1, as torchvision does.
    """

    def __init__(self, file: Any, path: Path) -> None:
        super().__init__(file, encoding="latin1")
        self._path = path

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise DataFormatError(
                f"{self._path} is not a CIFAR-10 batch file: its pickle refers to "
                f"{module}.{name}, which no CIFAR-10 batch needs, so it was not loaded "
                "(unpickling it could run code); use the copy downloaded by "
                "torchvision (download=True / --download)"
            ) from None


def _unpickle(path: Path) -> Any:
    """The object pickled in ``path``, read with :class:`_BatchUnpickler`.

    Raises
    ------
    DataFormatError
        If the file is missing, refers to a global that a batch never needs (the
        message names the file and the global), or is not a readable pickle.
    """
    try:
        with path.open("rb") as file:
            return _BatchUnpickler(file, path).load()
    except FileNotFoundError:
        raise DataFormatError(
            f"{path.parent} is incomplete: {path.name} is missing; delete the folder and "
            "download it again (download=True / --download)"
        ) from None
    except (DataFormatError, OSError):
        raise
    except Exception as exc:  # a malformed pickle raises many types; all mean "unreadable"
        raise DataFormatError(f"{path} is not a readable CIFAR-10 batch file: {exc!r}") from exc


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
