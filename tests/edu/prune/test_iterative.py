"""Iterative pruning hooks: prune on schedule, let weights grow back, then enforce the mask."""

import pytest
import torch
from torch import nn

from edu.prune import IterativePruning, prunable_layers, sparsity_report


def test_iterative_schedule_prunes_then_enforces_the_mask(
    random_batches, pruned_resnet, momentum_sgd
):
    """Does each of the first 10 epochs prune to 7(e+1)% and the mask hold afterwards?"""
    net = pruned_resnet(q=0)
    schedule = IterativePruning(final=70.0, prune_epochs=10)
    for epoch in range(12):
        schedule.before_epoch(epoch, net)
        if epoch < 10:
            for name, layer in prunable_layers(net):
                assert (layer.weight == 0).float().mean().item() == pytest.approx(
                    0.07 * (epoch + 1), abs=1.5 / layer.weight.numel() + 1e-6
                ), name
        zeros_before = sparsity_report(net).total_sparsity
        finetune_like = momentum_sgd(net)
        for x, y in random_batches(num_batches=1):
            nn.functional.cross_entropy(net(x), y).backward()
            finetune_like.step()
            schedule.after_step(net)
        after = sparsity_report(net).total_sparsity
        if epoch < 9:
            assert after < zeros_before, "weights must be free to grow back before the last step"
        else:
            assert after == zeros_before


def test_a_resumed_schedule_rebuilds_the_mask_from_the_non_zeros(
    random_batches, pruned_resnet, momentum_sgd
):
    """After a resume past the pruning epochs, is the mask recovered and enforced?"""
    net = pruned_resnet(q=70)
    schedule = IterativePruning()
    schedule.before_epoch(15, net)
    sparsity = sparsity_report(net).total_sparsity
    optimizer = momentum_sgd(net)
    for x, y in random_batches(num_batches=2):
        nn.functional.cross_entropy(net(x), y).backward()
        optimizer.step()
        schedule.after_step(net)
    assert sparsity_report(net).total_sparsity == sparsity


def test_global_scope_uses_one_threshold_and_unknown_scope_is_refused(pruned_resnet):
    """Is every kept |w| above every pruned one across layers with scope='global'?"""
    net = pruned_resnet(q=0)
    original = [layer.weight.detach().abs().clone() for _, layer in prunable_layers(net)]
    IterativePruning(scope="global").before_epoch(9, net)
    kept = [layer.weight != 0 for _, layer in prunable_layers(net)]
    smallest_kept = min(w[k].min() for w, k in zip(original, kept, strict=True))
    largest_pruned = max(w[~k].max() for w, k in zip(original, kept, strict=True) if (~k).any())
    assert smallest_kept >= largest_pruned
    total = sum(w.numel() for w in original)
    assert sum(int(k.sum()) for k in kept) == pytest.approx(0.3 * total, abs=2)
    with pytest.raises(ValueError, match="scope"):
        IterativePruning(scope="channel")


def test_a_given_pruning_step_gets_the_schedule_targets():
    """With its own pruning step, are the targets 70 (e + 1) / P % and the mask fixed at P?"""
    targets = []
    schedule = IterativePruning(prune=lambda net, q: targets.append(q), prune_epochs=10)
    net = nn.Sequential(nn.Linear(4, 4))
    for epoch in range(12):
        schedule.before_epoch(epoch, net)
    assert targets == pytest.approx([7.0 * (e + 1) for e in range(10)])
    with torch.no_grad():
        net[0].weight.fill_(1.0)
    schedule.after_step(net)
    assert int((net[0].weight == 0).sum()) == 0  # the mask was fixed while nothing was pruned


def test_at_least_one_pruning_epoch():
    """Is a schedule without pruning steps refused?"""
    with pytest.raises(ValueError, match="prune_epochs must be >= 1"):
        IterativePruning(prune_epochs=0)


@pytest.mark.parametrize("prune_epochs", [1, 3, 10])
def test_mask_from_epoch_is_the_first_epoch_whose_steps_keep_the_zeros(prune_epochs):
    """Is mask_from_epoch (prune_epochs - 1) the first epoch in which a revived zero stays 0?"""
    net = nn.Linear(10, 10)
    schedule = IterativePruning(final=70.0, prune_epochs=prune_epochs)
    enforced = []
    for epoch in range(prune_epochs + 3):
        schedule.before_epoch(epoch, net)
        zeros = net.weight.detach() == 0
        with torch.no_grad():
            net.weight.add_(1.0)  # an optimizer step that moves every weight
        schedule.after_step(net)
        enforced.append(bool(torch.all(net.weight[zeros] == 0)))
    first = enforced.index(True)
    assert first == schedule.mask_from_epoch == prune_epochs - 1
    assert all(enforced[first:])
