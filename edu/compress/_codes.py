"""Which weights of a quantized layer are non-zero and which level each takes, in few bytes.

Three layouts; :func:`encode_codes` measures them for each layer and keeps the smallest:

``packed``
    the positions of the non-zero weights (:mod:`edu.compress._positions`), then each
    one's code at the fixed width ``ceil(log2(levels))``: the layout of
    :ref:`storage`, and the only one of format version 1;
``huffman``
    the same positions, then the codes Huffman-coded (:mod:`edu.compress._huffman`),
    which pays when some levels are much more frequent than others;
``huffman-zeros``
    no positions: every weight is a symbol, the pruned zero being one more symbol after
    the levels. It pays when the zeros are few: a bitmask spends a bit on every weight
    to place them, the zero symbol a short string on the zeros only. With many zeros,
    relative indices usually cost less.

Layout after the grid and the number of non-zeros: ``packed`` is the positions and the
packed codes; ``huffman`` the positions, then one byte per level for its code length,
the stream's length (u32) and the stream; ``huffman-zeros`` the same for ``levels + 1``
symbols, without positions. The layout is the record's storage byte.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edu.compress import _huffman
from edu.compress._bits import pack_uint, packed_size, unpack_uint
from edu.compress._positions import Positions, decode_positions, encode_positions
from edu.compress._stream import CompressedFileError, Reader, Writer

__all__ = [
    "HUFFMAN",
    "HUFFMAN_ZEROS",
    "LAYOUTS",
    "PACKED",
    "CodedWeights",
    "decode_codes",
    "encode_codes",
]

PACKED, HUFFMAN, HUFFMAN_ZEROS = 2, 3, 4
"""Storage bytes of a quantized record (0 and 1 are the float storages)."""
LAYOUTS = {PACKED: "packed", HUFFMAN: "huffman", HUFFMAN_ZEROS: "huffman-zeros"}


@dataclass(frozen=True)
class CodedWeights:
    """The positions and codes of one quantized layer, in one layout.

    Attributes
    ----------
    layout : int
        ``PACKED``, ``HUFFMAN`` or ``HUFFMAN_ZEROS``.
    positions : Positions or None
        None for ``HUFFMAN_ZEROS``, whose stream places the zeros.
    lengths : np.ndarray or None
        The Huffman code lengths (None for ``PACKED``).
    data : bytes
        The packed codes or the Huffman stream.
    """

    layout: int
    positions: Positions | None
    lengths: np.ndarray | None
    data: bytes

    @property
    def name(self) -> str:
        """``"packed"``, ``"huffman"`` or ``"huffman-zeros"``."""
        return LAYOUTS[self.layout]

    @property
    def positions_name(self) -> str:
        """How the positions are stored: those of :class:`Positions`, or ``"in codes"``."""
        return "in codes" if self.positions is None else self.positions.name

    @property
    def nbytes(self) -> int:
        """Bytes of positions, code lengths, stream length and stream in the file."""
        positions = 0 if self.positions is None else self.positions.nbytes
        table = 0 if self.lengths is None else self.lengths.size + 4
        return positions + table + len(self.data)

    def write(self, writer: Writer) -> None:
        """Append the positions (if any), the code lengths and stream length (if
        Huffman), then the codes."""
        if self.positions is not None:
            self.positions.write(writer)
        if self.lengths is not None:
            writer.write(self.lengths.astype(np.uint8).tobytes())
            writer.pack("<I", len(self.data))
        writer.write(self.data)


def _huffman_option(
    layout: int, positions: Positions | None, symbols: np.ndarray, alphabet: int
) -> CodedWeights | None:
    """``symbols`` Huffman-coded over ``alphabet`` symbols after ``positions``, or None
    when the code would need strings longer than :data:`edu.compress._huffman.MAX_CODE_LENGTH`."""
    lengths = _huffman.code_lengths(np.bincount(symbols, minlength=alphabet))
    if lengths is None:
        return None
    return CodedWeights(layout, positions, lengths, _huffman.encode(symbols, lengths))


def encode_codes(
    mask: np.ndarray, codes: np.ndarray, levels: int, width: int, huffman: bool = True
) -> CodedWeights:
    """The smallest layout of a layer's non-zero positions and codes.

    Parameters
    ----------
    mask : np.ndarray of bool, shape (numel,)
        Where the weights are non-zero.
    codes : np.ndarray of int, shape (nnz,)
        The level of each non-zero weight, in order, below ``levels``.
    levels : int
        Levels of the layer's grid.
    width : int
        Bits of a packed code, ``ceil(log2(levels))``.
    huffman : bool, default True
        Whether the Huffman layouts compete; False keeps ``packed``.

    Returns
    -------
    CodedWeights
        The layout with the fewest :attr:`CodedWeights.nbytes`; on a tie, the first of
        ``packed``, ``huffman``, ``huffman-zeros``.

    Examples
    --------
    >>> dense = np.ones(4000, dtype=bool)
    >>> encode_codes(dense, np.arange(4000) % 16, levels=16, width=4).name  # uniform
    'packed'
    >>> encode_codes(dense, np.arange(4000) % 16 // 15, levels=16, width=4).name  # 2 levels
    'huffman'
    >>> sparse = np.arange(4000) % 4 == 0  # 3 zeros for each weight
    >>> encode_codes(sparse, np.zeros(1000, dtype=int), levels=16, width=4).name
    'huffman-zeros'
    """
    mask = np.asarray(mask, dtype=bool).ravel()
    codes = np.asarray(codes, dtype=np.int64)
    positions = encode_positions(mask)
    options = [CodedWeights(PACKED, positions, None, pack_uint(codes, width))]
    if not huffman:
        return options[0]
    options.append(_huffman_option(HUFFMAN, positions, codes, levels))
    if not mask.all():
        symbols = np.full(mask.size, levels, dtype=np.int64)
        symbols[mask] = codes
        options.append(_huffman_option(HUFFMAN_ZEROS, None, symbols, levels + 1))
    return min((o for o in options if o is not None), key=lambda option: option.nbytes)


def decode_codes(
    reader: Reader, layout: int, numel: int, nnz: int, levels: int, width: int, field: str
) -> tuple[np.ndarray, np.ndarray]:
    """Read what :meth:`CodedWeights.write` wrote: the flat positions and the codes.

    Parameters
    ----------
    reader : Reader
        At the positions (or, for ``HUFFMAN_ZEROS``, the code lengths).
    layout : int
        The record's storage byte: ``PACKED``, ``HUFFMAN`` or ``HUFFMAN_ZEROS``.
    numel, nnz : int
        Weights of the layer, and how many the record declares non-zero.
    levels, width : int
        Levels of the layer's grid, and bits of a packed code.
    field : str
        The tensor's name, for the error messages.

    Returns
    -------
    positions : np.ndarray of int64, shape (nnz,)
        Flat indices of the non-zero weights, increasing.
    codes : np.ndarray of int64, shape (nnz,)
        The level of each, below ``levels``.

    Raises
    ------
    CompressedFileError
        If any part is cut short or inconsistent: positions that do not number
        ``nnz``, Huffman lengths that fit no prefix code, a stream that does not decode
        to its symbols, a code beyond the levels, or zeros that do not number
        ``numel - nnz``.
    """
    if layout == HUFFMAN_ZEROS:
        symbols = _read_huffman(reader, numel, levels + 1, field)
        positions = np.flatnonzero(symbols != levels)
        if positions.size != nnz:
            raise CompressedFileError(
                f"{field}: the codes hold {positions.size} non-zeros, the record declares {nnz}"
            )
        return positions, symbols[positions]
    positions = decode_positions(reader, numel, nnz, field)
    if layout == HUFFMAN:
        return positions, _read_huffman(reader, nnz, levels, field)
    codes = unpack_uint(reader.take(packed_size(nnz, width), f"{field}: codes"), nnz, width)
    if codes.size and codes.max() >= levels:
        raise CompressedFileError(f"{field}: a code exceeds the {levels} levels")
    return positions, codes


def _read_huffman(reader: Reader, count: int, alphabet: int, field: str) -> np.ndarray:
    lengths = np.frombuffer(reader.take(alphabet, f"{field}: Huffman code lengths"), np.uint8)
    (size,) = reader.unpack("<I", f"{field}: Huffman stream length")
    if size > packed_size(count, _huffman.MAX_CODE_LENGTH):
        raise CompressedFileError(
            f"{field}: a Huffman stream of {size} bytes for {count} codes is too long"
        )
    data = reader.take(size, f"{field}: Huffman stream")
    return _huffman.decode(data, count, lengths.astype(np.int64), field)
