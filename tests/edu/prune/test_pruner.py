"""MagnitudePruner: gradual pruning along a schedule with masks enforced in between."""

import functools

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from edu.prune import (
    MagnitudePruner,
    cubic_sparsity,
    get_mask,
    iterative_sparsity,
    prunable_layers,
    sparsity_report,
)


def _net():
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Linear(20, 30), nn.ReLU(), nn.Linear(30, 30), nn.ReLU(), nn.Linear(30, 5)
    )


@pytest.mark.parametrize("scope", ["layer", "global"])
def test_cubic_pruning_with_sgd_in_between(scope):
    """Does each step reach the schedule's sparsity, with pruned weights never coming back?"""
    net = _net()
    schedule = functools.partial(cubic_sparsity, end_step=6, final=80.0, frequency=2)
    pruner = MagnitudePruner(schedule, scope=scope)
    pruner.prepare(net)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    x, y = torch.randn(16, 20), torch.randint(0, 5, (16,))
    previous = {
        name: torch.ones_like(layer.weight, dtype=torch.bool)
        for name, layer in prunable_layers(net)
    }
    # s_t = 80 (1 - (1 - t'/6)^3) with t' = t rounded down to even: 0, 80 * 19/27, 80 * 26/27.
    expected = [0.0, 0.0, 1520 / 27, 1520 / 27, 2080 / 27, 2080 / 27, 80.0, 80.0]
    for step in range(8):
        optimizer.zero_grad()
        F.cross_entropy(net(x), y).backward()
        optimizer.step()
        target = pruner.step()
        assert target == pytest.approx(expected[step], rel=1e-12, abs=0.0)
        report = sparsity_report(net)
        if scope == "layer":
            for row in report.layers:
                assert abs(row.sparsity - target / 100) <= 1 / row.weights
        else:
            assert abs(report.total_sparsity - target / 100) <= 1 / report.total_weights
        for name, layer in prunable_layers(net):
            mask = get_mask(layer).clone()
            assert not (mask & ~previous[name]).any()
            previous[name] = mask
    assert pruner.sparsity == 80.0
    pruner.squash_mask()
    assert all(get_mask(layer) is None for _, layer in prunable_layers(net))
    assert abs(sparsity_report(net).total_sparsity - 0.8) < 0.01


def test_explicit_step_index_and_errors():
    """Can step() be told the index (to resume), and are misuse cases refused?"""
    pruner = MagnitudePruner(iterative_sparsity)
    with pytest.raises(RuntimeError):
        pruner.step()
    with pytest.raises(ValueError):
        MagnitudePruner(iterative_sparsity, scope="row")
    net = _net()
    pruner.prepare(net)
    assert pruner.step(9) == 70.0 and pruner.steps_done == 10
    assert abs(sparsity_report(net).total_sparsity - 0.7) < 0.01
