"""Per-layer and global magnitude pruning, against ``torch.nn.utils.prune`` and numpy."""

import copy
import math

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn.utils import prune as torch_prune

from edu.models import ResNetCIFAR
from edu.prune import (
    get_mask,
    global_prune_by_percentage,
    percentile,
    prepare,
    prunable_layers,
    prune_by_percentage,
    prune_model,
)


def _distinct_weights(shape, seed, scale=1.0):
    """Weights with distinct magnitudes (a shuffled 1..n, random signs): no ties by design."""
    g = torch.Generator().manual_seed(seed)
    n = math.prod(shape)
    magnitudes = (torch.randperm(n, generator=g) + 1).float() / n * scale
    signs = torch.randint(0, 2, (n,), generator=g).float() * 2 - 1
    return (magnitudes * signs).reshape(shape)


def _layer(shape, weight):
    layer = nn.Conv2d(shape[1], shape[0], shape[2:]) if len(shape) == 4 else nn.Linear(*shape[::-1])
    with torch.no_grad():
        layer.weight.copy_(weight)
    return layer


def _q_for_count(k, n):
    """The q whose percentile position q (n - 1) / 100 is k - 1/2.

    Linear interpolation then puts the threshold strictly between the k-th and the
    (k+1)-th smallest magnitudes, so exactly k weights fall below it, with no floating
    point edge case (a position landing exactly on an order statistic could round
    either way). ``l1_unstructured(amount=k / n)`` prunes ``round(amount * n) = k``.
    """
    return 100.0 * (k - 0.5) / (n - 1)


@pytest.mark.parametrize(
    ("shape", "k"), [((16, 3, 3, 3), 130), ((10, 64), 448), ((32, 16, 3, 3), 3226), ((4, 5), 1)]
)
def test_prune_by_percentage_agrees_with_l1_unstructured(shape, k):
    """Does per-layer pruning zero exactly the weights l1_unstructured zeroes? (exact)"""
    n = math.prod(shape)
    weight = _distinct_weights(shape, seed=k)
    ours = _layer(shape, weight)
    oracle = _layer(shape, weight)
    keep = prune_by_percentage(ours, _q_for_count(k, n))
    torch_prune.l1_unstructured(oracle, "weight", amount=k / n)
    assert torch.equal(keep, oracle.weight_mask.bool())
    assert torch.equal(ours.weight.detach(), oracle.weight.detach())
    assert int((ours.weight == 0).sum()) == k


def test_hand_computed_threshold():
    """Is the 30th percentile of |w| = (1..5) the interpolated 2.2, keeping 3, 4, 5?"""
    layer = _layer((1, 5), torch.tensor([[-5.0, 1.0, 4.0, -2.0, 3.0]]))
    keep = prune_by_percentage(layer, 30)
    assert keep.tolist() == [[True, False, True, False, True]]
    assert layer.weight.tolist() == [[-5.0, 0.0, 4.0, 0.0, 3.0]]


@pytest.mark.parametrize("q", [0.0, 7.0, 30.0, 33.3, 50.0, 70.0, 99.9, 100.0])
def test_percentile_is_numpys(q):
    """Is the threshold numpy's linear-interpolation percentile of |w|? (exact)"""
    w = torch.randn(1000, generator=torch.Generator().manual_seed(1))
    assert percentile(w.abs(), q) == np.percentile(np.abs(w.numpy()), q)


@pytest.mark.parametrize("q", [30, 50, 70])
def test_every_resnet_layer_gets_q_percent(q):
    """Is every layer of ResNet-20 q % sparse, to within one weight (1/n)?"""
    torch.manual_seed(0)
    net = ResNetCIFAR(num_layers=20)
    for _, layer in prunable_layers(net):
        prune_by_percentage(layer, q)
        n = layer.weight.numel()
        assert abs(float((layer.weight == 0).sum()) / n - q / 100) <= 1 / n


@pytest.mark.parametrize("q", [-1, 100.5, float("nan")])
def test_bad_percentages_raise(q):
    """Are percentages outside [0, 100] refused?"""
    with pytest.raises(ValueError, match="q must be"):
        prune_by_percentage(nn.Linear(3, 3), q)


def test_pruning_a_masked_layer_updates_its_mask():
    """On a masked layer, does pruning shrink the mask (not just the weight)?"""
    layer = _layer((20, 10), _distinct_weights((20, 10), seed=3))
    first = prune_by_percentage(layer, 50)
    prepare(layer)
    keep = prune_by_percentage(layer, 70)
    mask = get_mask(layer)
    assert torch.equal(mask, keep)
    assert int((~mask).sum()) == 140
    assert not (mask & ~first).any()  # nothing pruned before comes back
    assert (layer.parametrizations.weight.original[~mask] == 0).all()
    # A lower target prunes nothing more and revives nothing.
    again = prune_by_percentage(layer, 30)
    assert torch.equal(again, keep) and torch.equal(get_mask(layer), keep)


def _two_scale_net(seed=0):
    """Three layers holding distinct magnitudes at very different scales (no ties)."""
    net = nn.Sequential(nn.Linear(30, 20), nn.Linear(20, 40), nn.Linear(40, 10))
    weights = _distinct_weights((1800,), seed=seed)
    with torch.no_grad():
        net[0].weight.copy_(weights[:600].reshape(20, 30) * 10.0)
        net[1].weight.copy_(weights[600:1400].reshape(40, 20) * 0.1)
        net[2].weight.copy_(weights[1400:].reshape(10, 40))
    return net


