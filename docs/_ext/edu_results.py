"""The ``lab-results`` directive: a lab's table from its committed reproduction results.

``edu reproduce LAB --output-dir DIR`` writes ``DIR/LAB/results.json``,
``results.md`` and ``command.txt``; those three files, committed under
``docs/<edu_results_dir>/LAB/``, are what the notes show. Usage in MyST markdown::

    :::{lab-results} lab2
    :::

renders one row per result: the spec's part and reference accuracy beside this
project's accuracy, the difference, total sparsity, epochs and the row's checks,
followed by the command that made the numbers and the run's settings. While the
folder is absent the directive says that the table has not been reproduced yet and
lists only the spec's numbers; it never shows a number that no run produced. A
folder that is incomplete, malformed or stale (its rows or reference numbers differ
from :data:`edu.experiments.LABS`) is a build error.

Prose that must quote a number of the run (its epochs, a row's sparsity) takes it
from the same file with the ``lab-value`` role, so that the sentence stays true when
the table is made again::

    finetuned for {lab-value}`lab2 settings.epochs` epochs, at
    {lab-value}`lab3 ptq-sym-2.total_sparsity .0%` sparsity

The first word names the lab, the second a dotted path into ``results.json``
(``settings.<key>``, ``args.<key>``, or ``<row id>.<key>``), the optional third a
Python format specification.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective, SphinxRole
from table_nodes import paragraph_node, table_node

from edu.experiments import LABS

RESULT_FILES = ("results.json", "results.md", "command.txt")
"""What ``edu reproduce`` writes beside the rows and the notes read."""

ACCURACY_HEADER = ("row", "spec part", "spec's accuracy", "this project", "difference")
"""Columns of the first table of :func:`table_rows`: the numbers the spec compares."""

MODEL_HEADER = ("row", "what", "sparsity", "levels", "epochs (best)", "checks")
"""Columns of the second table of :func:`table_rows`: what each row is and was checked."""

SEED_HEADER = ("row", "seeds", "accuracy per seed", "mean ± sd")
"""Columns of :func:`seed_rows`: the rows run with several seeds, and their spread."""

LAYER_COLUMNS = 4
"""Rows of the run per per-layer sparsity table, so that each fits the page."""


class ResultsError(ValueError):
    """A results folder that cannot be shown: incomplete, malformed or stale."""


@dataclass(frozen=True)
class Results:
    """A lab's committed reproduction: the parsed ``results.json``, command, ``results.md``."""

    payload: dict[str, Any]
    command: str
    markdown: str


def load_results(folder: Path, lab: str) -> Results | None:
    """Read ``folder`` (``docs/results/<lab>``); ``None`` when none of its files exist.

    Raises
    ------
    ResultsError
        If only some of :data:`RESULT_FILES` exist, ``results.json`` is not valid
        JSON of ``lab``, or its rows or reference numbers differ from the spec's
        (:data:`edu.experiments.LABS`): results made by another version of the code.
    """
    present = [name for name in RESULT_FILES if (folder / name).is_file()]
    if not present:
        return None
    if len(present) < len(RESULT_FILES):
        missing = sorted(set(RESULT_FILES) - set(present))
        raise ResultsError(f"{folder} lacks {', '.join(missing)}; commit all of {RESULT_FILES}")
    try:
        payload = json.loads((folder / "results.json").read_text())
    except json.JSONDecodeError as error:
        raise ResultsError(f"{folder / 'results.json'} is not valid JSON: {error}") from error
    _check_payload(payload, lab, folder)
    command = (folder / "command.txt").read_text().strip()
    if not command.startswith("edu reproduce "):
        raise ResultsError(f"{folder / 'command.txt'} does not hold an 'edu reproduce' command")
    return Results(payload, command, (folder / "results.md").read_text())


def _check_payload(payload: Any, lab: str, folder: Path) -> None:
    if not isinstance(payload, dict) or payload.get("lab") != lab:
        raise ResultsError(f"{folder / 'results.json'} is not the results of {lab}")
    rows = payload.get("rows")
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise ResultsError(f"{folder / 'results.json'}: 'rows' must be a list of objects")
    spec = {row.id: row for row in LABS[lab]}
    for row in rows:
        for key in ("row", "part", "description", "reference", "status"):
            if key not in row:
                raise ResultsError(f"{folder / 'results.json'}: a row lacks {key!r}: {row}")
        expected = spec.get(row["row"])
        if expected is None:
            raise ResultsError(
                f"{folder / 'results.json'}: row {row['row']!r} is not a row of {lab} "
                f"({', '.join(spec)}); reproduce the results again"
            )
        reference = row["reference"]
        if (reference.get("accuracy"), reference.get("loss")) != (
            expected.reference,
            expected.reference_loss,
        ):
            raise ResultsError(
                f"{folder / 'results.json'}: row {row['row']!r} has reference {reference}, "
                f"the spec has accuracy {expected.reference}; reproduce the results again"
            )


