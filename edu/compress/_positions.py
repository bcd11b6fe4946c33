"""Where the non-zero weights of a tensor are: a bitmask or relative indices, the smaller.

A bitmask costs one bit per weight, whatever the sparsity. Relative indices (Han et
al., 2016, "Deep Compression", section 3) store, for each non-zero weight, the number
of zeros skipped since the previous one, at a fixed width of ``w`` bits; a gap of
``E = 2**w - 1`` zeros or more is covered by escape entries equal to ``E``, each
skipping ``E`` zeros and placing no weight. They win when the weights are sparse
enough. :func:`encode_positions` measures every option and keeps the smallest; a
tensor with no zero at all needs no positions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edu.compress._bits import pack_uint, packed_size, unpack_uint
from edu.compress._stream import CompressedFileError, Reader, Writer

__all__ = [
    "Positions",
    "bitmask_positions",
    "decode_positions",
    "encode_positions",
    "index_positions",
]

ALL, BITMASK, INDICES = 0, 1, 2
_KIND_NAMES = {ALL: "all", BITMASK: "bitmask", INDICES: "indices"}
_INDEX_HEADER = "<BI"  # width, number of entries
MAX_INDEX_WIDTH = 16


@dataclass(frozen=True)
class Positions:
    """The positions of the non-zero entries of a flat tensor, encoded one way.

    Attributes
    ----------
    kind : int
        ``ALL`` (every entry is non-zero, nothing stored), ``BITMASK`` or ``INDICES``.
    data : bytes
        The packed bitmask or relative indices.
    width : int
        Bits per relative index (0 unless ``kind`` is ``INDICES``).
    entries : int
        Number of relative indices, escapes included (0 unless ``INDICES``).
    """

    kind: int
    data: bytes
    width: int = 0
    entries: int = 0

    @property
    def name(self) -> str:
        """``"all"``, ``"bitmask"`` or ``"indices"``."""
        return _KIND_NAMES[self.kind]

    @property
    def nbytes(self) -> int:
        """Bytes these positions take in the file: the kind byte, the header, the data."""
        header = 1 + (5 if self.kind == INDICES else 0)
        return header + len(self.data)

    def write(self, writer: Writer) -> None:
        """Append the kind, the index header if any, and the data."""
        writer.pack("<B", self.kind)
        if self.kind == INDICES:
            writer.pack(_INDEX_HEADER, self.width, self.entries)
        writer.write(self.data)


def bitmask_positions(mask: np.ndarray) -> Positions:
    """One bit per entry, 1 where ``mask`` is true: ``ceil(numel / 8)`` bytes.

    Examples
    --------
    >>> bitmask_positions(np.array([True, False, False, True])).data.hex()
    '90'
    """
    return Positions(BITMASK, np.packbits(np.asarray(mask, dtype=bool)).tobytes())


def index_positions(mask: np.ndarray, width: int) -> Positions:
    """Relative indices of the true entries of ``mask`` at ``width`` bits.

    Parameters
    ----------
    mask : np.ndarray of bool, shape (numel,)
    width : int
        Bits per entry, 1 to 16.

    Notes
    -----
    With gaps :math:`g_i = p_i - p_{i-1} - 1` (:math:`p_{-1} = -1`) and
    :math:`E = 2^w - 1`, gap :math:`g_i` is written as :math:`\\lfloor g_i / E \\rfloor`
    escapes :math:`E` followed by :math:`g_i \\bmod E`, so the entries number
    :math:`\\mathrm{nnz} + \\sum_i \\lfloor g_i / E \\rfloor` and take
    :math:`\\lceil w \\cdot \\mathrm{entries} / 8 \\rceil` bytes.

    Examples
    --------
    >>> mask = np.zeros(20, dtype=bool)
    >>> mask[[2, 3, 19]] = True  # gaps 2, 0, 15
    >>> positions = index_positions(mask, 2)  # E = 3: 2 | 0 | 3 3 3 3 3 0
    >>> positions.entries, len(positions.data)
    (8, 2)
    """
    gaps = np.diff(np.flatnonzero(mask), prepend=-1) - 1
    escape = (1 << width) - 1
    escapes, rests = np.divmod(gaps, escape)
    entries = np.full(int(escapes.sum()) + gaps.size, escape, dtype=np.int64)
    entries[np.cumsum(escapes + 1) - 1] = rests
    return Positions(INDICES, pack_uint(entries, width), width, entries.size)


def _index_size(gaps: np.ndarray, width: int) -> int:
    entries = gaps.size + int((gaps // ((1 << width) - 1)).sum())
    return packed_size(entries, width)


def encode_positions(mask: np.ndarray) -> Positions:
    """The smallest encoding of the true entries of the flat boolean ``mask``.

    ``ALL`` when every entry is true; otherwise the bitmask or the relative indices
    at the width that makes them smallest, whichever takes fewer bytes in the file
    (:attr:`Positions.nbytes`); on a tie, the bitmask.

    Examples
    --------
    >>> encode_positions(np.ones(8, dtype=bool)).name
    'all'
    >>> encode_positions(np.arange(64) % 2 == 0).name  # half dense: 8 bytes of bitmask
    'bitmask'
    >>> encode_positions(np.arange(640) == 5).name  # one weight in 640: 2 bytes of indices
    'indices'
    """
    mask = np.asarray(mask, dtype=bool).ravel()
    if mask.all():
        return Positions(ALL, b"")
    gaps = np.diff(np.flatnonzero(mask), prepend=-1) - 1
    width = min(range(1, MAX_INDEX_WIDTH + 1), key=lambda w: _index_size(gaps, w))
    bitmask = bitmask_positions(mask)
    indices_nbytes = 1 + 5 + _index_size(gaps, width)
    return bitmask if bitmask.nbytes <= indices_nbytes else index_positions(mask, width)


def decode_positions(reader: Reader, numel: int, nnz: int, field: str) -> np.ndarray:
    """Read positions written by :meth:`Positions.write`: the flat indices of the non-zeros.

    Raises
    ------
    CompressedFileError
        If the kind is unknown, the data is cut short, the positions do not number
        ``nnz`` or fall outside ``[0, numel)``.
    """
    (kind,) = reader.unpack("<B", f"{field}: kind of positions")
    if kind == ALL:
        if nnz != numel:
            raise CompressedFileError(f"{field}: {nnz} non-zeros declared, but all {numel} are")
        return np.arange(numel, dtype=np.int64)
    if kind == BITMASK:
        data = reader.take(packed_size(numel, 1), f"{field}: bitmask")
        positions = np.flatnonzero(np.unpackbits(np.frombuffer(data, np.uint8), count=numel))
    elif kind == INDICES:
        width, count = reader.unpack(_INDEX_HEADER, f"{field}: index width and count")
        if not 1 <= width <= MAX_INDEX_WIDTH or count > numel:
            raise CompressedFileError(
                f"{field}: {count} relative indices of {width} bits cannot describe {numel} weights"
            )
        entries = unpack_uint(
            reader.take(packed_size(count, width), f"{field}: indices"), count, width
        )
        escape = (1 << width) - 1
        placed = entries < escape
        if count and not placed[-1]:
            raise CompressedFileError(f"{field}: relative indices end with an escape")
        positions = np.cumsum(entries + placed)[placed] - 1
    else:
        raise CompressedFileError(f"{field}: unknown kind of positions {kind}")
    if positions.size != nnz or (positions.size and positions[-1] >= numel):
        raise CompressedFileError(
            f"{field}: positions do not match {nnz} non-zeros among {numel} weights"
        )
    return positions
