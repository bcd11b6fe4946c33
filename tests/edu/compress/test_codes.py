"""Does a quantized layer keep the smallest of its three layouts, and read back exactly?"""

import numpy as np
import pytest

from edu.compress import CompressedFileError
from edu.compress._bits import pack_uint
from edu.compress._codes import (
    HUFFMAN,
    HUFFMAN_ZEROS,
    PACKED,
    CodedWeights,
    _huffman_option,
    decode_codes,
    encode_codes,
)
from edu.compress._positions import encode_positions
from edu.compress._stream import Reader, Writer


def _layer(rng, numel, density, levels, skew):
    """A mask of about ``density`` non-zeros and codes drawn with weights ``skew**-j``."""
    mask = rng.random(numel) < density
    p = float(skew) ** -np.arange(levels)
    codes = rng.choice(levels, size=int(mask.sum()), p=p / p.sum())
    return mask, codes


def _every_layout(mask, codes, levels, width):
    positions = encode_positions(mask)
    options = [
        CodedWeights(PACKED, positions, None, pack_uint(codes, width)),
        _huffman_option(HUFFMAN, positions, codes, levels),
    ]
    if not mask.all():
        symbols = np.full(mask.size, levels)
        symbols[mask] = codes
        options.append(_huffman_option(HUFFMAN_ZEROS, None, symbols, levels + 1))
    return options


def _read_back(coded, numel, nnz, levels, width):
    writer = Writer()
    coded.write(writer)
    assert len(writer) == coded.nbytes
    reader = Reader(bytes(writer), "test")
    result = decode_codes(reader, coded.layout, numel, nnz, levels, width, "w")
    reader.finish()
    return result


CASES = [  # numel, density, levels, skew
    (2000, 1.0, 16, 1.0),
    (2000, 1.0, 8, 2.0),
    (5000, 0.3, 8, 1.5),
    (5000, 0.02, 16, 1.0),
    (3000, 0.9, 4, 1.2),
    (64, 0.5, 2, 1.0),
]


@pytest.mark.parametrize(("numel", "density", "levels", "skew"), CASES)
def test_every_layout_reads_back_and_the_smallest_is_kept(numel, density, levels, skew):
    """Does each layout give back the positions and codes, and is the kept one the
    smallest (the first of them on a tie)?"""
    rng = np.random.default_rng(numel + levels)
    mask, codes = _layer(rng, numel, density, levels, skew)
    width = (levels - 1).bit_length()
    options = _every_layout(mask, codes, levels, width)
    for coded in options:
        positions, read = _read_back(coded, numel, codes.size, levels, width)
        assert np.array_equal(positions, np.flatnonzero(mask))
        assert np.array_equal(read, codes)
    kept = encode_codes(mask, codes, levels, width)
    assert kept.nbytes == min(option.nbytes for option in options)
    assert kept.layout == next(o.layout for o in options if o.nbytes == kept.nbytes)
    assert encode_codes(mask, codes, levels, width, huffman=False).layout == PACKED


def test_skewed_codes_take_about_their_entropy():
    """Do 8 levels used with probabilities 1/2, 1/4, ... take under 2.1 bits each, not 3?"""
    rng = np.random.default_rng(0)
    mask, codes = _layer(rng, 20000, 1.0, 8, 2.0)
    kept = encode_codes(mask, codes, 8, 3)
    assert kept.name == "huffman" and kept.positions_name == "all"
    assert 8 * len(kept.data) / codes.size < 2.1


def test_the_zeros_as_a_symbol_are_counted_against_the_record():
    """Is a stream whose zeros do not leave the declared number of non-zeros refused?"""
    mask = np.arange(4000) % 4 == 0
    coded = encode_codes(mask, np.zeros(1000, dtype=int), 16, 4)
    assert coded.name == "huffman-zeros" and coded.positions_name == "in codes"
    writer = Writer()
    coded.write(writer)
    with pytest.raises(CompressedFileError, match="hold 1000 non-zeros, the record declares 999"):
        decode_codes(Reader(bytes(writer), "test"), HUFFMAN_ZEROS, 4000, 999, 16, 4, "w")


def test_a_stream_longer_than_its_codes_could_need_is_refused_before_reading():
    """Is a declared stream length beyond 16 bits per code refused as too long?"""
    writer = Writer()
    writer.write(bytes([0, 1, 1]))  # positions: all; code lengths: two 1-bit strings
    writer.pack("<I", 10**9)
    with pytest.raises(CompressedFileError, match="too long"):
        decode_codes(Reader(bytes(writer), "test"), HUFFMAN, 4, 4, 2, 1, "w")


def test_the_cases_keep_each_layout_at_least_once():
    """Do the cases above exercise the choice of every layout, not only one?"""
    kept = set()
    for numel, density, levels, skew in CASES:
        mask, codes = _layer(np.random.default_rng(numel + levels), numel, density, levels, skew)
        kept.add(encode_codes(mask, codes, levels, (levels - 1).bit_length()).name)
    assert kept == {"packed", "huffman", "huffman-zeros"}
