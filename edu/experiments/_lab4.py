"""The rows of Lab 4: compression you can measure (channels, k-means, sensitivity).

Each function takes the :class:`Experiment` and the row's folder and returns a
:class:`RowResult`; :data:`edu.experiments.LAB4_ROWS` binds them to the lab's rows.
Every training row uses the one finetuning recipe of Labs 2 and 3
(:func:`edu.experiments.finetune`), so that the rows differ only in how they compress.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from edu.compress import cluster_labels, kmeans_quantize, share_weights
from edu.experiments._experiment import Experiment, RowResult
from edu.experiments._finetune import finetune, float_teacher
from edu.experiments._summary import check_saved_model
from edu.models import model_cost, resnet_from_state_dict
from edu.prune import (
    FilterGroupLasso,
    apply_masks,
    live_channels,
    masks_from_nonzeros,
    prunable_layers,
    prune_by_percentage,
    remove_channels,
    sensitivity_scan,
    sensitivity_sparsities,
)
from edu.quant import QuantConv2d, QuantLinear
from edu.train import load_state_dict

__all__ = [
    "SCAN_FILE",
    "SCAN_SPARSITIES",
    "channels",
    "group_lasso",
    "kmeans",
    "sensitivity",
]

SCAN_SPARSITIES = (10, 20, 30, 40, 50, 60, 70, 80, 90, 95)
"""The sparsities, in percent, at which each layer is scanned alone."""

SCAN_FILE = "scan.json"
"""A sensitivity row's scan, beside its ``row.json`` (for the notes' figure)."""


def _cost(net: torch.nn.Module) -> dict[str, Any]:
    cost = model_cost(net)
    return {"parameters": cost.parameters, "macs": cost.macs}


def channels(
    exp: Experiment,
    row_dir: Path,
    *,
    keep: float | Sequence[int],
    criterion: str = "l2",
    distilled: bool = False,
) -> RowResult:
    """Keep ``keep`` of each block's inner channels, ranked by ``criterion``; finetune.

    ``keep`` is a fraction of every block's width, or one width per block.

    The narrower network is a dense ResNet of its own (:func:`edu.prune.remove_channels`);
    its parameters and MACs are recorded beside the dense model's. With ``distilled``,
    the finetuning also learns the float model's soft outputs
    (:class:`edu.train.Distillation`, its default temperature and weight).
    """
    dense = exp.model()
    net = remove_channels(dense, keep, criterion).to(exp.device, memory_format=torch.channels_last)
    details = {
        "keep": keep,
        "criterion": criterion,
        "inner_channels": net.inner_channels,
        **_cost(net),
        "dense": _cost(dense),
    }
    distillation = None
    if distilled:
        distillation, details["distillation"] = float_teacher(exp)
    result = finetune(exp, net, row_dir, distillation=distillation)
    return RowResult(net, result, details=details)


def group_lasso(exp: Experiment, row_dir: Path, *, strength: float) -> RowResult:
    """Finetune with the group lasso on every inner channel, then remove the dead ones.

    After each optimizer step, :class:`edu.prune.FilterGroupLasso` block-soft-thresholds
    each channel's group (its conv1 filter and conv2 input slice). The best weights'
    zeroed groups are then removed (:func:`edu.prune.live_channels`), which leaves the
    outputs unchanged: the row reports, and saves, the narrower network.
    """
    net = exp.model()
    result = finetune(
        exp,
        net,
        row_dir,
        after_step_from_optimizer=lambda optimizer: (
            FilterGroupLasso(optimizer, strength).after_step
        ),
    )
    alive = live_channels(net)
    narrow = remove_channels(net, alive).to(exp.device, memory_format=torch.channels_last)
    details = {"strength": strength, "inner_channels": alive, **_cost(narrow)}
    return RowResult(narrow, result, details=details)


def _shared_layers_ok(path: Path, nbits: int, zeros: dict[str, torch.Tensor] | None) -> dict:
    """Read a k-means row's weights back: at most 2^N values per shared layer, zeros kept."""
    net = resnet_from_state_dict(load_state_dict(path))
    most = 0
    for layer in net.modules():
        if isinstance(layer, (QuantConv2d, QuantLinear)):
            most = max(most, cluster_labels(layer.weight)[1])
    facts: dict[str, Any] = {"max_centroids": most, "centroids_ok": most <= 2**nbits}
    if zeros is not None:
        facts |= check_saved_model(path, masks=zeros)
    return facts


def kmeans(
    exp: Experiment,
    row_dir: Path,
    *,
    nbits: int,
    start: tuple[str, str] | None = None,
    finetuned: bool = True,
    distilled: bool = False,
) -> RowResult:
    """k-means weight sharing at ``nbits`` bits, finetuned with shared centroids or not.

    Starts from the float checkpoint, or from the row ``start`` (a pruned model, whose
    zeros stay out of the clustering and stay 0; those of its float layers by their
    mask). The stage convolutions are shared (:func:`edu.compress.share_weights`), as
    the linear quantizer of Lab 3 quantizes them; the first convolution and the
    classifier stay float. With ``distilled``, the finetuning also learns the float
    model's soft outputs (:class:`edu.train.Distillation`, its defaults).
    """
    if distilled and not finetuned:
        raise ValueError("distillation needs finetuning")
    weights = exp.weights if start is None else load_state_dict(exp.base.model_path(*start))
    net = exp.model(weights)
    masks = masks_from_nonzeros(net) if start is not None else None
    details: dict[str, Any] = {"nbits": nbits, "kmeans": True, "start": start}
    if not finetuned:
        for layer in net.modules():
            if isinstance(layer, (QuantConv2d, QuantLinear)):
                with torch.no_grad():
                    layer.weight.copy_(kmeans_quantize(layer.weight, nbits))
        return RowResult(net, details=details)
    share_weights(net, nbits)
    # The shared layers keep their zeros by themselves; the float first convolution and
    # classifier of a pruned start need the mask.
    keep_zeros = None if masks is None else functools.partial(apply_masks, masks=masks)
    distillation = None
    if distilled:
        distillation, details["distillation"] = float_teacher(exp)
    result = finetune(exp, net, row_dir, after_step=keep_zeros, distillation=distillation)
    return RowResult(
        net,
        result,
        details=details,
        verify=functools.partial(_shared_layers_ok, nbits=nbits, zeros=masks),
    )


def sensitivity(exp: Experiment, row_dir: Path, *, total: float) -> RowResult:
    """Prune each layer as far as the sensitivity scan allows, to ``total`` %; finetune.

    The scan (:func:`edu.prune.sensitivity_scan`) runs on ``exp.scan_loader``, training
    images, and is written to :data:`SCAN_FILE`; the per-layer sparsities come from
    :func:`edu.prune.sensitivity_sparsities`. The mask is then fixed during finetuning.
    """
    if exp.scan_loader is None:
        raise ValueError("the sensitivity rows need Experiment.scan_loader (training images)")
    net = exp.model()
    scan = sensitivity_scan(net, exp.scan_loader, SCAN_SPARSITIES, device=exp.device)
    chosen = sensitivity_sparsities(scan, total)
    (row_dir / SCAN_FILE).write_text(json.dumps(scan.__dict__, indent=2) + "\n")
    for name, layer in prunable_layers(net):
        prune_by_percentage(layer, chosen[name])
    masks = masks_from_nonzeros(net)
    result = finetune(exp, net, row_dir, after_step=functools.partial(apply_masks, masks=masks))
    return RowResult(
        net,
        result,
        details={"total": total, "layer_sparsities": chosen},
        verify=functools.partial(check_saved_model, masks=masks),
    )
