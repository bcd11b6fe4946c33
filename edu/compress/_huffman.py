"""Canonical Huffman codes for the codes of quantized weights (Deep Compression, stage 3).

The levels of a quantized layer are far from equally used: most weights sit near zero,
so the middle levels carry most of them, and a pruned layer's zeros outnumber all the
rest. Han et al. (2016, "Deep Compression", section 4) therefore end their pipeline
with Huffman coding: a frequent symbol gets a short bit string, a rare one a long one,
and no string is the start of another, so the stream decodes without separators. Its
length is within one bit per symbol of the entropy :math:`-\\sum_j p_j \\log_2 p_j`.

The code is *canonical*: it is determined by the length of each symbol's string, so a
file stores one byte per symbol of the alphabet, not a tree. Strings are assigned in
order of (length, symbol), each the previous one plus one, shifted left when the
length grows (as DEFLATE does, RFC 1951, section 3.2.2). Lengths are limited to
:data:`MAX_CODE_LENGTH` bits; a distribution that would need longer ones is not coded
(the caller keeps the fixed-width codes).
"""

from __future__ import annotations

import heapq

import numpy as np

from edu.compress._stream import CompressedFileError

__all__ = ["MAX_CODE_LENGTH", "code_lengths", "decode", "encode"]

MAX_CODE_LENGTH = 16
"""The longest bit string of a code: the decoder's lookup table has ``2**16`` entries."""
_CHUNK_BITS = 1 << 19
"""Bits of the stream decoded at a time: beyond its result (8 bytes per symbol), the
decoder's work arrays are bounded by one chunk, whatever length a file declares."""


def code_lengths(counts: np.ndarray) -> np.ndarray | None:
    """The Huffman code's length for each symbol, or None if one exceeds the limit.

    Parameters
    ----------
    counts : np.ndarray of int, shape (symbols,)
        How often each symbol occurs.

    Returns
    -------
    np.ndarray of int64 or None
        The length of each symbol's bit string: 0 for a symbol that does not occur, 1
        for the only one that does. None when the code would need strings longer than
        :data:`MAX_CODE_LENGTH` bits.

    Notes
    -----
    Huffman's construction: repeatedly merge the two least frequent subtrees; a
    symbol's length is its depth in the final tree. Ties are broken by creation
    order, so the lengths depend on the counts only.

    Examples
    --------
    >>> code_lengths(np.array([5, 0, 2, 1, 1]))
    array([1, 0, 2, 3, 3])
    """
    counts = np.asarray(counts, dtype=np.int64)
    lengths = np.zeros(counts.size, dtype=np.int64)
    used = np.flatnonzero(counts)
    if used.size <= 1:
        lengths[used] = 1
        return lengths
    heap = [(int(counts[s]), node) for node, s in enumerate(used)]
    heapq.heapify(heap)
    parent = [-1] * used.size
    while len(heap) > 1:
        count_a, a = heapq.heappop(heap)
        count_b, b = heapq.heappop(heap)
        parent[a] = parent[b] = len(parent)
        parent.append(-1)
        heapq.heappush(heap, (count_a + count_b, len(parent) - 1))
    depth = [0] * len(parent)
    for node in range(len(parent) - 2, -1, -1):  # parents are created after children
        depth[node] = depth[parent[node]] + 1
    lengths[used] = depth[: used.size]
    return None if lengths.max() > MAX_CODE_LENGTH else lengths


def _canonical_order(lengths: np.ndarray) -> np.ndarray:
    """The symbols that have a string, in order of (length, symbol)."""
    used = np.flatnonzero(lengths)
    return used[np.lexsort((used, lengths[used]))]


