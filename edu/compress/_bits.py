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


_CHUNK = 1 << 16
"""Integers decoded at a time: a multiple of 8, so that every chunk starts on a byte."""


def unpack_uint(data: bytes, count: int, width: int) -> np.ndarray:
    """Inverse of :func:`pack_uint`: ``count`` integers of ``width`` bits from ``data``.

    ``data`` must be exactly :func:`packed_size` bytes long (the caller checks the
    declared count against the file). The result takes 8 bytes per integer; the work
    beyond it is bounded by one chunk of :data:`_CHUNK` integers, whatever ``count``
    is, so a file cannot make the reader allocate much more than its result.

    Examples
    --------
    >>> unpack_uint(bytes.fromhex("6c"), 3, 2)
    array([1, 2, 3])
    >>> unpack_uint(bytes([1, 0, 255]), 3, 8)
    array([  1,   0, 255])
    """
    if len(data) != packed_size(count, width):
        raise ValueError(f"{count} values of {width} bits need {packed_size(count, width)} bytes")
    if width in (8, 16):  # whole bytes: big-endian integers as they are
        return np.frombuffer(data, dtype=f">u{width // 8}").astype(np.int64)
    out = np.empty(count, dtype=np.int64)
    weights = np.int64(1) << np.arange(width - 1, -1, -1, dtype=np.int64)
    for first in range(0, count, _CHUNK):
        n = min(_CHUNK, count - first)
        chunk = data[first * width // 8 : (first * width + n * width + 7) // 8]
        bits = np.unpackbits(np.frombuffer(chunk, dtype=np.uint8), count=n * width)
        out[first : first + n] = bits.reshape(n, width) @ weights
    return out
