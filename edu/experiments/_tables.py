"""The rows of the spec's Lab 2 and Lab 3 tables, and of Lab 4, declared in one place.

Each :class:`Row` names a result the spec reports (its part and reference accuracy,
``None`` where the spec gives none or it is illegible in the source) and the function
that produces this project's number. The order is the order of the spec's text and
the order they run in; Lab 3 (d) needs a row of Lab 2 (:attr:`Row.requires`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edu.experiments import _lab2, _lab3, _lab4
from edu.experiments._experiment import Experiment, RowResult

__all__ = [
    "DISTILLED_WIDTHS",
    "GROUP_LASSO_STRENGTH",
    "LAB2_ROWS",
    "LAB3_ROWS",
    "LAB4_ROWS",
    "LABS",
    "Row",
    "select_rows",
]


@dataclass(frozen=True)
class Row:
    """One line of a lab's results table.

    Attributes
    ----------
    id : str
        Short name, used by ``--rows`` and as the row's folder.
    part : str
        The spec's part, e.g. ``"2(c)"``.
    description : str
    reference : float or None
        The spec's test accuracy, or None where it has none.
    run : callable (Experiment, Path) -> RowResult
    saves_model : bool
        Writes its weights, ``model.pt`` (rows that prune or train).
    requires : tuple of (lab, row)
        Rows whose ``model.pt`` this row starts from.
    reference_loss : float or None
        The spec's test loss, where it gives one.
    """

    id: str
    part: str
    description: str
    reference: float | None
    run: Callable[[Experiment, Path], RowResult]
    saves_model: bool = False
    requires: tuple[tuple[str, str], ...] = ()
    reference_loss: float | None = None


def _family(
    row_id: str,
    part: str,
    description: str,
    run: Callable[..., RowResult],
    references: dict[int, float | None],
    parameter: str = "nbits",
    **fields: Any,
) -> tuple[Row, ...]:
    """Rows that differ in one parameter (``q`` or ``nbits``): one per ``references`` key.

    ``row_id`` and ``description`` are formatted with the value as ``{n}``.
    """
    return tuple(
        Row(
            row_id.format(n=n),
            part,
            description.format(n=n),
            reference,
            functools.partial(run, **{parameter: n}),
            **fields,
        )
        for n, reference in references.items()
    )


LAB2_ROWS: tuple[Row, ...] = (
    Row("float", "2(a)", "float checkpoint", 0.9151, _lab2.evaluate_float, reference_loss=0.3231),
    *_family(
        "oneshot-{n}",
        "2(b)",
        "one-shot pruning, {n} % per layer",
        _lab2.oneshot,
        {30: 0.9092, 50: 0.8210, 70: 0.4204},
        parameter="q",
        saves_model=True,
    ),
    Row(
        "finetune-70",
        "2(c)",
        "70 % per layer, finetuned with the mask fixed",
        0.8943,
        _lab2.finetune_pruned,
        saves_model=True,
    ),
    Row(
        "iterative-70",
        "2(d)",
        "iterative pruning to 70 % per layer",
        0.8919,
        functools.partial(_lab2.iterative, scope="layer"),
        saves_model=True,
    ),
    Row(
        "global-iterative-70",
        "2(e)",
        "iterative pruning to 70 % with one global threshold",
        0.897,
        functools.partial(_lab2.iterative, scope="global"),
        saves_model=True,
    ),
)
"""Lab 2 (a)-(e): float, one-shot 30/50/70 %, finetuned, iterative, global iterative."""

LAB3_ROWS: tuple[Row, ...] = (
    *_family(
        "ptq-{n}",
        "3(b)",
        "{n}-bit asymmetric, no finetuning",
        _lab3.ptq,
        {6: 0.9145, 5: 0.9112, 4: 0.8972, 3: 0.7662, 2: 0.0899},
    ),
    *_family(
        "ptq-sym-{n}",
        "3(e)",
        "{n}-bit symmetric, no finetuning",
        functools.partial(_lab3.ptq, symmetric=True),
        dict.fromkeys((6, 5, 4, 3, 2)),
    ),
    *_family(
        "qat-{n}",
        "3(c)",
        "{n}-bit quantization-aware finetuning",
        _lab3.qat,
        {4: 0.9134, 3: None, 2: None},  # N = 3, 2 are not legible in the source
        saves_model=True,
    ),
    *_family(
        "sparse-qat-{n}",
        "3(d)",
        "{n}-bit quantization-aware finetuning of the best 70 %-sparse model",
        _lab3.sparse_qat,
        {4: 0.9047, 3: 0.8817, 2: 0.8919},
        requires=_lab3.SPARSE_CANDIDATES,
        saves_model=True,
    ),
)
"""Lab 3 (b)-(e): PTQ at 6..2 bits (asymmetric, symmetric), QAT and sparse QAT at 4..2."""

GROUP_LASSO_STRENGTH = 0.05
"""The group-lasso weight of Lab 4's ``group-lasso`` row.

The total shrinkage a group undergoes over the run is ``strength`` times the sum of the
learning rates, ``0.01 * 3920 / 2 = 19.6`` over 20 epochs of 196 cosine steps: with
0.05 it is about 1, close to the median norm of the pretrained model's channel groups
(1.11; they range from 0.57 to 1.82). Measured: too weak to remove much. The groups'
median norm fell to 0.33, but only 6 of the 336 inner channels reached zero, all in the
first stage."""

STRONG_GROUP_LASSO_STRENGTH = 0.08
"""The group-lasso weight of Lab 4's ``group-lasso-strong`` row.

