"""The CIFAR ResNet: architecture, names, parameter count, quantized variant."""

import pytest
import torch
from torch import nn

from edu.models import ResNetCIFAR
from edu.quant import QuantConv2d, quantize_weights


def _expected_parameters(n):
    """Parameter count of ResNet-(6n+2) with 1x1-conv shortcuts, counted by hand."""
    conv = lambda cin, cout, k: cin * cout * k * k  # noqa: E731
    bn = lambda c: 2 * c  # noqa: E731
    total = conv(3, 16, 3) + bn(16)
    cin = 16
    for cout in (16, 32, 64):
        for _ in range(n):
            total += conv(cin, cout, 3) + bn(cout) + conv(cout, cout, 3) + bn(cout)
            if cin != cout:
                total += conv(cin, cout, 1) + bn(cout)
            cin = cout
    return total + 64 * 10 + 10


@pytest.mark.parametrize("num_layers", [20, 32])
def test_parameter_count_matches_hand_count(num_layers):
    """Is the model exactly ResNet-(6n+2): about 0.27 M parameters for ResNet-20?"""
    net = ResNetCIFAR(num_layers=num_layers)
    count = sum(p.numel() for p in net.parameters())
    assert count == _expected_parameters((num_layers - 2) // 6)
    if num_layers == 20:
        assert 0.26e6 < count < 0.28e6


def test_layer_names_follow_the_course():
    """Are the conv and linear layers named as in the course's checkpoints?"""
    names = [
        name
        for name, module in ResNetCIFAR().named_modules()
        if isinstance(module, (nn.Conv2d, nn.Linear)) and "id_mapping" not in name
    ]
    expected = ["head_conv.0.conv"]
    for k in range(9):
        expected += [f"body_op.{k}.conv1.0.conv", f"body_op.{k}.conv2.0.conv"]
    expected.append("final_fc.linear")
    assert names == expected


def test_downsampling_shortcuts_are_1x1_convs_named_id_mapping():
    """Do the two stage transitions use a 1x1 stride-2 conv under id_mapping?"""
    shortcuts = {
        name: module
        for name, module in ResNetCIFAR().named_modules()
        if isinstance(module, nn.Conv2d) and "id_mapping" in name
    }
    assert sorted(shortcuts) == ["body_op.3.id_mapping.0.conv", "body_op.6.id_mapping.0.conv"]
    for module in shortcuts.values():
        assert module.kernel_size == (1, 1) and module.stride == (2, 2)


def test_output_shape_and_bad_depth():
    """Does a batch give (N, 10) logits, and is a depth that is not 6n+2 refused?"""
    assert ResNetCIFAR()(torch.zeros(3, 3, 32, 32)).shape == (3, 10)
    with pytest.raises(ValueError, match="6n \\+ 2"):
        ResNetCIFAR(num_layers=21)


def test_only_stage_convs_are_quantized():
    """With Nbits, are the stage convs quantized and the first conv and final linear float?"""
    net = ResNetCIFAR(Nbits=4)
    for name, module in net.named_modules():
        if isinstance(module, nn.Conv2d):
            assert isinstance(module, QuantConv2d) == name.startswith("body_op"), name
    assert type(net.final_fc.linear) is nn.Linear


def test_quantized_model_is_the_float_model_with_quantized_weights():
    """Does ResNetCIFAR(Nbits=3) compute what the float model computes on quantized weights?"""
    torch.manual_seed(0)
    float_net = ResNetCIFAR().eval()
    quant_net = ResNetCIFAR(Nbits=3).eval()
    quant_net.load_state_dict(float_net.state_dict())
    with torch.no_grad():
        for name, module in float_net.named_modules():
            if isinstance(module, nn.Conv2d) and name.startswith("body_op"):
                module.weight.copy_(quantize_weights(module.weight, 3))
    x = torch.randn(4, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(quant_net(x), float_net(x), rtol=1e-4, atol=1e-5)


def test_student_quantizer_is_used():
    """Is a quantizer passed to the constructor the one the forward pass calls?"""
    calls = []

    def quantizer(w, bit, symmetric):
        calls.append((bit, symmetric))
        return w

    ResNetCIFAR(Nbits=5, symmetric=True, quantizer=quantizer)(torch.zeros(1, 3, 32, 32))
    assert len(calls) == 20 and set(calls) == {(5, True)}


def test_rebuild_from_weights_alone():
    """Does a state dict give back a model of the same depth computing the same thing?"""
    from edu.models import resnet_from_state_dict

    torch.manual_seed(0)
    original = ResNetCIFAR(num_layers=32).eval()
    rebuilt = resnet_from_state_dict(original.state_dict()).eval()
    assert rebuilt.num_layers == 32
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(rebuilt(x), original(x))


def test_wrong_weights_are_reported():
    """Are weights of another shape or model refused with a clear error?"""
    from edu.models import resnet_from_state_dict

    state = ResNetCIFAR().state_dict()
    state["final_fc.linear.weight"] = torch.zeros(5, 64)
    with pytest.raises(ValueError, match="do not fit"):
        resnet_from_state_dict(state)
    with pytest.raises(ValueError, match="not those of a CIFAR ResNet"):
        resnet_from_state_dict({"weight": torch.zeros(3)})
