"""Are the positions of the non-zeros exact, and the smaller encoding chosen by measurement?"""

import numpy as np
import pytest

from edu.compress._bits import packed_size
from edu.compress._positions import (
    ALL,
    BITMASK,
    INDICES,
    bitmask_positions,
    decode_positions,
    encode_positions,
    index_positions,
)
from edu.compress._stream import CompressedFileError, Reader, Writer


def _round_trip(positions, numel, nnz):
    writer = Writer()
    positions.write(writer)
    reader = Reader(bytes(writer), "test")
    decoded = decode_positions(reader, numel, nnz, "layer")
    reader.finish()
    return decoded


@pytest.mark.parametrize("density", [0.0, 0.01, 0.1, 0.3, 0.5, 0.9, 1.0])
def test_every_encoding_gives_back_the_positions(density):
    """Do the bitmask and the indices at every width decode to the same flat indices?"""
    mask = np.random.default_rng(0).random(1000) < density
    expected = np.flatnonzero(mask)
    candidates = [bitmask_positions(mask)] + [index_positions(mask, w) for w in range(1, 17)]
    for positions in candidates:
        np.testing.assert_array_equal(_round_trip(positions, 1000, expected.size), expected)


def test_relative_indices_counted_by_hand():
    """Non-zeros at 0 and 35 of 36: gaps 0 and 34; at 4 bits (E = 15), 0 | 15 15 4: 2 bytes."""
    mask = np.zeros(36, dtype=bool)
    mask[[0, 35]] = True
    positions = index_positions(mask, 4)
    assert positions.entries == 4
    assert positions.data == bytes([0x0F, 0xF4])
    assert positions.nbytes == 1 + 5 + 2


def test_the_smaller_encoding_is_chosen():
    """On constructed layers, is the choice the one the byte counts by hand give?"""
    dense = np.ones(100, dtype=bool)
    assert encode_positions(dense).kind == ALL and encode_positions(dense).nbytes == 1
    # 36 weights, 2 non-zeros: bitmask 1 + 5 bytes; indices at best 1 + 5 + 2 bytes
    two_of_36 = np.zeros(36, dtype=bool)
    two_of_36[[0, 35]] = True
    assert encode_positions(two_of_36).kind == BITMASK
    # 640 weights, non-zeros at 3 and 200 (gaps 3, 196): bitmask 1 + 80 bytes;
    # indices at 8 bits, no escape: 1 + 5 + 2 bytes
    two_of_640 = np.zeros(640, dtype=bool)
    two_of_640[[3, 200]] = True
    chosen = encode_positions(two_of_640)
    assert (chosen.kind, chosen.width, chosen.nbytes) == (INDICES, 8, 8)
    # every other weight: bitmask 1 + 8 bytes; indices 1 + 5 + 4 (1 bit each, 32 entries)
    assert encode_positions(np.arange(64) % 2 == 0).kind == BITMASK


@pytest.mark.parametrize("density", [0.001, 0.02, 0.1, 0.3, 0.7, 0.99])
def test_the_choice_is_the_smallest_of_all_candidates(density):
    """Is the chosen encoding as small as the smallest of the bitmask and every width?"""
    mask = np.random.default_rng(1).random(5000) < density
    sizes = [bitmask_positions(mask).nbytes] + [
        index_positions(mask, w).nbytes for w in range(1, 17)
    ]
    assert encode_positions(mask).nbytes == min(sizes)
    assert bitmask_positions(mask).nbytes == 1 + packed_size(5000, 1)


def test_positions_that_disagree_with_the_declared_count_are_refused():
    """Is a bitmask holding 3 non-zeros refused for a tensor declared with 2?"""
    mask = np.array([1, 1, 1, 0], dtype=bool)
    with pytest.raises(CompressedFileError, match="2 non-zeros among 4"):
        _round_trip(bitmask_positions(mask), 4, 2)


def test_indices_past_the_end_are_refused():
    """Is a relative index pointing beyond the tensor refused?"""
    mask = np.zeros(100, dtype=bool)
    mask[90] = True
    with pytest.raises(CompressedFileError, match="positions do not match"):
        _round_trip(index_positions(mask, 8), 50, 1)