def _number(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _checks(row: dict[str, Any]) -> str:
    ok = row.get("checks_ok")
    return "-" if ok is None else ("passed" if ok else "FAILED")


def table_rows(rows: list[dict[str, Any]]) -> tuple[list[list[str]], list[list[str]]]:
    """The cells of the two tables, one list per result row.

    Returns
    -------
    (accuracy, model)
        Under :data:`ACCURACY_HEADER` and :data:`MODEL_HEADER`: nine columns in one
        table would not fit the page. Rows that did not run show their status in the
        project's column. Losses appear beside accuracies where the spec gives a loss
        (Lab 2 (a)).
    """
    accuracy, model = [], []
    for row in rows:
        reference = row["reference"]
        spec = _number(reference.get("accuracy"))
        if reference.get("loss") is not None:
            spec += f" (loss {reference['loss']:.4f})"
        if row.get("accuracy") is None:
            accuracy.append([row["row"], row["part"], spec, row["status"], "-"])
            model.append([row["row"], row["description"], "-", "-", "-", "-"])
            continue
        ours = _number(row["accuracy"])
        if reference.get("loss") is not None and row.get("loss") is not None:
            ours += f" (loss {row['loss']:.4f})"
        difference = (
            "-"
            if reference.get("accuracy") is None
            else f"{row['accuracy'] - reference['accuracy']:+.4f}"
        )
        accuracy.append([row["row"], row["part"], spec, ours, difference])
        epochs = str(row.get("epochs") or "-")
        if row.get("best_epoch"):
            epochs += f" ({row['best_epoch']})"
        levels = row.get("max_weight_levels")
        model.append(
            [
                row["row"],
                row["description"],
                _number(row.get("total_sparsity"), 3),
                "-" if levels is None else str(levels),
                epochs,
                _checks(row),
            ]
        )
    return accuracy, model


def seed_rows(rows: list[dict[str, Any]]) -> list[list[str]]:
    """The rows run with extra seeds: each seed's accuracy, the mean and sample deviation.

    Empty when no row of the run has ``seeds`` (:func:`edu.experiments.add_seed_spread`).
    """
    return [
        [
            row["row"],
            ", ".join(str(seed["seed"]) for seed in row["seeds"]),
            ", ".join(_number(seed["accuracy"]) for seed in row["seeds"]),
            f"{row['accuracy_mean']:.4f} ± {row['accuracy_sd']:.4f}",
        ]
        for row in rows
        if row.get("seeds")
    ]


def spec_rows(lab: str) -> tuple[list[list[str]], list[list[str]]]:
    """The tables before any reproduction: the spec's numbers, nothing in our columns."""
    rows = [
        {
            "row": row.id,
            "part": row.part,
            "description": row.description,
            "reference": {"accuracy": row.reference, "loss": row.reference_loss},
            "status": "not reproduced yet",
        }
        for row in LABS[lab]
    ]
    return table_rows(rows)


def layer_sparsity(markdown: str) -> tuple[list[str], list[list[str]]]:
    """The per-layer sparsity table of a ``results.md``: header and rows of cells.

    ``edu reproduce`` prints it after a line starting with ``Per-layer sparsity``,
    one layer per line and one column per sparse row; ``([], [])`` when the file
    has none (no row of the run is sparse).
    """
    lines = markdown.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("Per-layer sparsity")), None)
    if start is None:
        return [], []
    table = []
    for line in lines[start + 1 :]:
        if line.startswith("|"):
            table.append([cell.strip() for cell in line.strip().strip("|").split("|")])
        elif table:
            break
    if len(table) < 3:
        return [], []
    return table[0], table[2:]


def layer_tables(
    header: list[str], rows: list[list[str]]
) -> list[tuple[list[str], list[list[str]]]]:
    """Split a per-layer table into tables of at most :data:`LAYER_COLUMNS` run rows each."""
    tables = []
    for first in range(1, len(header), LAYER_COLUMNS):
        columns = [0, *range(first, min(first + LAYER_COLUMNS, len(header)))]
        tables.append(
            ([header[j] for j in columns], [[cells[j] for j in columns] for cells in rows])
        )
    return tables


def settings_text(payload: dict[str, Any]) -> str:
    """One sentence with the run's settings (``results.json``'s ``settings``)."""
    settings = payload.get("settings", {})
    words = [
        f"{key.replace('_', ' ')} {value}"
        for key, value in settings.items()
        if value is not None and key != "checkpoint_sha256"
    ]
    text = "Settings: " + ", ".join(words) if words else "Settings: not recorded"
    sha = settings.get("checkpoint_sha256")
    if sha:
        text += f"; starting checkpoint SHA-256 {sha[:12]}..."
    return text + "."


