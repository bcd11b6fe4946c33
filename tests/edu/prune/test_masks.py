"""Masks that survive finetuning: prepare -> SGD steps -> squash_mask."""

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from edu.models import ResNetCIFAR
from edu.prune import (
    apply_masks,
    get_mask,
    masks_from_nonzeros,
    plain_state_dict,
    prepare,
    prunable_layers,
    prune_by_percentage,
    squash_mask,
    update_masks,
)
from edu.quant import QuantConv2d, quantize_weights


def _pruned_resnet(nbits=None, q=70, seed=0):
    torch.manual_seed(seed)
    net = ResNetCIFAR(num_layers=20, Nbits=nbits)
    for _, layer in prunable_layers(net):
        prune_by_percentage(layer, q)
    return net


def _sgd_steps(net, optimizer, steps, after_step=None, check=None, seed=1):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(8, 3, 32, 32, generator=g)
    y = torch.randint(0, 10, (8,), generator=g)
    net.train()
    for _ in range(steps):
        optimizer.zero_grad()
        F.cross_entropy(net(x), y).backward()
        optimizer.step()
        if after_step is not None:
            after_step(net)
        if check is not None:
            check()


def _sgd(net):
    return torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)


@pytest.mark.parametrize("nbits", [None, 4])
def test_pruned_weights_stay_zero_through_sgd_with_momentum(nbits):
    """After every SGD step (momentum 0.9, weight decay 5e-4), are pruned weights exactly 0?

    The optimizer is built before ``prepare``: the masked layer keeps the same
    parameter object, so the optimizer still trains it. For the quantized model the
    quantized weights (what the convolutions use) are checked too.
    """
    net = _pruned_resnet(nbits)
    optimizer = _sgd(net)
    masks = prepare(net)
    layers = prunable_layers(net)
    start = {name: layer.weight.detach().clone() for name, layer in layers}

    def check():
        for name, layer in layers:
            pruned = ~masks[name]
            assert (layer.weight[pruned] == 0).all()
            assert (layer.parametrizations.weight.original[pruned] == 0).all()
            if nbits is not None and hasattr(layer, "quantized_weight"):
                assert (layer.quantized_weight()[pruned] == 0).all()

    _sgd_steps(net, optimizer, steps=3, check=check)
    for name, layer in layers:
        assert torch.equal(get_mask(layer), masks[name])
        assert not torch.equal(layer.weight.detach(), start[name])  # the kept weights trained


def test_without_masks_sgd_revives_pruned_weights():
    """Control: does plain SGD make pruned weights non-zero (so the test above means something)?"""
    net = _pruned_resnet()
    masks = masks_from_nonzeros(net)
    _sgd_steps(net, _sgd(net), steps=1)
    layer = dict(prunable_layers(net))["body_op.0.conv1.0.conv"]
    assert (layer.weight[~masks["body_op.0.conv1.0.conv"]] != 0).any()


def test_apply_masks_after_each_step_without_prepare():
    """Does the course's recipe (masks from non-zeros, re-applied after each step) keep zeros?"""
    net = _pruned_resnet(q=50)
    keys = list(net.state_dict())
    masks = masks_from_nonzeros(net)
    assert all(mask.dtype == torch.bool for mask in masks.values())

    def check():
        for name, layer in prunable_layers(net):
            assert (layer.weight[~masks[name]] == 0).all()

    _sgd_steps(net, _sgd(net), steps=2, after_step=lambda n: apply_masks(n, masks), check=check)
    assert list(net.state_dict()) == keys


@pytest.mark.parametrize("nbits", [None, 3])
def test_squash_mask_gives_plain_keys_and_the_same_output(nbits):
    """After squash_mask, are the state-dict keys those of an unpruned model, the output equal?"""
    net = _pruned_resnet(nbits)
    prepare(net)
    _sgd_steps(net, _sgd(net), steps=1)
    net.eval()
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        masked_output = net(x)
    plain = plain_state_dict(net)
    squash_mask(net)
    fresh = ResNetCIFAR(num_layers=20, Nbits=nbits)
    assert set(net.state_dict()) == set(fresh.state_dict()) == set(plain)
    assert all(torch.equal(plain[key], value) for key, value in net.state_dict().items())
    assert all(get_mask(layer) is None for _, layer in prunable_layers(net))
    fresh.load_state_dict(net.state_dict())  # strict
    fresh.eval()
    with torch.no_grad():
        assert torch.equal(net(x), masked_output)
        assert torch.equal(fresh(x), masked_output)
    zeros = sum(int((layer.weight == 0).sum()) for _, layer in prunable_layers(fresh))
    total = sum(layer.weight.numel() for _, layer in prunable_layers(fresh))
    assert abs(zeros / total - 0.7) < 0.01


def test_quantizer_sees_the_masked_weight():
    """Does a masked QuantConv2d quantize weight * mask, scaled from the kept weights only?"""
    torch.manual_seed(3)
    conv = QuantConv2d(4, 6, 3, nbits=2, bias=False)
    mask = torch.rand(conv.weight.shape) > 0.5
    prepare(conv, masks={"": mask})
    with torch.no_grad():  # make the stored pruned weights large: they must not matter
        conv.parametrizations.weight.original.masked_fill_(~mask, 100.0)
    kept = conv.parametrizations.weight.original.detach() * mask
    expected = quantize_weights(kept, 2)
    assert expected.abs().max() < 100.0
    assert torch.equal(conv.quantized_weight().detach(), expected)
    x = torch.randn(1, 4, 8, 8)
    assert torch.equal(conv(x), F.conv2d(x, expected))


def test_gradient_of_pruned_weights_is_zero():
    """Is the gradient reaching a pruned stored weight exactly 0, and the rest unchanged?"""
    torch.manual_seed(4)
    layer = nn.Linear(10, 5)
    mask = torch.rand(5, 10) > 0.3
    reference = nn.Linear(10, 5)
    reference.load_state_dict(layer.state_dict())
    with torch.no_grad():
        reference.weight.mul_(mask)
    prepare(layer, masks={"": mask})
    x = torch.randn(3, 10)
    layer(x).square().sum().backward()
    reference(x).square().sum().backward()
    grad = layer.parametrizations.weight.original.grad
    assert (grad[~mask] == 0).all()
    torch.testing.assert_close(grad[mask], reference.weight.grad[mask], rtol=1e-6, atol=1e-7)


def test_prepare_twice_replaces_the_mask_and_update_needs_prepare():
    """Does a second prepare replace the mask (no stacking); update_masks refuse bare layers?"""
    layer = nn.Linear(4, 4)
    with pytest.raises(ValueError, match="prepare"):
        update_masks(layer, {"": torch.ones(4, 4, dtype=torch.bool)})
    prepare(layer, masks={"": torch.eye(4, dtype=torch.bool)})
    prepare(layer, masks={"": torch.eye(4, dtype=torch.bool).flip(0)})
    assert len(layer.parametrizations.weight) == 1
    assert torch.equal(layer.weight != 0, torch.zeros(4, 4, dtype=torch.bool))  # both pruned
    update_masks(layer, {"": torch.ones(4, 4, dtype=torch.bool)})
    assert get_mask(layer).all()


def test_bad_mask_shape_raises():
    """Is a mask of the wrong shape refused?"""
    with pytest.raises(ValueError, match="shape"):
        prepare(nn.Linear(4, 3), masks={"": torch.ones(4, 3, dtype=torch.bool)})
