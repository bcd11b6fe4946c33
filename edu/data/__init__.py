"""CIFAR-10 for the course: loaded once as uint8 tensors, batched on the device.

- :func:`load_cifar10` reads one split from any of the forms CIFAR-10 comes in
  (torchvision's ``cifar-10-batches-py/``, an image-folder tree, a tar.gz of one),
  decodes image files once and caches the tensors;
- :func:`find_data_root` says where it looks: the ``root`` argument, ``$EDU_DATA_ROOT``,
  then ``~/.cache/edu/data``;
- :class:`BatchLoader` yields normalized float batches, shuffled with a random crop and
  flip per image for training (and, if asked, :func:`cutout`), with no per-image
  Python work;
- :func:`take` keeps the first ``n`` images (class-balanced, for smoke runs);
- :func:`describe_source` names the data a run read by file name and SHA-256, not by
  a path of the machine that ran it.

This module sits above the numerical core: nothing in :mod:`edu.sparse`,
:mod:`edu.prune`, :mod:`edu.quant` or :mod:`edu.models` imports it.
"""

from edu.data._cifar10 import (
    CIFAR10_CLASSES,
    CIFAR10_MEAN,
    CIFAR10_STD,
    CIFAR10Tensors,
    take,
)
from edu.data._cutout import cutout
from edu.data._errors import (
    ClassFoldersError,
    CorruptArchiveError,
    DataFormatError,
    DataNotFoundError,
    ImageSizeError,
)
from edu.data._images import class_interleaved
from edu.data._load import load_cifar10
from edu.data._loader import BatchLoader, crop_flip
from edu.data._paths import cache_dir, find_data_root
from edu.data._source import describe_source

__all__ = [
    "CIFAR10_CLASSES",
    "CIFAR10_MEAN",
    "CIFAR10_STD",
    "BatchLoader",
    "CIFAR10Tensors",
    "ClassFoldersError",
    "CorruptArchiveError",
    "DataFormatError",
    "DataNotFoundError",
    "ImageSizeError",
    "cache_dir",
    "class_interleaved",
    "crop_flip",
    "cutout",
    "describe_source",
    "find_data_root",
    "load_cifar10",
    "take",
]
