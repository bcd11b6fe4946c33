"""QuantConv2d and QuantLinear: float equivalence, STE gradients, pluggable quantizers."""

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from edu.quant import QuantConv2d, QuantLinear, quantize_weights, resolve_quantizer


def _copy_of(layer, float_layer):
    float_layer.load_state_dict(layer.state_dict())
    return float_layer


def test_unquantized_layers_equal_the_torch_layers():
    """With nbits=None, are QuantConv2d / QuantLinear exactly nn.Conv2d / nn.Linear?"""
    torch.manual_seed(0)
    conv = QuantConv2d(3, 8, 3, stride=2, padding=1, nbits=None)
    linear = QuantLinear(12, 5, nbits=None)
    x, z = torch.randn(2, 3, 9, 9), torch.randn(4, 12)
    assert set(conv.state_dict()) == {"weight", "bias"}
    assert torch.equal(conv(x), _copy_of(conv, nn.Conv2d(3, 8, 3, stride=2, padding=1))(x))
    assert torch.equal(linear(z), _copy_of(linear, nn.Linear(12, 5))(z))


@pytest.mark.parametrize("symmetric", [False, True])
def test_conv_weight_gradient_is_that_of_the_quantized_weight(symmetric):
    """Is conv.weight.grad the gradient of F.conv2d w.r.t. the quantized weight held as a leaf?

    That is the straight-through estimator seen through a layer. Tolerance: 1e-6
    relative (the same convolution backward on the same numbers).
    """
    torch.manual_seed(1)
    conv = QuantConv2d(4, 6, 3, padding=1, nbits=3, symmetric=symmetric)
    x = torch.randn(2, 4, 7, 7)
    upstream = torch.randn(2, 6, 7, 7)
    conv(x).backward(upstream)
    leaf = quantize_weights(conv.weight.detach(), 3, symmetric).requires_grad_()
    F.conv2d(x, leaf, conv.bias.detach(), padding=1).backward(upstream)
    torch.testing.assert_close(conv.weight.grad, leaf.grad, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(
        conv(x), F.conv2d(x, leaf.detach(), conv.bias, padding=1), rtol=1e-6, atol=1e-6
    )


class SignQuantizer(torch.autograd.Function):
    """A student-like quantizer: sign(w), straight-through gradient."""

    @staticmethod
    def forward(ctx, w, bit, symmetric=False):
        return torch.sign(w)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, None, None


def test_a_student_function_is_used():
    """Does a Function subclass passed as quantizer replace the reference STE?"""
    torch.manual_seed(2)
    conv = QuantConv2d(2, 3, 3, nbits=2, quantizer=SignQuantizer, bias=False)
    linear = QuantLinear(6, 2, nbits=4, quantizer=SignQuantizer, bias=False)
    x, z = torch.randn(1, 2, 5, 5), torch.randn(3, 6)
    assert torch.equal(conv(x), F.conv2d(x, torch.sign(conv.weight.detach())))
    assert torch.equal(linear(z), z @ torch.sign(linear.weight.detach()).T)
    linear(z).sum().backward()
    assert torch.equal(linear.weight.grad, z.sum(0).expand(2, 6))


def test_a_plain_callable_is_used_and_junk_is_refused():
    """Is a plain callable quantizer called with (w, bit, symmetric), and a non-callable refused?"""
    calls = []

    def halve(w, bit, symmetric):
        calls.append((bit, symmetric))
        return w / 2

    layer = QuantLinear(3, 1, nbits=5, symmetric=True, quantizer=halve, bias=False)
    z = torch.randn(2, 3)
    assert torch.equal(layer(z), z @ (layer.weight.detach() / 2).T)
    assert calls == [(5, True)]
    with pytest.raises(TypeError):
        resolve_quantizer(42)