Chosen from the ``group-lasso`` row's measured groups: at 0.05 a median group lost 0.78
of its norm against a shrinkage budget of 0.98, so the loss gradient held little back.
At 0.08 the budget, 1.57, exceeds the norm of all but 2 of the 336 pretrained groups,
so a channel survives only where the loss gradient holds it up. The aim is to remove
the third of the inner channels that makes a full batch about 1.5 times faster
(``benchmarks/channel_pruning.py``)."""

DISTILLED_WIDTHS = (8,) * 3 + (16,) * 3 + (48,) * 3
"""The inner widths of Lab 4's ``channels-8-16-48-distilled`` row, block by block.

Chosen by measured latency, not by count (``benchmarks/channel_pruning.py``): on the
2-core CPU a width that is not a multiple of 8 wastes the convolution kernels' vector
blocks, so 62.5 % of every width (10 / 20 / 40) ran at about the speed of 75 %
(12 / 24 / 48). The first stage, at 32 x 32 pixels, costs the most time per channel:
halving it gains more than cutting the third stage, where the group lasso found the
channels the loss needs most (``group-lasso-strong`` kept 190 of its 192). 8 / 16 / 48
has 59 % of the dense network's MACs; its finetuned row ran a batch of 256 1.73 times
faster than the dense network in the median of the committed benchmark's five runs
(1.30 to 1.75)."""

LAB4_ROWS: tuple[Row, ...] = (
    Row(
        "channels-50",
        "4(a)",
        "half of each block's inner channels removed (filter L2 norm), finetuned",
        None,
        functools.partial(_lab4.channels, keep=0.5),
        saves_model=True,
    ),
    Row(
        "group-lasso",
        "4(a)",
        "group lasso on the inner channels while finetuning, dead channels removed",
        None,
        functools.partial(_lab4.group_lasso, strength=GROUP_LASSO_STRENGTH),
        saves_model=True,
    ),
    Row(
        "group-lasso-strong",
        "4(a)",
        "stronger group lasso on the inner channels while finetuning, dead channels removed",
        None,
        functools.partial(_lab4.group_lasso, strength=STRONG_GROUP_LASSO_STRENGTH),
        saves_model=True,
    ),
    Row(
        "channels-{}-{}-{}-distilled".format(*DISTILLED_WIDTHS[::3]),
        "4(a)",
        "inner widths {} / {} / {} per stage (filter L2 norm), finetuned with distillation "
        "from the float model".format(*DISTILLED_WIDTHS[::3]),
        None,
        functools.partial(_lab4.channels, keep=DISTILLED_WIDTHS, distilled=True),
        saves_model=True,
    ),
    *_family(
        "kmeans-ptq-{n}",
        "4(b)",
        "{n}-bit k-means weight sharing, no finetuning",
        functools.partial(_lab4.kmeans, finetuned=False),
        dict.fromkeys((4, 3)),
    ),
    *_family(
        "kmeans-{n}",
        "4(b)",
        "{n}-bit k-means weight sharing, finetuned with shared centroids",
        _lab4.kmeans,
        dict.fromkeys((4, 3)),
        saves_model=True,
    ),
    *_family(
        "sensitivity-{n}",
        "4(c)",
        "{n} % in total, per-layer sparsities from the sensitivity scan, finetuned",
        _lab4.sensitivity,
        dict.fromkeys((70, 80)),
        parameter="total",
        saves_model=True,
    ),
    *_family(
        "sparse-kmeans-{n}",
        "4(d)",
        "{n}-bit k-means sharing of sensitivity-80, finetuned with shared centroids",
        functools.partial(_lab4.kmeans, start=("lab4", "sensitivity-80")),
        dict.fromkeys((4, 3)),
        requires=(("lab4", "sensitivity-80"),),
        saves_model=True,
    ),
    Row(
        "sparse-kmeans-4-distilled",
        "4(d)",
        "4-bit k-means sharing of sensitivity-80, finetuned with shared centroids and "
        "distillation from the float model",
        None,
        functools.partial(_lab4.kmeans, nbits=4, start=("lab4", "sensitivity-80"), distilled=True),
        requires=(("lab4", "sensitivity-80"),),
        saves_model=True,
    ),
    Row(
        "sparse-qat-3-distilled",
        "4(d)",
        "3-bit quantization-aware finetuning of the best 70 %-sparse model (Lab 3 (d) at "
        "3 bits), with distillation from the float model",
        None,
        functools.partial(_lab3.sparse_qat, nbits=3, distilled=True),
        requires=_lab3.SPARSE_CANDIDATES,
        saves_model=True,
    ),
)
"""Lab 4: channel pruning, k-means sharing, sensitivity-guided sparsity, and all combined.
The course's spec has no reference numbers for it."""

LABS: dict[str, tuple[Row, ...]] = {"lab2": LAB2_ROWS, "lab3": LAB3_ROWS, "lab4": LAB4_ROWS}
"""The labs ``edu reproduce`` runs, by name."""


def select_rows(lab: str, ids: Iterable[str] | None = None) -> tuple[Row, ...]:
    """The rows of ``lab`` named by ``ids``, in the table's order (all if ``None``).

    Raises
    ------
    ValueError
        For an unknown lab or row id; the message lists the valid ones.

    Examples
    --------
    >>> [row.id for row in select_rows("lab2", ["oneshot-70", "float"])]
    ['float', 'oneshot-70']
    """
    if lab not in LABS:
        raise ValueError(f"unknown lab {lab!r}; valid labs: {', '.join(LABS)}")
    rows = LABS[lab]
    if ids is None:
        return rows
    wanted = list(ids)
    valid = [row.id for row in rows]
    unknown = [row_id for row_id in wanted if row_id not in valid]
    if unknown:
        raise ValueError(
            f"unknown {lab} rows: {', '.join(unknown)}; valid rows: {', '.join(valid)}"
        )
    return tuple(row for row in rows if row.id in wanted)
