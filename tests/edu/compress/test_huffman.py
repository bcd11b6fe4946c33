"""Are the Huffman codes optimal prefix codes, canonical, and decoded exactly or refused?"""

import heapq
import math

import numpy as np
import pytest

from edu.compress import CompressedFileError
from edu.compress._huffman import (
    MAX_CODE_LENGTH,
    _canonical_codes,
    _lookup_table,
    code_lengths,
    decode,
    encode,
)


def _optimal_cost(counts):
    """Bits of an optimal prefix code: the sum of every merge's weight (Huffman, 1952).

    An independent oracle: no tree, no lengths, only the classic identity that the
    cost of a code tree is the sum of the weights of its internal nodes.
    """
    heap = [int(c) for c in counts if c]
    if len(heap) == 1:
        return heap[0]
    heapq.heapify(heap)
    cost = 0
    while len(heap) > 1:
        merged = heapq.heappop(heap) + heapq.heappop(heap)
        cost += merged
        heapq.heappush(heap, merged)
    return cost


def encoded_bits(counts, lengths):
    """Bits of a stream of symbols with these counts."""
    return int(np.dot(counts, lengths))


def _random_counts(rng, symbols):
    return rng.multinomial(5000, rng.dirichlet(np.full(symbols, 0.7)))


@pytest.mark.parametrize("seed", range(20))
def test_lengths_give_an_optimal_prefix_code(seed):
    """Do the lengths cost as few bits as an optimal code, fit Kraft's equality, and lie
    within one bit per symbol of the entropy?"""
    rng = np.random.default_rng(seed)
    counts = _random_counts(rng, int(rng.integers(2, 40)))
    lengths = code_lengths(counts)
    assert lengths is not None
    assert encoded_bits(counts, lengths) == _optimal_cost(counts)
    used = lengths[counts > 0]
    assert (lengths[counts == 0] == 0).all() and (used > 0).all()
    if used.size > 1:
        assert sum(2.0**-length for length in used) == 1.0
    p = counts[counts > 0] / counts.sum()
    entropy = -(p * np.log2(p)).sum()
    assert entropy <= encoded_bits(counts, lengths) / counts.sum() < entropy + 1


def test_the_canonical_codes_of_rfc_1951():
    """Are the codes of lengths (3, 3, 3, 3, 3, 2, 4, 4) those of RFC 1951, 3.2.2?"""
    codes = _canonical_codes(np.array([3, 3, 3, 3, 3, 2, 4, 4]))
    expected = ["010", "011", "100", "101", "110", "00", "1110", "1111"]
    lengths = [3, 3, 3, 3, 3, 2, 4, 4]
    assert [format(int(c), f"0{n}b") for c, n in zip(codes, lengths, strict=True)] == expected


@pytest.mark.parametrize("seed", range(30))
def test_canonical_codes_and_the_decoding_table_match_a_symbol_by_symbol_build(seed):
    """Do the vectorized codes and table equal RFC 1951's loop, one symbol after the
    other, on complete and incomplete codes?"""
    rng = np.random.default_rng(seed)
    lengths = code_lengths(_random_counts(rng, int(rng.integers(2, 40))))
    if seed % 2:  # drop symbols: an incomplete code, whose table has unused windows
        dropped = rng.random(lengths.size) < 0.3
        dropped[np.argmax(lengths)] = False
        lengths[dropped] = 0
    expected_codes, code, previous = {}, 0, 0
    for symbol in sorted(np.flatnonzero(lengths), key=lambda s: (lengths[s], s)):
        code <<= int(lengths[symbol]) - previous
        expected_codes[int(symbol)], previous = code, int(lengths[symbol])
        code += 1
    codes = _canonical_codes(lengths)
    assert {s: int(codes[s]) for s in expected_codes} == expected_codes
    symbol_at, length_at, width = _lookup_table(lengths, "x")
    expected = np.full(1 << width, -1)
    for symbol, code in expected_codes.items():
        size = int(lengths[symbol])
        expected[code << (width - size) : (code + 1) << (width - size)] = symbol
    assert np.array_equal(symbol_at, expected)
    assert np.array_equal(length_at, np.where(expected >= 0, lengths[expected], 0))


