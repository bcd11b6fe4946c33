"""Finetuning pruned models: fixed masks and the iterative schedule."""

import torch

from edu.models import ResNetCIFAR
from edu.prune import prunable_layers, prune_by_percentage, sparsity_report
from edu.train import finetune_after_prune, seed_everything


def _batches(num_batches=3, batch_size=8, seed=0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(num_batches * batch_size, 3, 32, 32, generator=generator)
    y = torch.randint(0, 10, (num_batches * batch_size,), generator=generator)
    return list(zip(x.split(batch_size), y.split(batch_size), strict=True))


def _pruned_net(q=70):
    seed_everything(0)
    net = ResNetCIFAR()
    for _, layer in prunable_layers(net):
        prune_by_percentage(layer, q)
    return net


def _optimizer(net):
    return torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)


def test_finetune_after_prune_keeps_pruned_weights_at_zero():
    """Do the zeros of a 70%-pruned model survive an epoch of SGD with momentum and decay?"""
    net = _pruned_net()
    zeros = {name: layer.weight == 0 for name, layer in prunable_layers(net)}
    before = {name: layer.weight.detach().clone() for name, layer in prunable_layers(net)}
    finetune_after_prune(net, _batches(), None, _optimizer(net), progress=False)
    for name, layer in prunable_layers(net):
        assert torch.all(layer.weight[zeros[name]] == 0), name
        assert not torch.equal(layer.weight[~zeros[name]], before[name][~zeros[name]]), name


def test_without_prune_flag_pruned_weights_grow_back():
    """Is the mask what keeps the zeros (control: prune=False revives them)?"""
    net = _pruned_net()
    finetune_after_prune(net, _batches(), None, _optimizer(net), prune=False, progress=False)
    assert sparsity_report(net).total_sparsity < 0.1
