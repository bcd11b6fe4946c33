"""Do packed integers come back unchanged, in the number of bytes the format says?"""

import numpy as np
import pytest

from edu.compress._bits import pack_uint, packed_size, unpack_uint, width_for


@pytest.mark.parametrize("width", [1, 2, 3, 4, 5, 7, 8, 11, 16, 23, 32])
def test_pack_then_unpack_is_the_identity(width):
    """Do random integers of every width survive packing, in ceil(count * width / 8) bytes?"""
    values = np.random.default_rng(width).integers(0, 1 << width, size=101)
    data = pack_uint(values, width)
    assert len(data) == packed_size(101, width) == (101 * width + 7) // 8
    np.testing.assert_array_equal(unpack_uint(data, 101, width), values)


def test_bits_are_most_significant_first():
    """Are 3-bit codes 5, 1, 7 laid out as 101 001 11|1 0000000?"""
    assert pack_uint(np.array([5, 1, 7]), 3) == bytes([0b10100111, 0b10000000])


def test_values_that_do_not_fit_are_refused():
    """Is a value of 2**width refused rather than silently truncated?"""
    with pytest.raises(ValueError, match="2\\*\\*3"):
        pack_uint(np.array([8]), 3)


def test_data_of_the_wrong_length_is_refused():
    """Is a byte string shorter than the declared count refused?"""
    with pytest.raises(ValueError, match="need 2 bytes"):
        unpack_uint(b"\x00", 3, 4)


def test_width_for_levels():
    """Are 1, 2, 3, 16 and 17 levels told apart with 0, 1, 2, 4 and 5 bits?"""
    assert [width_for(n) for n in (1, 2, 3, 16, 17)] == [0, 1, 2, 4, 5]


@pytest.mark.parametrize("width", [3, 8, 12, 16])
def test_unpacking_allocates_little_beyond_its_result(width):
    """Does unpacking 2**21 integers (as a hostile file may declare) peak under 10 bytes
    per integer, 8 of them the int64 result, measured by tracemalloc?"""
    import tracemalloc

    count = 1 << 21
    data = bytes(packed_size(count, width))
    tracemalloc.start()
    try:
        unpack_uint(data, count, width)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10 * count + (4 << 20)


def test_chunks_join_where_an_integer_straddles_a_byte():
    """Across the chunk boundary of the decoder, do 3-bit integers come back in order?"""
    values = np.arange(200_000) % 8
    np.testing.assert_array_equal(unpack_uint(pack_uint(values, 3), values.size, 3), values)
