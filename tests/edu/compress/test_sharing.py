"""Finetuning with shared weights, against two oracles that share no code with it.

- The centroids as the only parameters (``weight = centroids[labels]``): autograd gives
  each centroid the sum of its weights' gradients (Deep Compression), and the step
  ``lr / |C_j|`` along it must be the shared weights' step.
- Codebook updates as in MIT 6.5940's k-means lab: every weight takes its own SGD step,
  then each weight is put back on its cluster's mean.
"""

import copy

import pytest
import torch
from torch import nn

from edu.compress import cluster_labels, kmeans_quantize, share_weights
from edu.models import ResNetCIFAR
from edu.prune import prune_model, squash_mask
from edu.quant import QuantLinear


class _CentroidLayer(nn.Module):
    """A linear layer whose only parameters are its centroids.

    ``weight = centroids[labels]`` (0 where pruned); autograd gives each centroid the
    sum of its weights' gradients, as the paper prescribes.
    """

    def __init__(self, weight):
        super().__init__()
        labels, count = cluster_labels(weight)
        values = torch.zeros(count)
        values[labels[labels >= 0]] = weight[labels >= 0]
        self.centroids = nn.Parameter(values)
        self.register_buffer("labels", labels)
        self.register_buffer("sizes", torch.bincount(labels[labels >= 0], minlength=count))

    def weight(self):
        member = self.labels >= 0
        full = torch.zeros(self.labels.shape)
        full[member] = self.centroids[self.labels[member]]
        return full


def _sparse_weight(seed=0):
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(6, 20, generator=g)
    w[torch.rand(6, 20, generator=g) < 0.4] = 0
    return w


def _shared_layer(bits=2):
    layer = QuantLinear(20, 6, bias=False, nbits=None)
    with torch.no_grad():
        layer.weight.copy_(_sparse_weight())
    hooks = share_weights(layer, bits=bits)
    assert hooks.layers == [""]
    return layer


def _batches(count=5):
    g = torch.Generator().manual_seed(1)
    return [(torch.randn(8, 20, generator=g), torch.randn(8, 6, generator=g)) for _ in range(count)]


def _step(forward, optimizer, x, target):
    optimizer.zero_grad()
    ((forward(x) - target) ** 2).mean().backward()
    optimizer.step()


def test_each_centroid_steps_lr_over_its_size_along_its_summed_gradient():
    """Plain SGD: is the shared layer the centroid model stepped by lr / |C_j| * dL/dc_j?"""
    layer = _shared_layer()
    oracle = _CentroidLayer(layer.weight.detach().clone())
    assert oracle.sizes.max() > 1  # clusters of several weights, or the test shows nothing
    lr = 0.05
    ours = torch.optim.SGD(layer.parameters(), lr=lr)
    for x, target in _batches():
        _step(layer, ours, x, target)
        oracle.centroids.grad = None
        ((x @ oracle.weight().T - target) ** 2).mean().backward()
        with torch.no_grad():
            oracle.centroids -= lr / oracle.sizes * oracle.centroids.grad
    torch.testing.assert_close(layer.weight.detach(), oracle.weight().detach(), rtol=0, atol=1e-6)


@pytest.mark.parametrize("nesterov", [False, True])
def test_shared_weights_follow_weights_stepped_alone_then_put_on_their_cluster_means(nesterov):
    """Same data, same SGD (momentum, weight decay): do both layers keep equal weights?"""
    layer = _shared_layer()
    labels, count = cluster_labels(layer.weight)
    member = labels >= 0
    oracle = QuantLinear(20, 6, bias=False, nbits=None)
    with torch.no_grad():
        oracle.weight.copy_(layer.weight)
    settings = dict(lr=0.05, momentum=0.9, weight_decay=5e-3, nesterov=nesterov)
    ours = torch.optim.SGD(layer.parameters(), **settings)
    theirs = torch.optim.SGD(oracle.parameters(), **settings)
    for x, target in _batches():
        _step(layer, ours, x, target)
        _step(oracle, theirs, x, target)
        with torch.no_grad():  # every weight back on its cluster's mean, zeros back to 0
            means = torch.zeros(count).index_add_(0, labels[member], oracle.weight[member])
            means /= torch.bincount(labels[member], minlength=count)
            oracle.weight.copy_(torch.where(member, means[labels.clamp(min=0)], 0.0))
    torch.testing.assert_close(layer.weight.detach(), oracle.weight.detach(), rtol=0, atol=1e-6)
    assert torch.unique(layer.weight[layer.weight != 0]).numel() <= 4
    assert torch.equal(layer.weight == 0, _sparse_weight() == 0)  # the zeros stayed


def test_a_shared_resnet_stays_on_its_codebook_through_training(random_batches):
    """After steps of SGD on a pruned ResNet, does every shared layer hold <= 2^N values?"""
    torch.manual_seed(0)
    net = ResNetCIFAR(num_layers=8)
    prune_model(net, 50)
    squash_mask(net)
    zeros = {n: m.weight == 0 for n, m in net.named_modules() if hasattr(m, "nbits")}
    shared = share_weights(net, bits=3)
    assert len(shared.layers) == 8  # 6 block convs and 2 shortcuts; head and classifier float
    optimizer = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    for x, y in random_batches(num_batches=3):
        optimizer.zero_grad()
        nn.functional.cross_entropy(net(x), y).backward()
        optimizer.step()
    for name in shared.layers:
        weight = net.get_submodule(name).weight
        assert torch.unique(weight[weight != 0]).numel() <= 8
        assert torch.equal(weight == 0, zeros[name])
    assert torch.unique(net.head_conv[0].conv.weight).numel() > 8


def test_sharing_a_shared_model_again_changes_nothing():
    """A resumed run re-shares its weights: are they kept, value for value?"""
    net = ResNetCIFAR(num_layers=8)
    share_weights(net, bits=2).remove()
    before = copy.deepcopy(net.state_dict())
    share_weights(net, bits=2)
    after = net.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_removed_sharing_lets_weights_move_apart():
    layer = QuantLinear(4, 1, bias=False, nbits=None)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[1.0, 1.0, 2.0, 2.0]]))
    share_weights(layer, bits=1).remove()
    layer(torch.tensor([[1.0, 0.0, 0.0, 0.0]])).sum().backward()
    assert layer.weight.grad.tolist() == [[1.0, 0.0, 0.0, 0.0]]


def test_kmeans_keeps_weights_that_already_fit_the_codebook():
    """Five distinct values and 8 centroids: the optimum is the values themselves."""
    w = torch.tensor([0.0, 0.1, 0.11, 0.12, 5.0, 9.0, 0.1])
    assert torch.equal(kmeans_quantize(w, 3), w)