def test_one_symbol_takes_one_bit_and_none_takes_none():
    """Is a lone symbol given a 1-bit string, and unused symbols none?"""
    assert code_lengths(np.array([0, 7, 0])).tolist() == [0, 1, 0]
    assert code_lengths(np.zeros(3, dtype=int)).tolist() == [0, 0, 0]
    lone = np.array([0, 1])
    assert decode(encode(np.ones(7, dtype=int), lone), 7, lone, "x").tolist() == [1] * 7


def test_lengths_beyond_the_limit_give_none():
    """Do Fibonacci counts, whose Huffman code is as deep as it gets, give None past 16 bits?"""
    fibonacci = [1, 1]
    while len(fibonacci) < MAX_CODE_LENGTH + 2:
        fibonacci.append(fibonacci[-1] + fibonacci[-2])
    assert code_lengths(np.array(fibonacci[: MAX_CODE_LENGTH + 1])).max() == MAX_CODE_LENGTH
    assert code_lengths(np.array(fibonacci[: MAX_CODE_LENGTH + 2])) is None


@pytest.mark.parametrize("seed", range(10))
def test_round_trip_of_random_streams(seed):
    """Does every stream decode to its symbols, in ceil(bits / 8) bytes?"""
    rng = np.random.default_rng(seed)
    symbols_in_alphabet = int(rng.integers(1, 300))
    symbols = rng.choice(symbols_in_alphabet, size=int(rng.integers(1, 3000)))
    counts = np.bincount(symbols, minlength=symbols_in_alphabet)
    lengths = code_lengths(counts)
    if lengths is None:
        pytest.skip("a code deeper than the limit")
    data = encode(symbols, lengths)
    assert len(data) == math.ceil(encoded_bits(counts, lengths) / 8)
    assert np.array_equal(decode(data, symbols.size, lengths, "x"), symbols)


def test_a_stream_longer_than_a_decoding_chunk(monkeypatch):
    """Does decoding carry a symbol across the boundary between chunks?"""
    import edu.compress._huffman as huffman

    monkeypatch.setattr(huffman, "_CHUNK_BITS", 24)
    rng = np.random.default_rng(0)
    symbols = rng.choice(11, size=500, p=np.arange(1, 12) / 66)
    lengths = code_lengths(np.bincount(symbols, minlength=11))
    assert np.array_equal(decode(encode(symbols, lengths), 500, lengths, "x"), symbols)


def test_encoding_a_symbol_without_a_string_is_refused():
    """Is a symbol of length 0 refused rather than written as nothing?"""
    with pytest.raises(ValueError, match="no bit string"):
        encode(np.array([0, 2]), np.array([1, 1, 0]))


LENGTHS = np.array([1, 2, 2])  # strings 0, 10, 11


@pytest.mark.parametrize(
    ("data", "count", "lengths", "message"),
    [
        (b"\x70", 4, np.array([1, 1, 1]), "fit no prefix code"),
        (b"\x70", 4, np.array([17, 1]), "exceeds 16 bits"),
        (b"\x70", 4, np.array([0, 0]), "no symbol"),
        (b"\x70", 9, LENGTHS, "ends before its 9 codes"),
        (b"\x70\x00", 4, LENGTHS, "longer than its 4 codes"),
        (b"\x71", 4, LENGTHS, "padding bits are not zero"),
        (b"\x80", 1, np.array([0, 1]), "matches no Huffman symbol"),
        (b"\x00", 0, LENGTHS, "of no codes holds bytes"),
    ],
)
def test_a_malformed_stream_is_refused(data, count, lengths, message):
    """Is each malformed stream or table refused with a message that says what is wrong?"""
    with pytest.raises(CompressedFileError, match=message):
        decode(data, count, lengths, "codes")


def test_a_last_string_cut_by_the_end_of_the_stream_is_refused():
    """Is a string that would need bits past the stream's end refused, not padded?"""
    lengths = np.array([1, 9, 9])  # strings 0, 100000000 and 100000001
    with pytest.raises(CompressedFileError, match="ends before"):
        decode(b"\x80", 1, lengths, "codes")  # 10000000, then a zero the stream lacks
