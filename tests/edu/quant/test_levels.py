"""Counting the weight levels of quantized layers (the check run on submitted checkpoints)."""

import pytest
import torch

from edu.models import ResNetCIFAR
from edu.prune import prepare, prunable_layers, prune_by_percentage, squash_mask
from edu.quant import count_levels, count_weight_levels, quantized_layers

STAGE_CONVS = {f"body_op.{k}.conv{i}.0.conv" for k in range(9) for i in (1, 2)}
SHORTCUTS = {"body_op.3.id_mapping.0.conv", "body_op.6.id_mapping.0.conv"}


def test_count_levels_by_hand():
    """Are distinct values counted, with -0.0 and 0.0 as one?"""
    assert count_levels(torch.tensor([0.0, -0.0, 1.0, 1.0, 2.0, -2.0])) == 4
    assert count_levels(torch.zeros(3, 3)) == 1


def test_float_model_has_no_quantized_layers():
    """Does a float ResNet report no quantized layers?"""
    net = ResNetCIFAR(num_layers=20)
    assert quantized_layers(net) == [] and count_weight_levels(net) == {}


@pytest.mark.parametrize("nbits", [2, 4, 6])
def test_resnet_levels_at_most_two_to_the_n(nbits):
    """Does every quantized stage conv of ResNet-20 use at most 2^N weight values?"""
    torch.manual_seed(nbits)
    levels = count_weight_levels(ResNetCIFAR(num_layers=20, Nbits=nbits))
    assert set(levels) == STAGE_CONVS | SHORTCUTS  # head conv and final linear stay float
    assert all(2 <= count <= 2**nbits for count in levels.values())


@pytest.mark.parametrize("nbits", [2, 3])
def test_symmetric_levels_at_most_two_to_the_n_minus_one(nbits):
    """Symmetric: at most 2^N - 1 values per layer, zero included?"""
    torch.manual_seed(0)
    levels = count_weight_levels(ResNetCIFAR(num_layers=20, Nbits=nbits, symmetric=True))
    assert all(count <= 2**nbits - 1 for count in levels.values())


@pytest.mark.parametrize("nbits", [2, 4])
def test_pruned_then_quantized_checkpoint(nbits):
    """Pruned 70 %, squashed, saved and reloaded quantized: at most 2^N values plus the zero?"""
    torch.manual_seed(1)
    net = ResNetCIFAR(num_layers=20, Nbits=nbits)
    for _, layer in prunable_layers(net):
        prune_by_percentage(layer, 70)
    prepare(net)
    masked_levels = count_weight_levels(net)
    squash_mask(net)
    reloaded = ResNetCIFAR(num_layers=20, Nbits=nbits)
    reloaded.load_state_dict(net.state_dict())
    levels = count_weight_levels(reloaded)
    assert levels == masked_levels
    for name, layer in quantized_layers(reloaded):
        assert levels[name] <= 2**nbits + (1 if name in STAGE_CONVS else 0)
        if name in STAGE_CONVS:
            assert (layer.quantized_weight() == 0).float().mean() >= 0.69
