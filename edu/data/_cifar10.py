"""CIFAR-10's constants and the tensors it loads into: :class:`CIFAR10Tensors`.

CIFAR-10 (Krizhevsky, 2009, "Learning Multiple Layers of Features from Tiny Images")
has 50,000 training and 10,000 test RGB images of 32x32 pixels in 10 classes.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

__all__ = [
    "CIFAR10_CLASSES",
    "CIFAR10_MEAN",
    "CIFAR10_STD",
    "IMAGE_SHAPE",
    "SPLITS",
    "CIFAR10Tensors",
    "check_split",
    "take",
]

CIFAR10_CLASSES: tuple[str, ...] = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
"""The class names in label order (sorted, as the image-folder trees name them)."""

CIFAR10_MEAN: tuple[float, float, float] = (0.4914, 0.4822, 0.4465)
"""Per-channel (R, G, B) mean of the training images on the 0..1 scale."""

CIFAR10_STD: tuple[float, float, float] = (0.2470, 0.2435, 0.2616)
"""Per-channel (R, G, B) standard deviation of the training pixels on the 0..1 scale."""

IMAGE_SHAPE: tuple[int, int, int] = (3, 32, 32)
"""Channels, height, width of one image."""

SPLITS: tuple[str, ...] = ("train", "test")


def check_split(split: str) -> str:
    """Return ``split`` if it is ``"train"`` or ``"test"``; raise ``ValueError`` otherwise."""
    if split not in SPLITS:
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    return split


@dataclass(frozen=True, eq=False)  # == on tensors is elementwise: compare fields instead
class CIFAR10Tensors:
    """One split of CIFAR-10 as two tensors, and where it came from.

    Attributes
    ----------
    images : torch.Tensor of shape (N, 3, 32, 32), dtype uint8, contiguous
        The pixels, 0..255, channels R, G, B.
    labels : torch.Tensor of shape (N,), dtype int64
        Class indices 0..9 into :data:`CIFAR10_CLASSES`.
    source : str
        What was read, e.g. ``"image archive /data/cifar10-jpeg.tar.gz, train/"``.

    Notes
    -----
    The images stay uint8 (1 byte per value) rather than float32: the training split
    is 154 MB instead of 614 MB, so it fits on any GPU and moves there once, and the
    conversion to float happens per batch, fused with normalization
    (:class:`edu.data.BatchLoader`).
    """

    images: torch.Tensor
    labels: torch.Tensor
    source: str

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or tuple(self.images.shape[1:]) != IMAGE_SHAPE:
            raise ValueError(
                f"images must be uint8 of shape (N, 3, 32, 32), not {self.images.dtype} "
                f"of shape {tuple(self.images.shape)}"
            )
        if self.labels.dtype != torch.int64 or self.labels.shape != self.images.shape[:1]:
            raise ValueError(
                f"labels must be int64 of shape ({self.images.shape[0]},), not "
                f"{self.labels.dtype} of shape {tuple(self.labels.shape)}"
            )

    def __len__(self) -> int:
        return self.images.shape[0]


def take(tensors: CIFAR10Tensors, n: int | None) -> CIFAR10Tensors:
    """The first ``n`` images of ``tensors`` (all of them when ``n`` is None).

    Parameters
    ----------
    tensors : CIFAR10Tensors
    n : int or None
        How many images to keep; more than there are keeps them all.

    Returns
    -------
    CIFAR10Tensors
        Views of the first ``n`` images and labels; ``source`` says ``first n images``.

    Notes
    -----
    Smoke runs and tests train on a prefix. Every form :func:`edu.data.load_cifar10`
    reads gives a class-balanced prefix: the original batches are in random order, and
    image-folder trees are loaded class-interleaved (see its Notes), so the first 100
    images hold 10 of each class, not 100 airplanes.

    Examples
    --------
    >>> import torch
    >>> full = CIFAR10Tensors(
    ...     torch.zeros(5, 3, 32, 32, dtype=torch.uint8), torch.arange(5), "demo"
    ... )
    >>> small = take(full, 2)
    >>> len(small), small.source
    (2, 'demo, first 2 images')
    """
    if n is None or n >= len(tensors):
        return tensors
    if n < 0:
        raise ValueError(f"n must be >= 0, not {n}")
    return CIFAR10Tensors(
        tensors.images[:n], tensors.labels[:n], f"{tensors.source}, first {n} images"
    )
