"""The STE quantizer: hand-computed values, level counts, torch and numpy oracles, gradients."""

import numpy as np
import pytest
import torch

from edu.quant import STE, quantize_weights


def _random_weights(seed, n=4000, zero_fraction=0.2):
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(n, generator=g) * 0.05
    w[torch.rand(n, generator=g) < zero_fraction] = 0.0
    return w


@pytest.mark.parametrize(
    ("w", "bit", "expected"),
    [
        # alpha = -1, beta = 2, 3 steps: 0.2 -> ws = 0.6 -> round(1.8) = 2 -> 2/3 * 2 - 1
        ([0.0, -1.0, 0.2, 1.0], 2, [0.0, -1.0, 1 / 3, 1.0]),
        # alpha = -0.5, beta = 1, 1 step: ws = 1, 0, 0.6, 0.8 -> 1, 0, 1, 1
        ([0.5, 0.0, -0.5, 0.1, 0.3], 1, [0.5, 0.0, -0.5, 0.5, 0.5]),
        # all positive: alpha = 1 (not 0), beta = 2; 1.6 -> ws = 0.3 -> round(0.9) = 1 -> 1 + 2/3
        ([1.0, 1.6, 3.0, 0.0], 2, [1.0, 5 / 3, 3.0, 0.0]),
        # already on the 3-bit grid alpha + k beta / 7 = 1 + k: unchanged
        ([0.0, 1.0, 2.0, 8.0], 3, [0.0, 1.0, 2.0, 8.0]),
    ],
)
def test_asymmetric_hand_computed(w, bit, expected):
    """Does the asymmetric quantizer give the values computed by hand? (tolerance 1e-6)"""
    out = STE.apply(torch.tensor(w), bit)
    torch.testing.assert_close(out, torch.tensor(expected), rtol=0, atol=1e-6)


@pytest.mark.parametrize(
    ("w", "bit", "expected"),
    [
        # s = 1, 3 steps a side: 0.2 * 3 = 0.6 -> 1; 0.5 * 3 = 1.5 -> 2 (half to even)
        ([0.0, -1.0, 0.2, 1.0, 0.5], 3, [0.0, -1.0, 1 / 3, 1.0, 2 / 3]),
        # 2 bits = levels {-1, 0, 1} * s: 0.2 and 0.5 (half to even) round to 0
        ([0.0, -1.0, 0.2, 1.0, 0.5], 2, [0.0, -1.0, 0.0, 1.0, 0.0]),
        # s = 2: -2 -> -3 steps; 1 -> 1.5 -> 2 steps = 4/3; 0.4 -> 0.6 -> 1 step = 2/3
        ([-2.0, 0.0, 1.0, 0.4], 3, [-2.0, 0.0, 4 / 3, 2 / 3]),
    ],
)
def test_symmetric_hand_computed(w, bit, expected):
    """Does the symmetric quantizer give the values computed by hand? (tolerance 1e-6)"""
    out = STE.apply(torch.tensor(w), bit, True)
    torch.testing.assert_close(out, torch.tensor(expected), rtol=0, atol=1e-6)


@pytest.mark.parametrize("bit", range(1, 9))
def test_asymmetric_levels_and_zeros(bit):
    """At most 2^bit distinct non-zero values, and every zero still zero?"""
    w = _random_weights(bit)
    out = quantize_weights(w, bit)
    assert (out[w == 0] == 0).all()
    levels = torch.unique(out[w != 0]).numel()
    assert levels <= 2**bit
    if bit <= 4:  # 3200 normal samples fill every level of a coarse grid
        assert levels == 2**bit


@pytest.mark.parametrize("bit", range(2, 9))
def test_symmetric_levels_and_zeros(bit):
    """At most 2^bit - 1 distinct values including 0, on the grid k s / n, zeros kept?"""
    w = _random_weights(10 + bit)
    out = quantize_weights(w, bit, symmetric=True)
    assert (out[w == 0] == 0).all()
    values = torch.unique(out + 0.0)
    assert values.numel() <= 2**bit - 1
    steps, scale = 2 ** (bit - 1) - 1, float(w.abs().max())
    k = values / scale * steps  # integers in [-steps, steps], to float32 rounding (1e-4)
    torch.testing.assert_close(k, torch.round(k), rtol=0, atol=1e-4)
    assert k.abs().max() <= steps + 1e-4 and (values == 0).any()


def test_none_is_identity_and_zero_bits_is_zero():
    """Does bit=None return w unchanged and bit=0 all zeros (both quantizers)?"""
    w = _random_weights(0, n=50)
    for symmetric in (False, True):
        assert torch.equal(STE.apply(w, None, symmetric), w)
        assert torch.equal(STE.apply(w, 0, symmetric), torch.zeros_like(w))


