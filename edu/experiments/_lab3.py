"""The rows of Lab 3: post-training quantization, quantization-aware finetuning, both pruned.

Each function takes the :class:`Experiment` and the row's folder and returns a
:class:`RowResult`; :data:`edu.experiments.LAB3_ROWS` binds them to the spec's rows
(COURSE-SPEC, Lab 3 (b)-(e)).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from edu.experiments._experiment import ROW_FILE, Experiment, RowResult
from edu.experiments._finetune import finetune, float_teacher
from edu.experiments._summary import check_saved_model, level_budget
from edu.prune import apply_masks, masks_from_nonzeros, sparsity_report
from edu.quant import count_weight_levels
from edu.train import load_state_dict

__all__ = [
    "SPARSE_CANDIDATES",
    "best_sparse_start",
    "ptq",
    "qat",
    "sparse_qat",
    "sparse_start_run",
]

SPARSE_CANDIDATES = (
    ("lab2", "finetune-70"),
    ("lab2", "global-iterative-70"),
)
"""The (lab, row) of the 70 %-sparse models of Lab 2 that Lab 3 (d) chooses from: (c), (e).

The homework saves these two (``lab2_finetune_70``, ``lab2_global_iterative_70``) and
its part (d) starts from the better one, so the reference does the same. The spec's best
70 %-sparse model, (e) (0.8970 against 0.8943 for (c) and 0.8919 for (d)), is among
them."""


def sparse_start_run(exp: Experiment) -> Experiment:
    """The run whose Lab 2 models Lab 3 (d) chooses from: ``exp`` itself when it made
    every row of :data:`SPARSE_CANDIDATES` (an extra seed that ran the homework's Lab 2
    rows: its Lab 3 (d) then keeps its own zeros, as a student's does), else ``exp.base``.
    """
    own = all(
        (exp.row_dir(lab, row) / ROW_FILE).is_file() and exp.model_path(lab, row).is_file()
        for lab, row in SPARSE_CANDIDATES
    )
    return exp if own else exp.base


def best_sparse_start(exp: Experiment) -> tuple[str, str, float]:
    """The 70 %-sparse model of Lab 2 that Lab 3 (d) starts from: the more accurate one.

    The spec's Lab 3 (d) starts "from the best 70 %-sparse model of Lab 2"; the
    candidates are those the homework saves (:data:`SPARSE_CANDIDATES`), in the run of
    :func:`sparse_start_run`. Every row of :data:`SPARSE_CANDIDATES` must have finished in
    ``exp.base`` (the runner checks it before any row runs); ties go to the earlier row.

    Returns
    -------
    (lab, row, accuracy)
        The chosen row and its test accuracy, as its ``row.json`` records it.
    """
    run = sparse_start_run(exp)
    accuracies = {
        (lab, row): json.loads((run.row_dir(lab, row) / ROW_FILE).read_text())["accuracy"]
        for lab, row in SPARSE_CANDIDATES
    }
    (lab, row), accuracy = max(accuracies.items(), key=lambda item: item[1])
    return lab, row, accuracy


def ptq(exp: Experiment, row_dir: Path, *, nbits: int, symmetric: bool = False) -> RowResult:
    """Lab 3 (b), (e): the float weights loaded into ``ResNetCIFAR(Nbits=nbits)``.

    Records the level budget and whether every quantized layer keeps to it.
    """
    net = exp.model(Nbits=nbits, symmetric=symmetric)
    pruned = sparsity_report(net).total_zeros > 0
    budget = level_budget(nbits, symmetric, pruned=pruned)
    most = max(count_weight_levels(net).values())
    details = {
        "nbits": nbits,
        "symmetric": symmetric,
        "level_budget": budget,
        "max_levels": most,
        "levels_ok": most <= budget,
    }
    return RowResult(net, details=details)


def qat(exp: Experiment, row_dir: Path, *, nbits: int) -> RowResult:
    """Lab 3 (c): quantization-aware finetuning of the float weights at ``nbits`` bits."""
    net = exp.model(Nbits=nbits)
    result = finetune(exp, net, row_dir)
    return RowResult(
        net,
        result,
        details={"nbits": nbits, "symmetric": False},
        verify=functools.partial(check_saved_model, nbits=nbits),
    )


def sparse_qat(exp: Experiment, row_dir: Path, *, nbits: int, distilled: bool = False) -> RowResult:
    """Lab 3 (d): quantization-aware finetuning of the best 70 %-sparse model of Lab 2.

    The start is :func:`best_sparse_start`. The mask is built from the non-zeros of
    that model and re-applied after every step, and the quantizer maps zeros to 0, so
    every pruned weight stays 0. The saved weights are read back and checked: 0
    wherever the mask prunes, and at most :math:`2^N + 1` levels per quantized layer.
    With ``distilled`` (Lab 4's ``sparse-qat-3-distilled``), the finetuning also learns
    the float model's soft outputs (:class:`edu.train.Distillation`, its defaults).
    """
    lab, row, accuracy = best_sparse_start(exp)
    run = sparse_start_run(exp)
    net = exp.model(load_state_dict(run.model_path(lab, row)), Nbits=nbits)
    masks = masks_from_nonzeros(net)
    details: dict[str, Any] = {
        "nbits": nbits,
        "symmetric": False,
        "start": {"lab": lab, "row": row, "accuracy": accuracy, "seed": run.settings.seed},
    }
    distillation = None
    if distilled:
        distillation, details["distillation"] = float_teacher(exp)
    keep_zeros = functools.partial(apply_masks, masks=masks)
    result = finetune(exp, net, row_dir, after_step=keep_zeros, distillation=distillation)
    return RowResult(
        net,
        result,
        details=details,
        verify=functools.partial(check_saved_model, masks=masks, nbits=nbits),
    )