class LabResults(SphinxDirective):
    """``lab-results LAB``: the lab's reproduced table, or the note that it is missing."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        """Read the lab's results folder and return the table and its provenance."""
        lab = self.arguments[0]
        if lab not in LABS:
            raise self.error(f"unknown lab {lab!r}; known: {', '.join(LABS)}")
        folder = Path(self.env.srcdir) / self.config.edu_results_dir / lab
        for name in RESULT_FILES:
            self.env.note_dependency(str(folder / name))
        try:
            results = load_results(folder, lab)
        except ResultsError as error:
            raise self.error(str(error)) from error
        if results is None:
            note = nodes.note()
            note += paragraph_node(
                f"The {lab.replace('lab', 'Lab ')} table has not been reproduced yet, so "
                "only the spec's reference numbers are shown. To fill it in, run ",
                nodes.literal(text=f"edu reproduce {lab}"),
                " and commit the files ",
                nodes.literal(text=", ".join(RESULT_FILES)),
                " it writes to ",
                nodes.literal(text=f"outputs/reproduce/{lab}/"),
                " under ",
                nodes.literal(text=f"docs/{self.config.edu_results_dir}/{lab}/"),
                ".",
            )
            accuracy, model = spec_rows(lab)
            return [
                note,
                table_node(ACCURACY_HEADER, accuracy, "lab-results"),
                table_node(MODEL_HEADER, model, "lab-results"),
            ]
        made_by = paragraph_node("Made by ", nodes.literal(text=results.command), ".")
        out: list[nodes.Node] = []
        if results.payload.get("args", {}).get("smoke"):
            warning = nodes.warning()
            warning += paragraph_node(
                "These are the numbers of an ",
                nodes.literal(text="edu reproduce --smoke"),
                " run (a few hundred images, one epoch): they check that the pipeline "
                "runs and mean nothing about accuracy.",
            )
            out.append(warning)
        accuracy, model = table_rows(results.payload["rows"])
        out += [
            paragraph_node("Test accuracy, beside the spec's:"),
            table_node(ACCURACY_HEADER, accuracy, "lab-results"),
            paragraph_node(
                "What each row is, its total sparsity, its levels (the most distinct "
                "weight values of any quantized layer), its finetuning epochs (the best "
                "one in brackets) and the checks of its saved weights:"
            ),
            table_node(MODEL_HEADER, model, "lab-results"),
        ]
        seeds = seed_rows(results.payload["rows"])
        if seeds:
            out += [
                paragraph_node(
                    "Rows run again with other seeds (the data order and augmentation "
                    "of finetuning), so that a difference between rows can be told from "
                    "seed noise; the tables above show the first seed:"
                ),
                table_node(SEED_HEADER, seeds, "lab-results"),
            ]
        out += [
            made_by,
            paragraph_node(settings_text(results.payload)),
        ]
        header, layers = layer_sparsity(results.markdown)
        if layers:
            out.append(paragraph_node("Sparsity of every prunable layer, for the sparse rows:"))
            out += [table_node(h, cells, "lab-layers") for h, cells in layer_tables(header, layers)]
        return out


def lookup(payload: dict[str, Any], path: str) -> Any:
    """The value at the dotted ``path`` of a ``results.json``: ``settings.epochs``,
    ``args.command`` or ``<row id>.<key>`` (such as ``finetune-70.accuracy``).

    Raises
    ------
    ResultsError
        If the path names nothing in ``payload``.
    """
    head, _, key = path.partition(".")
    if head in ("settings", "args"):
        record = payload.get(head, {})
    else:
        record = next((row for row in payload["rows"] if row["row"] == head), None)
        if record is None:
            raise ResultsError(f"no row {head!r} in the results of {payload['lab']}")
    if key not in record or record[key] is None:
        raise ResultsError(f"the results of {payload['lab']} have no value at {path!r}")
    return record[key]


class LabValue(SphinxRole):
    """``lab-value``: one number of a lab's ``results.json`` (see the module docstring)."""

    def run(self) -> tuple[list[nodes.Node], list[nodes.system_message]]:
        """Look the value up and return it as text, formatted as asked."""
        words = self.text.split()
        if len(words) not in (2, 3) or words[0] not in LABS:
            message = f"lab-value wants 'LAB PATH [FORMAT]' with LAB in {', '.join(LABS)}"
            return [], [self.inliner.reporter.error(message, line=self.lineno)]
        lab, path, spec = words[0], words[1], (words[2] if len(words) == 3 else "")
        folder = Path(self.env.srcdir) / self.config.edu_results_dir / lab
        self.env.note_dependency(str(folder / "results.json"))
        try:
            results = load_results(folder, lab)
            if results is None:
                return [nodes.emphasis(text="(not reproduced yet)")], []
            text = format(lookup(results.payload, path), spec)
        except (ResultsError, ValueError) as error:
            return [], [self.inliner.reporter.error(str(error), line=self.lineno)]
        return [nodes.Text(text)], []


def setup(app: Sphinx) -> dict[str, object]:
    """Register ``lab-results``, ``lab-value`` and the ``edu_results_dir`` setting."""
    app.add_config_value("edu_results_dir", "results", "env", types=frozenset({str}))
    app.add_directive("lab-results", LabResults)
    app.add_role("lab-value", LabValue())
    return {"parallel_read_safe": True, "parallel_write_safe": True}
