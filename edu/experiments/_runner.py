"""Run the rows of a lab, one folder each, skipping those already done with these settings.

A row is finished when its ``row.json`` exists and records the current
:class:`Settings` and the row's current description, which states its own parameters
(bits, sparsity, widths, distillation), so that a row whose definition changed runs
again (and its ``model.pt`` exists, for rows that save one). ``row.json``
is written last, atomically, so an interrupted row is simply run again, and a
finetuning row then resumes from its per-epoch checkpoint.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from edu.experiments._experiment import MODEL_FILE, ROW_FILE, Experiment
from edu.experiments._finetune import CHECKPOINT
from edu.experiments._summary import summarize
from edu.experiments._tables import Row, select_rows
from edu.train import save_checkpoint

__all__ = ["MissingPrerequisiteError", "finished_record", "run_lab"]


class MissingPrerequisiteError(ValueError):
    """A row starts from another row's weights, which are missing or from other settings."""

    def __init__(self, reason: str, lab: str, row: str) -> None:
        super().__init__(
            f"{reason}; run `edu reproduce {lab} --rows {row}` with the same options first"
        )
        self.reason = reason
        self.lab = lab
        self.row = row


def _settings(exp: Experiment) -> dict[str, Any]:
    """The settings as they read back from JSON (what ``row.json`` is compared with)."""
    return json.loads(json.dumps(exp.settings.as_dict()))


