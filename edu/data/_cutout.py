"""Cutout: a square of every training image set to the data's mean, at a random place.

DeVries and Taylor (2017, "Improved Regularization of Convolutional Neural Networks
with Cutout") mask one ``size`` x ``size`` square per image, centred on a uniformly
random pixel and clipped where it runs past the border (so near a corner less than
the square is masked), after normalization, so that the masked pixels are 0: the
per-channel mean. A network can then not rely on any one region of an object; on
CIFAR-10 they use ``size = 16``. For even sizes the square is their code's; for odd ones
their code masks ``size - 1`` rows and columns, this one ``size``.
:class:`edu.data.BatchLoader` applies it to a whole batch at once (``cutout=``).
"""

from __future__ import annotations

import torch

__all__ = ["cutout"]


def cutout(
    x: torch.Tensor, centre_row: torch.Tensor, centre_col: torch.Tensor, size: int
) -> torch.Tensor:
    """Set a ``size`` x ``size`` square of every image to 0, in place, and return ``x``.

    In place because it runs on every training batch, which the loader has just made
    and nothing else holds.

    Parameters
    ----------
    x : torch.Tensor of shape (B, C, H, W)
        Normalized images (0 is the per-channel mean), contiguous or ``channels_last``.
    centre_row, centre_col : torch.Tensor of shape (B,), integer, on ``x``'s device
        The square's centre in each image, ``0 <= centre_row < H``, ``0 <= centre_col < W``.
    size : int
        The square's side; rows ``centre_row - size // 2`` to ``centre_row - size // 2 +
        size - 1`` (and the same for columns), clipped to the image.

    Returns
    -------
    torch.Tensor
        ``x``, masked.

    Examples
    --------
    >>> x = torch.ones(1, 1, 4, 4)
    >>> cutout(x, torch.tensor([0]), torch.tensor([3]), 2)[0, 0].tolist()
    [[1.0, 1.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0]]
    """
    height, width = x.shape[-2:]
    first_row = (centre_row - size // 2)[:, None]
    first_col = (centre_col - size // 2)[:, None]
    rows = torch.arange(height, device=x.device)[None, :]
    cols = torch.arange(width, device=x.device)[None, :]
    in_rows = (rows >= first_row) & (rows < first_row + size)  # (B, H)
    in_cols = (cols >= first_col) & (cols < first_col + size)  # (B, W)
    square = in_rows[:, None, :, None] & in_cols[:, None, None, :]  # (B, 1, H, W)
    return x.masked_fill_(square, 0.0)
