"""The cells of a lab's results table: the spec's numbers beside this project's, per row.

Plain lists of strings, so that any renderer (the command line's Markdown tables, the
course notes) lays them out; records are those of :func:`edu.experiments.run_lab`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["RESULTS_HEADER", "results_cells", "seed_spread", "sparsity_cells"]

RESULTS_HEADER = [
    "row",
    "spec part",
    "description",
    "spec's reference",
    "this project",
    "over seeds",
    "difference",
    "total sparsity",
    "max levels",
    "epochs",
]
"""Columns of :func:`results_cells`."""


def _number(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _with_loss(accuracy: float | None, loss: float | None) -> str:
    return _number(accuracy) + ("" if loss is None else f" (loss {loss:.4f})")


def seed_spread(record: dict[str, Any]) -> str:
    """``"0.8721 ± 0.0012 (3 seeds)"`` for a row run with several seeds, else ``"-"``.

    Examples
    --------
    >>> seed_spread({"seeds": [{}, {}, {}], "accuracy_mean": 0.87214, "accuracy_sd": 0.00123})
    '0.8721 ± 0.0012 (3 seeds)'
    >>> seed_spread({"accuracy": 0.9})
    '-'
    """
    if "seeds" not in record:
        return "-"
    return (
        f"{record['accuracy_mean']:.4f} ± {record['accuracy_sd']:.4f} "
        f"({len(record['seeds'])} seeds)"
    )


def results_cells(records: Sequence[dict[str, Any]]) -> list[list[str]]:
    """One row of cells per record, under :data:`RESULTS_HEADER`.

    The spec's loss is shown beside its accuracy where the spec gives one (Lab 2 (a)),
    and so is this project's; rows not run say so.

    Examples
    --------
    >>> record = {"row": "ptq-4", "part": "3(b)", "description": "4-bit",
    ...           "reference": {"accuracy": 0.8972, "loss": None}, "status": "not run"}
    >>> results_cells([record])[0][3:6]
    ['0.8972', 'not run', '-']

    The project's column is the main seed's accuracy (the saved model); rows run with
    extra seeds show their mean and spread beside it (:func:`seed_spread`).
    """
    cells = []
    for record in records:
        reference = record["reference"]
        head = [record["row"], record["part"], record["description"]]
        head.append(_with_loss(reference["accuracy"], reference["loss"]))
        if "accuracy" not in record:
            cells.append([*head, record.get("status", "not run"), "-", "-", "-", "-", "-"])
            continue
        loss = record["loss"] if reference["loss"] is not None else None
        difference = (
            None if reference["accuracy"] is None else record["accuracy"] - reference["accuracy"]
        )
        cells.append(
            [
                *head,
                _with_loss(record["accuracy"], loss),
                seed_spread(record),
                "-" if difference is None else f"{difference:+.4f}",
                _number(record["sparsity"]["total_sparsity"], 3),
                "-" if record["max_weight_levels"] is None else str(record["max_weight_levels"]),
                str(record["epochs"]) if record["epochs"] else "-",
            ]
        )
    return cells


def sparsity_cells(records: Sequence[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    """Per-layer sparsity of every finished row with pruned weights: layers by rows.

    Returns
    -------
    (header, rows)
        ``header`` is ``["layer", <row ids>]``; one row of cells per prunable layer,
        then the total. Empty ``rows`` when no finished row is sparse.
    """
    sparse = [
        record
        for record in records
        if "sparsity" in record and record["sparsity"]["total_zeros"] > 0
    ]
    if not sparse:
        return ["layer"], []
    names = [layer["name"] for layer in sparse[0]["sparsity"]["layers"]]
    rows = [
        [name, *(f"{record['sparsity']['layers'][i]['sparsity']:.3f}" for record in sparse)]
        for i, name in enumerate(names)
    ]
    rows.append(["total", *(f"{r['sparsity']['total_sparsity']:.3f}" for r in sparse)])
    return ["layer", *(record["row"] for record in sparse)], rows