def _read_record(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def finished_record(exp: Experiment, lab: str, row: Row) -> dict[str, Any] | None:
    """The ``row.json`` of ``row`` if it finished with ``exp``'s settings, as the row is
    described now, else ``None``."""
    record = _read_record(exp.row_dir(lab, row.id) / ROW_FILE)
    if record is None or record.get("settings") != _settings(exp):
        return None
    if record.get("description") != row.description:
        return None
    if row.saves_model and not exp.model_path(lab, row.id).is_file():
        return None
    return record


def _differences(saved: dict[str, Any], current: dict[str, Any]) -> str:
    keys = sorted(set(saved) | set(current))
    return ", ".join(
        f"{key} {saved.get(key)!r} != {current.get(key)!r}"
        for key in keys
        if saved.get(key) != current.get(key)
    )


def _check_prerequisites(exp: Experiment, lab: str, rows: Iterable[Row], force: bool) -> None:
    """Raise :class:`MissingPrerequisiteError` for the first row that cannot start.

    The rows a row starts from are looked up in ``exp.base`` (the main seed's run
    when ``exp`` runs an extra seed), with that experiment's settings.
    """
    base = exp.base
    planned: set[tuple[str, str]] = set()
    for row in rows:
        skipped = not force and finished_record(exp, lab, row) is not None
        for needed_lab, needed_row in [] if skipped else row.requires:
            if base is exp and (needed_lab, needed_row) in planned:
                continue
            needed = select_rows(needed_lab, [needed_row])[0]
            if finished_record(base, needed_lab, needed) is not None:
                continue
            record = _read_record(base.row_dir(needed_lab, needed_row) / ROW_FILE)
            path = base.model_path(needed_lab, needed_row)
            if record is None or not path.is_file():
                why = "does not exist (or that row did not finish)"
            elif record.get("description") != needed.description:
                why = (
                    f"was made as another {needed_lab} {needed_row} "
                    f"({record.get('description')!r}, the row is now {needed.description!r})"
                )
            else:
                why = (
                    "was made with other settings ("
                    + _differences(record["settings"], _settings(base))
                    + ")"
                )
            raise MissingPrerequisiteError(
                f"{lab} row {row.id} starts from {path}, which {why}", needed_lab, needed_row
            )
        planned.add((lab, row.id))


def _write_json(path: Path, payload: Any) -> None:
    """Write JSON atomically: a reader sees the old file or the whole new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(handle, "w") as file:
        file.write(json.dumps(payload, indent=2) + "\n")
    os.replace(temporary, path)


def describe(lab: str, row: Row) -> dict[str, Any]:
    """The fixed part of a row's record: what it is and what the spec reports."""
    return {
        "lab": lab,
        "row": row.id,
        "part": row.part,
        "description": row.description,
        "reference": {"accuracy": row.reference, "loss": row.reference_loss},
    }


def run_row(exp: Experiment, lab: str, row: Row) -> dict[str, Any]:
    """Run one row, write its ``model.pt`` (if it saves one) and ``row.json``; return the record."""
    row_dir = exp.row_dir(lab, row.id)
    row_dir.mkdir(parents=True, exist_ok=True)
    (row_dir / ROW_FILE).unlink(missing_ok=True)
    exp.say(f"{lab} {row.id}: {row.description} ...")
    started = time.perf_counter()
    result = row.run(exp, row_dir)
    summary = summarize(result.net, exp.test_loader, exp.device)
    levels = summary["weight_levels"]
    record = {
        **describe(lab, row),
        "accuracy": summary["test_accuracy"],
        "loss": summary["test_loss"],
        "num_images": summary["num_images"],
        "sparsity": summary["sparsity"],
        "weight_levels": levels,
        "max_weight_levels": max(levels.values()) if levels else None,
        "epochs": len(result.fit.history) if result.fit else 0,
        "best_epoch": result.fit.best_epoch if result.fit else None,
        "details": dict(result.details),
        "settings": _settings(exp),
        **exp.about,
    }
    if row.saves_model:
        path = exp.model_path(lab, row.id)
        state = {key: value.detach().cpu() for key, value in result.net.state_dict().items()}
        meta = {key: value for key, value in record.items() if key != "sparsity"}
        save_checkpoint(path, {"state_dict": state, "meta": meta})
        record["model"] = MODEL_FILE
        if result.verify is not None:
            record["details"] |= result.verify(path)
    record["checks_ok"] = all(
        value for key, value in record["details"].items() if key.endswith("_ok")
    )
    record["history"] = result.fit.history if result.fit else None
    record["seconds"] = round(time.perf_counter() - started, 2)
    _write_json(row_dir / ROW_FILE, record)
    reference = "-" if row.reference is None else f"{row.reference:.4f}"
    exp.say(
        f"{lab} {row.id}: accuracy {record['accuracy']:.4f} (spec {reference}), "
        f"sparsity {summary['sparsity']['total_sparsity']:.3f}"
        + ("" if record["checks_ok"] else ", CHECKS FAILED")
        + f" ({record['seconds']:.0f} s)"
    )
    return record


def run_lab(
    lab: str, exp: Experiment, rows: Iterable[str] | None = None, force: bool = False
) -> list[dict[str, Any]]:
    """Run the rows of ``lab`` not yet finished with ``exp``'s settings; report every row.

    Parameters
    ----------
    lab : {"lab2", "lab3"}
    exp : Experiment
    rows : iterable of str, optional
        Row ids to run (default all); the others are only reported.
    force : bool, default False
        Run the selected rows even if finished, from scratch (their per-epoch
        checkpoints are deleted).

    Returns
    -------
    list of dict
        One record per row of the lab, in the table's order: the ``row.json`` of
        finished rows, or the row's description for rows not run with these
        settings; each with ``status`` ``"ran"``, ``"done"`` (finished earlier,
        skipped) or ``"not run"``.

    Raises
    ------
    ValueError
        An unknown lab or row id.
    MissingPrerequisiteError
        A selected row starts from a row that has not finished with these settings
        (checked before any row runs).
    """
    selected = select_rows(lab, rows)
    _check_prerequisites(exp, lab, selected, force)
    ran: dict[str, dict[str, Any]] = {}
    for row in selected:
        if force:
            for name in (ROW_FILE, MODEL_FILE, CHECKPOINT):
                (exp.row_dir(lab, row.id) / name).unlink(missing_ok=True)
        elif finished_record(exp, lab, row) is not None:
            exp.say(f"{lab} {row.id}: already done with these settings, skipped")
            continue
        ran[row.id] = run_row(exp, lab, row)
    report = []
    for row in select_rows(lab):
        if row.id in ran:
            report.append({**ran[row.id], "status": "ran"})
        elif (record := finished_record(exp, lab, row)) is not None:
            report.append({**record, "status": "done"})
        else:
            report.append({**describe(lab, row), "status": "not run"})
    return report
