"""Sensitivity scans and the sparsities chosen from them, against brute force."""

import copy
import itertools

import pytest
import torch

from edu.models import ResNetCIFAR
from edu.prune import (
    SensitivityScan,
    prunable_layers,
    prune_by_percentage,
    sensitivity_scan,
    sensitivity_sparsities,
)


def _accuracy_by_hand(net, batches):
    net.eval()
    with torch.no_grad():
        right = sum(int((net(x).argmax(1) == y).sum()) for x, y in batches)
    return right / sum(len(y) for _, y in batches)


def test_scan_measures_each_layer_pruned_alone_and_restores_it(random_batches):
    torch.manual_seed(0)
    net = ResNetCIFAR(num_layers=8).eval()
    for module in net.modules():  # a fresh model predicts one class; make its outputs vary
        if isinstance(module, torch.nn.BatchNorm2d):
            module.weight.data.normal_()
            module.bias.data.normal_()
    batches = random_batches(num_batches=4, batch_size=32)
    before = copy.deepcopy(net.state_dict())
    scan = sensitivity_scan(net, batches, [90, 30])
    assert scan.sparsities == [30.0, 90.0]
    assert scan.base_accuracy == pytest.approx(_accuracy_by_hand(copy.deepcopy(net), batches))
    names = [name for name, _ in prunable_layers(net)]
    assert list(scan.accuracies) == names
    for name, q in [(names[0], 90.0), (names[3], 30.0), (names[-1], 90.0)]:
        alone = copy.deepcopy(net)
        prune_by_percentage(alone.get_submodule(name), q)
        expected = _accuracy_by_hand(alone, batches)
        assert scan.accuracies[name][scan.sparsities.index(q)] == pytest.approx(expected)
    assert scan.sizes[names[0]] == 16 * 3 * 9
    assert scan.num_images == 4 * 32
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
    assert len({a for accs in scan.accuracies.values() for a in accs}) > 1  # pruning told


def _minimax_by_brute_force(scan, total):
    """The least worst-layer loss of any assignment of scanned sparsities reaching ``total``."""
    options = [
        [(0.0, 0.0)]
        + [
            (q, max(0.0, scan.base_accuracy - a))
            for q, a in zip(scan.sparsities, accs, strict=True)
        ]
        for accs in scan.accuracies.values()
    ]
    weights = sum(scan.sizes.values())
    best = None
    for choice in itertools.product(*options):
        reached = sum(n * q for n, (q, _) in zip(scan.sizes.values(), choice, strict=True))
        if reached / weights >= total:
            worst = max(drop for _, drop in choice)
            best = worst if best is None else min(best, worst)
    return best


@pytest.mark.parametrize("total", [10, 40, 55, 70, 80])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_chosen_sparsities_reach_the_total_at_the_least_worst_loss(total, seed):
    g = torch.Generator().manual_seed(seed)
    sparsities = [20.0, 50.0, 70.0, 90.0]
    accuracies = {  # not monotone on purpose: a noisy scan
        f"layer{i}": (
            0.9 - torch.rand(4, generator=g) * torch.tensor([0.05, 0.2, 0.4, 0.8])
        ).tolist()
        for i in range(4)
    }
    sizes = {f"layer{i}": int(n) for i, n in enumerate(torch.randint(10, 1000, (4,), generator=g))}
    scan = SensitivityScan(0.9, sparsities, accuracies, sizes, num_images=1000)
    chosen = sensitivity_sparsities(scan, total)
    weights = sum(sizes.values())
    assert sum(sizes[k] * q for k, q in chosen.items()) / weights >= total
    worst = max(
        (max(0.0, 0.9 - accuracies[k][sparsities.index(q)]) if q else 0.0)
        for k, q in chosen.items()
    )
    assert worst == pytest.approx(_minimax_by_brute_force(scan, total))


def test_an_unreachable_total_and_bad_sparsities_are_refused():
    scan = SensitivityScan(0.9, [50.0], {"a": [0.8]}, {"a": 10}, num_images=1000)
    with pytest.raises(ValueError, match=r"at most 50\.0 %"):
        sensitivity_sparsities(scan, 60)
    with pytest.raises(ValueError, match="percentages"):
        sensitivity_scan(ResNetCIFAR(num_layers=8), [], [120])
