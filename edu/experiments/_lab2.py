"""The rows of Lab 2: pruning ResNet-20, one-shot, finetuned, iterative, global.

Each function takes the :class:`Experiment` and the row's folder and returns a
:class:`RowResult`; :data:`edu.experiments.LAB2_ROWS` binds them to the spec's rows
(COURSE-SPEC, Lab 2 (a)-(e)).
"""

from __future__ import annotations

import functools
from pathlib import Path

from edu.experiments._experiment import Experiment, RowResult
from edu.experiments._finetune import finetune
from edu.experiments._summary import check_saved_model
from edu.prune import (
    IterativePruning,
    apply_masks,
    iterative_sparsity,
    masks_from_nonzeros,
    prune_model,
)

__all__ = ["evaluate_float", "finetune_pruned", "iterative", "oneshot"]


def evaluate_float(exp: Experiment, row_dir: Path) -> RowResult:
    """Lab 2 (a): the float checkpoint as it is."""
    return RowResult(exp.model())


def oneshot(exp: Experiment, row_dir: Path, *, q: float) -> RowResult:
    """Lab 2 (b): the float weights, reloaded, pruned to ``q`` % in every layer."""
    net = exp.model()
    prune_model(net, q)
    return RowResult(net, details={"q": q, "scope": "layer"})


def finetune_pruned(exp: Experiment, row_dir: Path, *, q: float = 70.0) -> RowResult:
    """Lab 2 (c): prune to ``q`` % per layer, then finetune with the mask fixed.

    The mask is built from the non-zeros of the pruned model before the first step
    and re-applied after every optimizer step; the saved best weights are read back
    and checked to be 0 wherever the mask prunes.
    """
    net = exp.model()
    prune_model(net, q)
    masks = masks_from_nonzeros(net)
    result = finetune(exp, net, row_dir, after_step=functools.partial(apply_masks, masks=masks))
    return RowResult(
        net,
        result,
        details={"q": q, "scope": "layer"},
        verify=functools.partial(check_saved_model, masks=masks),
    )


def iterative(exp: Experiment, row_dir: Path, *, scope: str, final: float = 70.0) -> RowResult:
    """Lab 2 (d) (``scope="layer"``) and (e) (``scope="global"``): iterative pruning.

    Before each of the first ``P = exp.settings.prune_epochs`` epochs the model is
    pruned to ``final * (e + 1) / P`` %; pruned weights may grow back until the last
    pruning step, then the mask is enforced. The best accuracy counts from
    :attr:`edu.prune.IterativePruning.best_from_epoch` on, or from the last epoch
    when the run is too short for that (a smoke run: 1 epoch, ``P = 1``).
    """
    prune_epochs = exp.settings.prune_epochs
    schedule = IterativePruning(final=final, prune_epochs=prune_epochs, scope=scope)
    best_from = min(schedule.best_from_epoch, exp.settings.epochs - 1)
    net = exp.model()
    result = finetune(
        exp,
        net,
        row_dir,
        before_epoch=schedule.before_epoch,
        after_step=schedule.after_step,
        best_from_epoch=best_from,
    )
    details = {
        "final": final,
        "scope": scope,
        "prune_epochs": prune_epochs,
        "schedule": [iterative_sparsity(e, final, prune_epochs) for e in range(prune_epochs)],
        "best_from_epoch": best_from + 1,  # 1-based, as the history's epochs
    }
    return RowResult(net, result, details=details)
