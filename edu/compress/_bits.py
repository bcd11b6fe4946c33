"""Unsigned integers packed at a fixed bit width, most significant bit first.

The codes of quantized weights (``N`` bits each) and the relative indices of their
positions are stored this way: ``count`` integers of ``width`` bits take
``ceil(count * width / 8)`` bytes, the last byte padded with zero bits.
"""

from __future__ import annotations

import numpy as np

__all__ = ["pack_uint", "packed_size", "unpack_uint", "width_for"]


def packed_size(count: int, width: int) -> int:
    """Bytes that ``count`` integers of ``width`` bits take: ``ceil(count * width / 8)``."""
    return (count * width + 7) // 8


def width_for(levels: int) -> int:
    """Bits needed to tell ``levels`` values apart: ``ceil(log2(levels))``, 0 for one or none."""
    return max(int(levels) - 1, 0).bit_length()


def pack_uint(values: np.ndarray, width: int) -> bytes:
    """Pack non-negative integers below ``2**width`` into :func:`packed_size` bytes.

    Parameters
    ----------
    values : np.ndarray of shape (count,)
        Integers in ``[0, 2**width)``.
    width : int
        Bits per integer, 0 to 32 (0 packs to no bytes).

    Returns
    -------
    bytes
        The bits of each integer, most significant first, one integer after the other.

    Examples
    --------
    >>> pack_uint(np.array([1, 2, 3]), 2).hex()  # 01 10 11 + two padding bits
    '6c'
    """
    values = np.asarray(values, dtype=np.int64)
    if values.size and (values.min() < 0 or values.max() >= 1 << width):
        raise ValueError(f"values must lie in [0, 2**{width}) to be packed at {width} bits")
    shifts = np.arange(width - 1, -1, -1, dtype=np.int64)
    bits = ((values[:, None] >> shifts) & 1).astype(np.uint8)
    return np.packbits(bits.ravel()).tobytes()


def unpack_uint(data: bytes, count: int, width: int) -> np.ndarray:
    """Inverse of :func:`pack_uint`: ``count`` integers of ``width`` bits from ``data``.

    ``data`` must be exactly :func:`packed_size` bytes long (the caller checks it
    against the file, so that a declared count cannot make this allocate more than
    eight bytes per byte read).

    Examples
    --------
    >>> unpack_uint(bytes.fromhex("6c"), 3, 2)
    array([1, 2, 3])
    """
    if len(data) != packed_size(count, width):
        raise ValueError(f"{count} values of {width} bits need {packed_size(count, width)} bytes")
    bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8), count=count * width)
    shifts = np.arange(width - 1, -1, -1, dtype=np.int64)
    return (bits.reshape(count, width).astype(np.int64) << shifts).sum(axis=1)
