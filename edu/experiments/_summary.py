"""What is reported for every row: accuracy, loss, sparsity, weight levels, and checks.

:func:`summarize` is the measurement of a finished model; :func:`level_budget` and
:func:`check_saved_model` are the checks of Labs 2 (c) and 3 (d) on the checkpoint as
written to disk: the pruned weights are still exactly 0, and no quantized layer uses
more distinct values than its bit width allows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from edu.models import resnet_from_state_dict
from edu.prune import sparsity_report
from edu.quant import count_weight_levels
from edu.train import evaluate, load_state_dict

__all__ = ["check_saved_model", "level_budget", "summarize"]


def summarize(
    net: nn.Module, loader: Iterable[tuple[torch.Tensor, torch.Tensor]], device: torch.device
) -> dict[str, Any]:
    """Test loss and accuracy, per-layer sparsity and weight levels of ``net``.

    Parameters
    ----------
    net : nn.Module
        Moved to ``device`` (``channels_last``) and evaluated in eval mode.
    loader : iterable of (x, y)
    device : torch.device
        Evaluation is in float32 everywhere (:func:`edu.train.evaluate`).

    Returns
    -------
    dict
        ``num_images``, ``test_loss``, ``test_accuracy``, ``sparsity``
        (:meth:`edu.prune.SparsityReport.as_dict`, of the weights as the forward pass
        uses them: quantized for a quantized model, where symmetric rounding adds
        zeros) and ``weight_levels`` (:func:`edu.quant.count_weight_levels`, empty for
        a float model).

    Notes
    -----
    The measurement behind ``edu evaluate``, ``edu prune``, ``edu quantize`` and every
    row of ``edu reproduce``.
    """
    net.to(device, memory_format=torch.channels_last)
    result = evaluate(net, loader, device=device)
    quantized = getattr(net, "Nbits", None) is not None
    return {
        "num_images": result.num_images,
        "test_loss": result.loss,
        "test_accuracy": result.accuracy,
        "sparsity": sparsity_report(net, quantized=quantized).as_dict(),
        "weight_levels": count_weight_levels(net),
    }


def level_budget(nbits: int, symmetric: bool = False, pruned: bool = False) -> int:
    """Most distinct weight values an ``nbits``-bit quantized layer may use.

    Parameters
    ----------
    nbits : int
    symmetric : bool, default False
    pruned : bool, default False
        The layer has pruned (zero) weights, which the asymmetric quantizer keeps at 0
        beside its own levels.

    Returns
    -------
    int
        Asymmetric :math:`2^N` (:math:`2^N + 1` when pruned); symmetric
        :math:`2^N - 1` (0 is one of its levels).

    Examples
    --------
    >>> level_budget(4), level_budget(4, pruned=True), level_budget(4, symmetric=True)
    (16, 17, 15)
    """
    if symmetric:
        return 2**nbits - 1
    return 2**nbits + int(pruned)


def check_saved_model(
    path: Path, masks: Mapping[str, torch.Tensor] | None = None, nbits: int | None = None
) -> dict[str, Any]:
    """Read a saved row checkpoint back and check its zeros and weight levels.

    Parameters
    ----------
    path : Path
        A ``model.pt`` written by the runner (read with ``weights_only=True``).
    masks : mapping of str to torch.Tensor, optional
        Keep-masks by layer name; every weight outside its mask must be exactly 0.
    nbits : int, optional
        The asymmetric bit width the model is used at; every quantized layer must
        use at most :func:`level_budget` ``(nbits, pruned=masks is not None)`` values.

    Returns
    -------
    dict
        With masks: ``pruned_weights`` (how many), ``pruned_nonzero`` (how many of
        them are not 0) and ``pruned_zero_ok``. With ``nbits``: ``level_budget``,
        ``max_levels`` and ``levels_ok``.
    """
    state = load_state_dict(path)
    facts: dict[str, Any] = {}
    if masks is not None:
        pruned = nonzero = 0
        for name, mask in masks.items():
            outside = state[f"{name}.weight"][~mask.cpu()]
            pruned += outside.numel()
            nonzero += int(outside.count_nonzero())
        facts |= {
            "pruned_weights": pruned,
            "pruned_nonzero": nonzero,
            "pruned_zero_ok": nonzero == 0,
        }
    if nbits is not None:
        budget = level_budget(nbits, pruned=masks is not None)
        levels = count_weight_levels(resnet_from_state_dict(state, Nbits=nbits))
        most = max(levels.values())
        facts |= {"level_budget": budget, "max_levels": most, "levels_ok": most <= budget}
    return facts
