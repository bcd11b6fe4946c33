"""Per-layer sensitivity: how much accuracy each layer loses when pruned alone.

Layers differ in how much pruning they tolerate, and their size does not predict it:
the first convolution (432 weights) loses much of the accuracy at a sparsity most layers
absorb, while single layers of the wide last stage, which holds most of the weights,
can be as fragile. So one measures. A sensitivity scan prunes one layer at a time
to each of a few sparsities, the others untouched, and measures the accuracy; the
per-layer sparsities of :func:`sensitivity_sparsities` then spend a total sparsity
where it costs least (Han et al., 2015, "Learning both Weights and Connections",
section 4; MIT 6.5940, Lab 1). Scan on training images, not the test set: choosing the
ratios is a choice of model, and the test set must not make it. (The pretrained model
has seen those images, so the scan measures how pruning hurts its fit; the layers rank
alike, and the test set stays untouched.)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from edu.prune._layers import prunable_layers
from edu.prune._magnitude import prune_by_percentage

__all__ = ["SensitivityScan", "sensitivity_scan", "sensitivity_sparsities"]


@dataclass(frozen=True)
class SensitivityScan:
    """The accuracy of the model with each layer alone pruned to each sparsity.

    Attributes
    ----------
    base_accuracy : float
        The unpruned model's accuracy on the same images.
    sparsities : list of float
        The sparsities tried, in percent, increasing.
    accuracies : dict of str to list of float
        Per layer, the accuracy at each sparsity.
    sizes : dict of str to int
        Per layer, its number of weights (what a sparsity of it is worth in total).
    num_images : int
        How many images every accuracy was measured on: one image moves an accuracy
        by ``1 / num_images``.
    """

    base_accuracy: float
    sparsities: list[float]
    accuracies: dict[str, list[float]]
    sizes: dict[str, int]
    num_images: int


def sensitivity_scan(
    net: nn.Module,
    loader: Iterable[tuple[torch.Tensor, torch.Tensor]],
    sparsities: Sequence[float] = (10, 20, 30, 40, 50, 60, 70, 80, 90),
    *,
    device: torch.device | str = "cpu",
) -> SensitivityScan:
    """Prune each prunable layer alone to each sparsity and measure the accuracy.

    Parameters
    ----------
    net : nn.Module
        A model with plain weights; every layer is restored after its scan, so ``net``
        ends as it started.
    loader : iterable of (x, y)
        The images to measure on (training images, not the test set).
    sparsities : sequence of float
        Percentages in [0, 100], tried in increasing order.
    device : torch.device or str

    Returns
    -------
    SensitivityScan
    """
    from edu.train import evaluate  # edu.train builds on edu.prune: import it late

    levels = sorted(float(q) for q in sparsities)
    if not levels or levels[0] < 0 or levels[-1] > 100:
        raise ValueError(f"sparsities must be percentages in [0, 100], got {list(sparsities)}")
    base = evaluate(net, loader, device=device)
    accuracies, sizes = {}, {}
    for name, layer in prunable_layers(net):
        original = layer.weight.detach().clone()
        accuracies[name] = []
        for q in levels:
            prune_by_percentage(layer, q)
            accuracies[name].append(evaluate(net, loader, device=device).accuracy)
            with torch.no_grad():
                layer.weight.copy_(original)
        sizes[name] = original.numel()
    return SensitivityScan(base.accuracy, levels, accuracies, sizes, base.num_images)


def _sparsities_within(scan: SensitivityScan, drop: float) -> dict[str, float]:
    """Each layer's largest scanned sparsity that loses at most ``drop`` accuracy."""
    chosen = {}
    for name, accuracies in scan.accuracies.items():
        fine = [
            q
            for q, a in zip(scan.sparsities, accuracies, strict=True)
            if a >= scan.base_accuracy - drop
        ]
        chosen[name] = max(fine, default=0.0)
    return chosen


def _total(scan: SensitivityScan, sparsities: dict[str, float]) -> float:
    weights = sum(scan.sizes.values())
    return sum(scan.sizes[name] * q for name, q in sparsities.items()) / weights


def sensitivity_sparsities(scan: SensitivityScan, total: float) -> dict[str, float]:
    """Per-layer sparsities that reach ``total`` percent overall at the least scanned loss.

    Every layer gets the largest scanned sparsity whose accuracy loss, pruned alone,
    stays within one common tolerance; the tolerance is the smallest of the measured
    losses that reaches ``total``. Layers thus go as far as they can for the same
    price, and a sensitive layer is spared.

    Parameters
    ----------
    scan : SensitivityScan
    total : float
        The overall sparsity to reach, in percent of all the scanned layers' weights.

    Returns
    -------
    dict of str to float
        Per layer, a sparsity of the scan (or 0). Their weighted total is at least
        ``total``, and may exceed it: every layer goes as far as the tolerance allows,
        so layers that lose nothing at any scanned sparsity take the largest one.

    Raises
    ------
    ValueError
        If even the largest scanned sparsity of every layer does not reach ``total``.

    Examples
    --------
    >>> scan = SensitivityScan(0.9, [50.0, 90.0], {"a": [0.9, 0.2], "b": [0.9, 0.85]},
    ...                        {"a": 100, "b": 300}, num_images=1000)
    >>> sensitivity_sparsities(scan, 75)  # b tolerates 90 %; a is kept at 50 %
    {'a': 50.0, 'b': 90.0}
    """
    drops = sorted(
        {0.0}
        | {
            max(0.0, scan.base_accuracy - a)
            for accuracies in scan.accuracies.values()
            for a in accuracies
        }
    )
    for drop in drops:
        chosen = _sparsities_within(scan, drop)
        if _total(scan, chosen) >= total:
            return chosen
    raise ValueError(
        f"the scan reaches at most {_total(scan, _sparsities_within(scan, drops[-1])):.1f} % "
        f"in total, not {total} %: scan larger sparsities"
    )
