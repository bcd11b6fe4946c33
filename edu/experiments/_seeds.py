"""Rows run again with other seeds, so that a table says whether a difference is real.

The spec compares rows (global against per-layer iterative pruning, QAT against PTQ,
sparse against dense QAT) by one number each; a finetuning row's accuracy moves with
the data order, by a few tenths of a point. Running a compared row with extra seeds
gives its spread: :func:`add_seed_spread` puts the accuracy of every seed, their mean
and their sample standard deviation into the main run's record of the row.

An extra seed's rows live in ``<output>/seeds/<seed>/<lab>/<row>/`` (:func:`seed_dir`)
and start from the main run's rows (:attr:`Experiment.prerequisites`), so that only the
seed differs; except Lab 3 (d) when the extra seed made both Lab 2 models it chooses
from itself (:func:`edu.experiments._lab3.sparse_start_run`): the homework's rows of an
extra seed are then one independent chain, as a student's are.
"""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from edu.experiments._experiment import Experiment

__all__ = [
    "COMPARED_ROWS",
    "HOMEWORK_SEEDED",
    "PRUNING_COMPARISON",
    "add_seed_spread",
    "seed_dir",
    "seed_experiment",
]

PRUNING_COMPARISON: dict[str, tuple[str, ...]] = {
    "lab2": ("iterative-70", "global-iterative-70"),
    "lab3": (),
    "lab4": (),
}
"""Lab 2 (d) against (e): the comparison the spec's text draws that one seed cannot settle."""

HOMEWORK_SEEDED: dict[str, tuple[str, ...]] = {
    "lab2": ("finetune-70", *PRUNING_COMPARISON["lab2"]),
    "lab3": ("qat-4", "sparse-qat-4"),
    "lab4": (),
}
"""The pruning comparison and every row that makes a homework checkpoint (Lab 2 (c), (e),
Lab 3 (c), (d) at 4 bits). Independent runs of the homework's rows measure how far apart
honest work lands, which is what tells a copied checkpoint from a student's own; the
seed-1 run gives the course demo a full solution that is not the reference itself. On a
CPU, ``edu reproduce all`` runs the rows beyond the pruning comparison with the first
extra seed only (``--first-seed-rows``)."""

COMPARED_ROWS: dict[str, tuple[str, ...]] = {
    "lab2": PRUNING_COMPARISON["lab2"],
    "lab3": ("qat-4", "qat-3", "qat-2", "sparse-qat-4", "sparse-qat-3", "sparse-qat-2"),
    "lab4": (),
}
"""Every training row the spec compares with another (PTQ rows have no seed to vary)."""


def seed_dir(output_dir: Path, seed: int) -> Path:
    """Where the rows of an extra ``seed`` are written under a run's ``output_dir``."""
    return output_dir / "seeds" / str(seed)


def seed_experiment(exp: Experiment, seed: int) -> Experiment:
    """``exp`` with another seed, writing to :func:`seed_dir` and starting from ``exp``'s rows."""
    return dataclasses.replace(
        exp,
        settings=dataclasses.replace(exp.settings, seed=seed),
        output_dir=seed_dir(exp.output_dir, seed),
        prerequisites=exp,
    )


def add_seed_spread(
    records: Sequence[dict[str, Any]], extra: Mapping[int, Sequence[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """The main run's records, with the spread over seeds added to each row run again.

    Parameters
    ----------
    records : sequence of dict
        The main run's records (:func:`edu.experiments.run_lab`), one per row.
    extra : mapping of int to sequence of dict
        Per extra seed, the records of its run (rows that did not finish there are
        left out of the spread).

    Returns
    -------
    list of dict
        Copies of ``records``; a finished row that also finished with at least one
        extra seed gains ``seeds`` (``[{"seed", "accuracy", "best_epoch"}, ...]``, the
        main seed first), ``accuracy_mean`` and ``accuracy_sd`` (sample standard
        deviation, ``n - 1`` in the denominator). ``accuracy`` stays the main seed's:
        it is the model that is saved and shipped.

    Examples
    --------
    >>> main = [{"row": "a", "accuracy": 0.90, "best_epoch": 20, "settings": {"seed": 0}}]
    >>> more = {1: [{"row": "a", "accuracy": 0.92, "best_epoch": 19, "settings": {"seed": 1}}]}
    >>> row = add_seed_spread(main, more)[0]
    >>> [s["seed"] for s in row["seeds"]], round(row["accuracy_mean"], 4)
    ([0, 1], 0.91)
    >>> round(row["accuracy_sd"], 4)
    0.0141
    """
    out = []
    for record in records:
        record = dict(record)
        runs = [
            other
            for seed in sorted(extra)
            for other in extra[seed]
            if other["row"] == record["row"] and "accuracy" in other
        ]
        if "accuracy" in record and runs:
            record["seeds"] = [
                {
                    "seed": run["settings"]["seed"],
                    "accuracy": run["accuracy"],
                    "best_epoch": run.get("best_epoch"),
                }
                for run in [record, *runs]
            ]
            accuracies = [seed["accuracy"] for seed in record["seeds"]]
            record["accuracy_mean"] = statistics.fmean(accuracies)
            record["accuracy_sd"] = statistics.stdev(accuracies)
        out.append(record)
    return out
