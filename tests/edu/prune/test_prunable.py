"""Which layers are pruned: ResNet-20's 20 layers, never the id_mapping shortcuts."""

import pytest
import torch
from torch import nn

from edu.models import ResNetCIFAR
from edu.prune import global_prune_by_percentage, prunable_layers, prune_by_percentage
from edu.quant import QuantConv2d

COURSE_NAMES = [
    "head_conv.0.conv",
    *[f"body_op.{k}.conv{i}.0.conv" for k in range(9) for i in (1, 2)],
    "final_fc.linear",
]


@pytest.mark.parametrize("nbits", [None, 4])
def test_resnet20_has_the_20_course_layers(nbits):
    """Are exactly the 20 layers of the course prunable, in module order, float or quantized?"""
    layers = prunable_layers(ResNetCIFAR(num_layers=20, Nbits=nbits))
    assert [name for name, _ in layers] == COURSE_NAMES
    assert isinstance(layers[0][1], nn.Conv2d) and isinstance(layers[-1][1], nn.Linear)
    if nbits is not None:
        assert all(isinstance(module, QuantConv2d) for _, module in layers[1:-1])


def test_other_modules_are_not_prunable():
    """Are BatchNorm, ReLU and containers left out, and subclasses of Conv2d/Linear kept?"""
    net = nn.Sequential(
        QuantConv2d(3, 4, 3, nbits=2), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4, 2)
    )
    assert [name for name, _ in prunable_layers(net)] == ["0", "4"]


def _shortcut_weights(net):
    return {
        name: m.weight.detach().clone()
        for name, m in net.named_modules()
        if "id_mapping" in name and isinstance(m, nn.Conv2d)
    }


@pytest.mark.parametrize("scope", ["layer", "global"])
def test_id_mapping_shortcuts_are_never_pruned(scope):
    """Do per-layer and global pruning leave the 1x1 shortcut convolutions untouched?"""
    torch.manual_seed(0)
    net = ResNetCIFAR(num_layers=20)
    before = _shortcut_weights(net)
    assert sorted(before) == ["body_op.3.id_mapping.0.conv", "body_op.6.id_mapping.0.conv"]
    if scope == "global":
        global_prune_by_percentage(net, 90)
    else:
        for _, layer in prunable_layers(net):
            prune_by_percentage(layer, 90)
    after = _shortcut_weights(net)
    for name, weight in before.items():
        assert torch.equal(after[name], weight)
        assert (weight != 0).all()
