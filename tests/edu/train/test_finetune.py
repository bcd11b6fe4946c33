"""Finetuning pruned models: fixed masks and the iterative schedule."""

import torch

from edu.prune import prunable_layers, sparsity_report
from edu.train import finetune_after_prune


def test_finetune_after_prune_keeps_pruned_weights_at_zero(
    random_batches, pruned_resnet, momentum_sgd
):
    """Do the zeros of a 70%-pruned model survive an epoch of SGD with momentum and decay?"""
    net = pruned_resnet()
    zeros = {name: layer.weight == 0 for name, layer in prunable_layers(net)}
    before = {name: layer.weight.detach().clone() for name, layer in prunable_layers(net)}
    finetune_after_prune(net, random_batches(), None, momentum_sgd(net), progress=False)
    for name, layer in prunable_layers(net):
        assert torch.all(layer.weight[zeros[name]] == 0), name
        assert not torch.equal(layer.weight[~zeros[name]], before[name][~zeros[name]]), name


def test_without_prune_flag_pruned_weights_grow_back(random_batches, pruned_resnet, momentum_sgd):
    """Is the mask what keeps the zeros (control: prune=False revives them)?"""
    net = pruned_resnet()
    finetune_after_prune(
        net, random_batches(), None, momentum_sgd(net), prune=False, progress=False
    )
    assert sparsity_report(net).total_sparsity < 0.1