def _canonical_codes(lengths: np.ndarray) -> np.ndarray:
    """Each symbol's bit string as an integer, assigned in order of (length, symbol).

    Notes
    -----
    In that order the string of a symbol, read as a binary fraction, is the sum of
    :math:`2^{-\\ell_i}` over the symbols before it (each string is the previous one plus
    one, shifted left as the length grows). With :math:`W = \\max_i \\ell_i`, every term
    :math:`2^{W - \\ell_i}` of the prefix sum is a multiple of :math:`2^{W - \\ell}` for
    a later symbol of length :math:`\\ell`, so the shift is exact.
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    codes = np.zeros(lengths.size, dtype=np.int64)
    order = _canonical_order(lengths)
    if order.size:
        width = int(lengths[order[-1]])
        spans = np.int64(1) << (width - lengths[order])
        starts = np.cumsum(spans) - spans
        codes[order] = starts >> (width - lengths[order])
    return codes


def encode(symbols: np.ndarray, lengths: np.ndarray) -> bytes:
    """The bit strings of ``symbols`` end to end, the last byte padded with zero bits.

    Parameters
    ----------
    symbols : np.ndarray of int, shape (count,)
        Symbols that all have a non-zero length.
    lengths : np.ndarray of int, shape (alphabet,)
        From :func:`code_lengths`.

    Returns
    -------
    bytes
        ``ceil(sum(lengths[symbols]) / 8)`` bytes, most significant bit first.

    Examples
    --------
    >>> lengths = np.array([1, 2, 2])  # strings 0, 10, 11
    >>> encode(np.array([0, 2, 1, 0]), lengths).hex()  # 0 11 10 0 + 2 padding bits
    '70'
    """
    symbols = np.asarray(symbols, dtype=np.int64)
    codes = _canonical_codes(lengths)
    sizes = lengths[symbols]
    if sizes.size and sizes.min() == 0:
        raise ValueError("a symbol to encode has no bit string (its length is 0)")
    ends = np.cumsum(sizes)
    total = int(ends[-1]) if ends.size else 0
    # bit t of the stream is bit (size - 1 - offset) of its symbol's string
    owner = np.repeat(np.arange(symbols.size), sizes)
    offset = np.arange(total) - np.repeat(ends - sizes, sizes)
    bits = (codes[symbols][owner] >> (sizes[owner] - 1 - offset)) & 1
    return np.packbits(bits.astype(np.uint8)).tobytes()


def _lookup_table(lengths: np.ndarray, field: str) -> tuple[np.ndarray, np.ndarray, int]:
    """For every ``width``-bit window: the symbol whose string starts it, and its length.

    Raises
    ------
    CompressedFileError
        If a length exceeds :data:`MAX_CODE_LENGTH` or the lengths violate Kraft's
        inequality (no prefix code has them).
    """
    if lengths.size and lengths.max() > MAX_CODE_LENGTH:
        raise CompressedFileError(f"{field}: a Huffman length exceeds {MAX_CODE_LENGTH} bits")
    width = int(lengths.max()) if lengths.size else 0
    if width == 0:
        raise CompressedFileError(f"{field}: the Huffman code has no symbol")
    # the strings in canonical order cover consecutive ranges of windows from 0
    order = _canonical_order(lengths)
    spans = np.int64(1) << (width - lengths[order])
    covered = int(spans.sum())
    if covered > 1 << width:  # Kraft: sum of 2**-length at most 1
        raise CompressedFileError(f"{field}: the Huffman lengths fit no prefix code")
    symbol_at = np.full(1 << width, -1, dtype=np.int64)
    length_at = np.zeros(1 << width, dtype=np.int64)
    symbol_at[:covered] = np.repeat(order, spans)
    length_at[:covered] = np.repeat(lengths[order], spans)
    return symbol_at, length_at, width


def decode(data: bytes, count: int, lengths: np.ndarray, field: str) -> np.ndarray:
    """Inverse of :func:`encode`: ``count`` symbols from exactly the bytes of ``data``.

    The stream is read in chunks of :data:`_CHUNK_BITS` bits: for each bit position
    of a chunk, the window of the next ``max(lengths)`` bits indexes a table that
    gives the symbol starting there and its length, and the decoder hops from symbol
    to symbol through the chunk.

    Parameters
    ----------
    data : bytes
        The stream, as :func:`encode` wrote it.
    count : int
        Symbols to decode; the caller bounds it by what the file may declare.
    lengths : np.ndarray of int, shape (alphabet,)
        The code lengths stored with the stream.
    field : str
        What is decoded, for the error messages.

    Returns
    -------
    np.ndarray of int64, shape (count,)
        The symbols.

    Raises
    ------
    CompressedFileError
        If the lengths fit no prefix code, a bit string matches no symbol, the stream
        ends before ``count`` symbols or holds more than their bits and padding, or
        the padding bits are not zero.

    Examples
    --------
    >>> decode(bytes.fromhex("70"), 4, np.array([1, 2, 2]), "codes")
    array([0, 2, 1, 0])
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    if count == 0:
        if data:
            raise CompressedFileError(f"{field}: a Huffman stream of no codes holds bytes")
        return np.zeros(0, dtype=np.int64)
    symbol_at, length_at, width = _lookup_table(lengths, field)
    stream_bits = 8 * len(data)
    out = np.empty(count, dtype=np.int64)
    decoded, position = 0, 0
    stream = np.frombuffer(data, dtype=np.uint8)
    while decoded < count and position < stream_bits:
        start = position - position % 8
        stop = min(start + _CHUNK_BITS, stream_bits)
        window_bytes = stream[start // 8 : (stop + width + 7) // 8]
        bits = np.unpackbits(window_bytes).astype(np.int64)
        bits = np.concatenate([bits, np.zeros(width, dtype=np.int64)])
        steps = stop - start
        windows = np.zeros(steps, dtype=np.int64)
        for shift in range(width):
            windows = (windows << 1) | bits[shift : shift + steps]
        symbols = symbol_at[windows].tolist()
        sizes = length_at[windows].tolist()
        at, found = position - start, []
        while decoded + len(found) < count and at < steps:
            if not sizes[at]:
                raise CompressedFileError(f"{field}: a bit string matches no Huffman symbol")
            found.append(symbols[at])
            at += sizes[at]
        out[decoded : decoded + len(found)] = found
        decoded += len(found)
        position = start + at
    if decoded < count or position > stream_bits:
        raise CompressedFileError(f"{field}: the Huffman stream ends before its {count} codes")
    if (position + 7) // 8 != len(data):
        raise CompressedFileError(f"{field}: the Huffman stream is longer than its {count} codes")
    if position % 8 and stream[-1] & ((1 << (8 - position % 8)) - 1):
        raise CompressedFileError(f"{field}: the Huffman stream's padding bits are not zero")
    return out
