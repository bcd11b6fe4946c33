"""The errors of :mod:`edu.data`: data not found, or found but not CIFAR-10 as expected.

Every message names the file or folder concerned and says how to fix it, because the
reader is often a student whose first run fails on a machine set up by someone else.
"""

from __future__ import annotations

__all__ = [
    "ClassFoldersError",
    "CorruptArchiveError",
    "DataFormatError",
    "DataNotFoundError",
    "ImageSizeError",
]


class DataNotFoundError(FileNotFoundError):
    """No CIFAR-10 in any of the places looked in (the message lists them)."""


class DataFormatError(ValueError):
    """CIFAR-10 data was found but cannot be read as CIFAR-10."""


class CorruptArchiveError(DataFormatError):
    """A ``.tar.gz`` in the data root is not a valid gzip-compressed tar archive."""


class ClassFoldersError(DataFormatError):
    """A split's class folders are not exactly the ten CIFAR-10 classes."""


class ImageSizeError(DataFormatError):
    """An image is not 32x32 pixels."""