@pytest.mark.parametrize("symmetric", [False, True])
@pytest.mark.parametrize("bit", [None, 0, 2, 5])
def test_gradient_is_the_upstream_gradient(bit, symmetric):
    """Does the STE pass a random upstream gradient through unchanged? (exact)"""
    if symmetric and bit == 2:
        bit = 3
    w = _random_weights(1, n=300).reshape(10, 30).requires_grad_()
    upstream = torch.randn(10, 30, generator=torch.Generator().manual_seed(5))
    STE.apply(w, bit, symmetric).backward(upstream)
    assert torch.equal(w.grad, upstream)


def test_symmetric_8bit_matches_torch_fake_quantize():
    """Does symmetric 8-bit agree with fake_quantize(scale=max|w|/127, zero_point=0, +-127)?

    Same integer level everywhere (exact); the values differ by at most an ulp or two
    because the STE computes round(127 w / s) / 127 * s and torch round(w / (s / 127))
    * (s / 127). Tolerance: 1e-6 * max|w|.
    """
    w = _random_weights(2, n=20000)
    s = float(w.abs().max())
    ours = quantize_weights(w, 8, symmetric=True)
    oracle = torch.fake_quantize_per_tensor_affine(w, s / 127, 0, -127, 127)
    assert torch.equal(torch.round(ours / (s / 127)), torch.round(oracle / (s / 127)))
    torch.testing.assert_close(ours, oracle, rtol=0, atol=1e-6 * s)


@pytest.mark.parametrize("bit", [1, 2, 4, 8])
def test_asymmetric_matches_shifted_fake_quantize(bit):
    """Is asymmetric quantization fake_quantize of w - alpha (scale beta/(2^b-1), zp 0), + alpha?

    The asymmetric grid alpha + k beta / n contains alpha exactly but in general not
    0, so torch's integer zero point cannot express it; shifting by alpha first can.
    Zeros (pruned) are masked out. Tolerance: 1e-6 * beta.
    """
    w = _random_weights(3, n=20000)
    nonzero = w[w != 0]
    alpha, beta, n = nonzero.min(), nonzero.max() - nonzero.min(), 2**bit - 1
    shifted = torch.fake_quantize_per_tensor_affine(w - alpha, float(beta) / n, 0, 0, n)
    oracle = torch.where(w != 0, shifted + alpha, torch.zeros_like(w))
    torch.testing.assert_close(quantize_weights(w, bit), oracle, rtol=0, atol=1e-6 * float(beta))


@pytest.mark.parametrize("bit", [1, 3, 6])
def test_asymmetric_matches_a_numpy_rederivation(bit):
    """Does asymmetric quantization match the course formula written in float64 numpy?

    Tolerance 1e-6 (float32 against float64).
    """
    w = _random_weights(4, n=5000).numpy().astype(np.float64)
    nz = w[w != 0]
    alpha = nz.min()
    beta = nz.max() - alpha
    steps = 2**bit - 1
    expected = np.round((w - alpha) / beta * steps) / steps * beta + alpha
    expected[w == 0] = 0.0
    out = quantize_weights(torch.from_numpy(w).float(), bit).numpy()
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-6)


@pytest.mark.parametrize(
    ("bit", "symmetric", "error"),
    [
        (-1, False, ValueError),
        (2.5, False, TypeError),
        (True, False, TypeError),
        ("4", False, TypeError),
        (1, True, ValueError),
    ],
)
def test_bad_bits_raise(bit, symmetric, error):
    """Are negative, non-integer and bool bits, and symmetric 1-bit, refused?"""
    with pytest.raises(error):
        STE.apply(torch.tensor([0.5, -1.0, 2.0]), bit, symmetric)


def test_input_is_not_modified():
    """Does quantization leave its input untouched?"""
    w = _random_weights(6, n=100)
    before = w.clone()
    quantize_weights(w, 3)
    quantize_weights(w, 3, symmetric=True)
    assert torch.equal(w, before)


def test_numpy_integer_bits_are_accepted():
    """Does a notebook's ``for N in np.arange(2, 7)`` loop work with the quantizer?"""
    w = torch.tensor([0.0, -1.0, 0.3, 1.0])
    assert torch.equal(quantize_weights(w, np.int64(3)), quantize_weights(w, 3))


def test_symmetric_one_bit_is_refused_even_for_all_zero_weights():
    """Is the bit check the same whatever the weights are?"""
    with pytest.raises(ValueError, match="bit >= 2"):
        quantize_weights(torch.zeros(4), 1, symmetric=True)