def test_global_pruning_agrees_with_global_unstructured():
    """Does global pruning zero exactly what prune.global_unstructured zeroes? (exact)"""
    net = _two_scale_net()
    oracle = copy.deepcopy(net)
    k, n = 900, 1800
    result = global_prune_by_percentage(net, _q_for_count(k, n))
    torch_prune.global_unstructured(
        [(m, "weight") for m in oracle], pruning_method=torch_prune.L1Unstructured, amount=k / n
    )
    for index, module in enumerate(oracle):
        assert torch.equal(result.masks[str(index)], module.weight_mask.bool())
        assert torch.equal(net[index].weight.detach(), module.weight.detach())


def test_global_pruning_uses_one_threshold_and_uneven_sparsity():
    """Is every kept |w| above every pruned |w|, across layers, with uneven per-layer sparsity?"""
    net = _two_scale_net(seed=1)
    before = [m.weight.detach().abs().clone() for m in net]
    threshold, masks = global_prune_by_percentage(net, 50)
    kept = torch.cat([w[masks[str(i)]] for i, w in enumerate(before)])
    pruned = torch.cat([w[~masks[str(i)]] for i, w in enumerate(before)])
    assert pruned.max() < threshold <= kept.min()
    sparsity = [float((m.weight == 0).float().mean()) for m in net]
    assert sparsity[0] < 0.1 and sparsity[1] == 1.0  # the x10 layer survives, the x0.1 one goes
    total = sum(int((m.weight == 0).sum()) for m in net) / 1800
    assert abs(total - 0.5) <= 1 / 1800


def test_global_pruning_on_resnet_reaches_the_total():
    """Is ResNet-20 70 % sparse in total after one global pruning, unevenly per layer?"""
    torch.manual_seed(0)
    net = ResNetCIFAR(num_layers=20)
    global_prune_by_percentage(net, 70)
    layers = prunable_layers(net)
    zeros = [int((m.weight == 0).sum()) for _, m in layers]
    total = sum(m.weight.numel() for _, m in layers)
    assert abs(sum(zeros) / total - 0.7) <= 1 / total
    per_layer = [z / m.weight.numel() for z, (_, m) in zip(zeros, layers, strict=True)]
    assert max(per_layer) - min(per_layer) > 0.1


def _three_layer_net(seed=0):
    """Three layers of different sizes, every magnitude distinct within the model."""
    net = nn.Sequential(nn.Linear(30, 20), nn.ReLU(), nn.Linear(20, 40), nn.Linear(40, 10))
    weights = _distinct_weights((1800,), seed=seed)
    with torch.no_grad():
        net[0].weight.copy_(weights[:600].reshape(20, 30))
        net[2].weight.copy_(weights[600:1400].reshape(40, 20))
        net[3].weight.copy_(weights[1400:].reshape(10, 40))
    return net


def _linears(net):
    return {name: module for name, module in net.named_children() if isinstance(module, nn.Linear)}


def test_prune_model_per_layer_agrees_with_l1_unstructured():
    """Does prune_model(scope="layer") zero in each layer what l1_unstructured zeroes? (exact)

    q = 37.3 % puts the percentile position q (n - 1) / 100 well between two order
    statistics for n = 600, 800 and 400 (223.4, 298.0, 148.8), so exactly
    ceil(q (n - 1) / 100) = 224, 299, 149 weights fall below each layer's threshold.
    """
    net = _three_layer_net()
    oracle = copy.deepcopy(net)
    masks = prune_model(net, 37.3, "layer")
    expected_zeros = {"0": 224, "2": 299, "3": 149}
    assert sorted(masks) == sorted(expected_zeros)
    for name, module in _linears(oracle).items():
        torch_prune.l1_unstructured(module, "weight", amount=expected_zeros[name])
        assert torch.equal(masks[name], module.weight_mask.bool())
        assert torch.equal(_linears(net)[name].weight.detach(), module.weight.detach())
        assert int((_linears(net)[name].weight == 0).sum()) == expected_zeros[name]


def test_prune_model_global_agrees_with_global_unstructured():
    """Does prune_model(scope="global") zero what global_unstructured zeroes, one threshold?"""
    net = _two_scale_net(seed=2)
    oracle = copy.deepcopy(net)
    before = [m.weight.detach().abs().clone() for m in net]
    k, n = 700, 1800
    masks = prune_model(net, _q_for_count(k, n), scope="global")
    torch_prune.global_unstructured(
        [(m, "weight") for m in oracle], pruning_method=torch_prune.L1Unstructured, amount=k
    )
    for index, module in enumerate(oracle):
        assert torch.equal(masks[str(index)], module.weight_mask.bool())
        assert torch.equal(net[index].weight.detach(), module.weight.detach())
    kept = torch.cat([w[masks[str(i)]] for i, w in enumerate(before)])
    pruned = torch.cat([w[~masks[str(i)]] for i, w in enumerate(before)])
    assert pruned.numel() == k and pruned.max() < kept.min()


def test_prune_model_only_touches_the_named_layers():
    """With layers=, are only those layers pruned and the others left as they were?"""
    net = _three_layer_net(seed=4)
    untouched = net[2].weight.detach().clone()
    masks = prune_model(net, 50, layers=["0", "3"])
    assert sorted(masks) == ["0", "3"]
    assert torch.equal(net[2].weight.detach(), untouched)
    assert int((net[0].weight == 0).sum()) == 300 and int((net[3].weight == 0).sum()) == 200


@pytest.mark.parametrize("scope", ["row", "Layer", ""])
def test_prune_model_refuses_other_scopes(scope):
    """Is a scope other than "layer" or "global" a ValueError that prunes nothing?"""
    net = _three_layer_net()
    before = copy.deepcopy(net.state_dict())
    with pytest.raises(ValueError, match="scope must be 'layer' or 'global'"):
        prune_model(net, 50, scope)
    assert all(torch.equal(before[key], value) for key, value in net.state_dict().items())
