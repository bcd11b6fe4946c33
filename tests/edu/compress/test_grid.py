"""Does the stored grid give back the course quantizer's weights bit for bit?"""

import numpy as np
import pytest
import torch

from edu.compress._grid import fit_grid, read_grid
from edu.compress._stream import CompressedFileError, Reader, Writer
from edu.quant import quantize_weights


def _pruned_weight(seed, shape=(32, 16, 3, 3), sparsity=0.6):
    generator = torch.Generator().manual_seed(seed)
    weight = torch.randn(shape, generator=generator) * 0.1
    return weight * (torch.rand(shape, generator=generator) >= sparsity)


def _bits(tensor):
    return tensor.contiguous().view(torch.int32)


@pytest.mark.parametrize("symmetric", [False, True])
@pytest.mark.parametrize("bits", [2, 3, 4, 6, 8])
def test_linear_grid_reproduces_the_quantizer(bits, symmetric):
    """Are the levels of the stored scale and offset the quantizer's weights, bit for bit?"""
    for seed in range(5):
        weight = _pruned_weight(seed)
        quantized = quantize_weights(weight, bits, symmetric)
        values = quantized[quantized != 0]
        grid, codes = fit_grid(weight, values, bits, symmetric)
        assert grid.name == "linear"
        assert codes.max() < 2**bits and grid.code_width == bits
        assert torch.equal(_bits(grid.levels()[torch.from_numpy(codes)]), _bits(values))


def test_other_values_are_stored_as_their_codebook():
    """Do weights off the linear grid (a k-means-like set of levels) get an exact codebook?"""
    weight = _pruned_weight(0)
    levels = torch.tensor([-0.3, -0.05, 0.02, 0.11, 0.4])
    values = levels[torch.randint(0, 5, (200,), generator=torch.Generator().manual_seed(0))]
    grid, codes = fit_grid(weight, values, 3, symmetric=False)
    assert grid.name == "codebook" and grid.code_width == 3
    np.testing.assert_array_equal(grid.codebook, levels.numpy())
    assert torch.equal(grid.levels()[torch.from_numpy(codes)], values)


def test_grid_written_and_read_back():
    """Does a grid survive writing, in 11 bytes (linear) or 7 + 4 per level (codebook)?"""
    weight = _pruned_weight(1)
    for values, size in ((quantize_weights(weight, 4), 11), (weight, None)):
        grid, _ = fit_grid(weight, values[values != 0][:100], 4, symmetric=False)
        writer = Writer()
        grid.write(writer)
        assert len(writer) == grid.nbytes == (size or 7 + 4 * grid.codebook.size)
        read = read_grid(Reader(bytes(writer), "test"), "layer")
        assert torch.equal(read.levels(), grid.levels())


def test_a_hostile_codebook_size_is_refused_before_reading():
    """Is a codebook of 2**32 - 1 levels refused without allocating it?"""
    data = bytes([1, 4, 0]) + (2**32 - 1).to_bytes(4, "little")
    with pytest.raises(CompressedFileError, match="codebook of 4294967295 levels"):
        read_grid(Reader(data, "test"), "layer")


def test_too_many_distinct_values_are_not_quantized():
    """Are float weights with more than 2**16 distinct values refused as codes?"""
    values = torch.linspace(0.01, 1.0, 70000)
    with pytest.raises(ValueError, match="distinct weights"):
        fit_grid(torch.ones(3), values, 16, symmetric=False)
