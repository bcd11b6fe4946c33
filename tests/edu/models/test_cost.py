"""Parameters and MACs of the CIFAR ResNet, against counts written out by hand."""

import pytest
from torch import nn

from edu.models import ResNetCIFAR, model_cost
from edu.prune import prune_model, remove_channels


def _resnet8_macs_by_hand(inner=(16, 32, 64)):
    """Each layer's (output positions x output channels x inputs per output), summed."""
    a, b, c = inner
    layers = [
        32 * 32 * 16 * (3 * 9),  # head conv
        32 * 32 * a * (16 * 9),  # block 0 conv1, 16 -> a, stride 1
        32 * 32 * 16 * (a * 9),  # block 0 conv2, a -> 16
        16 * 16 * b * (16 * 9),  # block 1 conv1, stride 2
        16 * 16 * 32 * (b * 9),
        16 * 16 * 32 * 16,  # block 1 shortcut, 1x1
        8 * 8 * c * (32 * 9),  # block 2 conv1, stride 2
        8 * 8 * 64 * (c * 9),
        8 * 8 * 64 * 32,  # block 2 shortcut
        10 * 64,  # classifier
    ]
    return sum(layers)


def _resnet8_parameters_by_hand(inner=(16, 32, 64)):
    a, b, c = inner
    convs = 16 * 27 + a * 16 * 9 + 16 * a * 9 + b * 16 * 9 + 32 * b * 9 + 32 * 16
    convs += c * 32 * 9 + 64 * c * 9 + 64 * 32
    batchnorms = 2 * (16 + a + 16 + b + 32 + 32 + c + 64 + 64)
    return convs + batchnorms + 64 * 10 + 10


def test_resnet8_cost_is_the_hand_count():
    cost = model_cost(ResNetCIFAR(num_layers=8))
    assert cost.macs == _resnet8_macs_by_hand()
    assert cost.parameters == _resnet8_parameters_by_hand()


def test_channel_pruned_cost_is_the_hand_count_of_the_narrower_network():
    cost = model_cost(remove_channels(ResNetCIFAR(num_layers=8), [5, 9, 40]))
    assert cost.macs == _resnet8_macs_by_hand((5, 9, 40))
    assert cost.parameters == _resnet8_parameters_by_hand((5, 9, 40))


def test_resnet20_is_about_41_million_macs_and_unstructured_zeros_change_nothing():
    """ResNet-20 (option-B shortcuts) costs 40.8 M MACs; 70 % zeros are still multiplied."""
    net = ResNetCIFAR(num_layers=20, Nbits=4)
    dense = model_cost(net)
    assert dense.macs == pytest.approx(40.81e6, rel=1e-3) and dense.parameters == 272_474
    prune_model(net, 70)
    assert model_cost(net).macs == dense.macs
    assert net.training  # counting does not leave the model in eval mode


def test_linear_and_grouped_convolutions():
    assert model_cost(nn.Linear(7, 3), image_shape=(7,)).macs == 21
    depthwise = nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False)
    assert model_cost(depthwise, image_shape=(8, 4, 4)).macs == 8 * 16 * 9
