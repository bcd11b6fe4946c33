"""Does the ``lab-results`` directive show committed reproduction results faithfully?

A small Sphinx project in a temporary folder holds the directive and a results folder
in the format ``edu reproduce`` writes; the oracle for the numbers is that format
itself (``results.json``) and, for a real run, the ``results.md`` table that
``edu reproduce`` prints beside it.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from edu.experiments import LABS

INDEX = """# Results

:::{lab-results} lab2
:::
"""


def _project(root: Path, ext: Path) -> Path:
    """A one-page Sphinx project using the ``lab-results`` directive."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(ext)!r})\n"
        'extensions = ["myst_parser", "edu_results"]\n'
        'myst_enable_extensions = ["colon_fence"]\n'
        'edu_results_dir = "results"\n'
        'exclude_patterns = ["_build", "results/**"]\n'
    )
    (root / "index.md").write_text(INDEX)
    return root


def _payload(accuracies: dict[str, float]) -> dict:
    """A results.json of Lab 2 in ``edu reproduce``'s format; rows not given did not run."""
    rows = []
    for row in LABS["lab2"]:
        record = {
            "row": row.id,
            "part": row.part,
            "description": row.description,
            "reference": {"accuracy": row.reference, "loss": row.reference_loss},
            "status": "ran" if row.id in accuracies else "not run",
        }
        if row.id in accuracies:
            trained = row.id in ("finetune-70", "iterative-70", "global-iterative-70")
            record |= {
                "accuracy": accuracies[row.id],
                "loss": 0.5,
                "max_weight_levels": None,
                "epochs": 20 if trained else 0,
                "best_epoch": 17 if trained else None,
                "checks_ok": True,
                "total_sparsity": 0.7 if trained else 0.0,
            }
        rows.append(record)
    command = "edu reproduce lab2 --output-dir outputs/reproduce"
    return {
        "lab": "lab2",
        "args": {"command": command, "smoke": False},
        "settings": {"checkpoint_sha256": "ab" * 32, "epochs": 20, "lr": 0.01, "seed": 0},
        "rows": rows,
    }


def _write(folder: Path, payload: dict, command: str | None = None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results.json").write_text(json.dumps(payload))
    (folder / "results.md").write_text("table\n")
    (folder / "command.txt").write_text((command or payload["args"]["command"]) + "\n")


def _build(run_sphinx, project: Path) -> str:
    result = run_sphinx("html", project / "_build", project / "_doctrees", source=project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stderr
    return (project / "_build" / "index.html").read_text(encoding="utf-8")


def _text(page: str) -> str:
    """The visible text of an HTML page, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _cells(page: str) -> list[list[str]]:
    """The text of each table row of an HTML page."""
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", page, flags=re.DOTALL)
    return [
        [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", r, re.DOTALL)
        ]
        for r in rows
    ]


def _tables(page: str) -> list[list[list[str]]]:
    """The cells of each table of an HTML page, header row first."""
    return [_cells(table) for table in re.findall(r"<table.*?</table>", page, flags=re.DOTALL)]


def test_missing_results_are_announced_not_invented(tmp_path, docs_ext, run_sphinx):
    """Without results, does the page say so, list the spec's numbers and no others?"""
    page = _build(run_sphinx, _project(tmp_path / "project", docs_ext))
    assert "has not been reproduced yet" in page
    accuracy, model = _tables(page)
    assert [row[0] for row in accuracy[1:]] == [row.id for row in LABS["lab2"]]
    assert accuracy[1][2] == "0.9151 (loss 0.3231)"
    assert all(row[3:] == ["not reproduced yet", "-"] for row in accuracy[1:])
    assert all(row[2:] == ["-"] * 4 for row in model[1:])


def test_results_are_shown_beside_the_spec_with_their_command(tmp_path, docs_ext, run_sphinx):
    """Are the project's numbers, their differences and the command in the table?"""
    project = _project(tmp_path / "project", docs_ext)
    _write(project / "results" / "lab2", _payload({"float": 0.8736, "finetune-70": 0.8612}))
    page = _build(run_sphinx, project)
    tables = _tables(page)
    assert len(tables) == 2, "no per-layer table without a per-layer section in results.md"
    accuracy = {row[0]: row for row in tables[0][1:]}
    model = {row[0]: row for row in tables[1][1:]}
    assert all(len(table[0]) <= 6 for table in tables), "each table must fit the page"
    assert accuracy["float"][2:] == ["0.9151 (loss 0.3231)", "0.8736 (loss 0.5000)", "-0.0415"]
    assert accuracy["finetune-70"][2:] == ["0.8943", "0.8612", "-0.0331"]
    assert model["finetune-70"][2:] == ["0.700", "-", "20 (17)", "passed"]
    assert accuracy["oneshot-30"][3] == "not run"
    assert "Made by edu reproduce lab2 --output-dir outputs/reproduce" in _text(page)
    assert "has not been reproduced yet" not in page


def test_rows_run_with_several_seeds_get_their_own_table(tmp_path, docs_ext, run_sphinx):
    """Does a row with extra seeds show each seed's accuracy and their mean ± sd in a
    third table, while rows of one seed stay out of it?"""
    project = _project(tmp_path / "project", docs_ext)
    payload = _payload({"iterative-70": 0.87, "global-iterative-70": 0.88})
    for row in payload["rows"]:
        if row["row"] == "iterative-70":
            row["seeds"] = [
                {"seed": 0, "accuracy": 0.87, "best_epoch": 20},
                {"seed": 1, "accuracy": 0.8712, "best_epoch": 19},
            ]
            row["accuracy_mean"], row["accuracy_sd"] = 0.8706, 0.000849
    _write(project / "results" / "lab2", payload)
    tables = _tables(_build(run_sphinx, project))
    assert len(tables) == 3
    assert tables[2] == [
        ["row", "seeds", "accuracy per seed", "mean ± sd"],
        ["iterative-70", "0, 1", "0.8700, 0.8712", "0.8706 ± 0.0008"],
    ]


LAYERS_MD = """Command: `edu reproduce lab2`

| row | spec part |
| --- | --- |
| float | 2(a) |

Per-layer sparsity:

| layer | r1 | r2 | r3 | r4 | r5 | r6 |
| ----- | -- | -- | -- | -- | -- | -- |
| head_conv.0.conv | 0.1 | 0.2 | 0.3 | 0.4 | 0.5 | 0.6 |
| total | 0.7 | 0.7 | 0.7 | 0.7 | 0.7 | 0.7 |
"""


def test_per_layer_sparsity_is_read_from_results_md_and_split_to_fit(docs_ext):
    """Is the per-layer table of results.md read cell by cell, four run rows a table?"""
    import edu_results

    header, rows = edu_results.layer_sparsity(LAYERS_MD)
    assert header == ["layer", "r1", "r2", "r3", "r4", "r5", "r6"]
    assert rows == [
        ["head_conv.0.conv", "0.1", "0.2", "0.3", "0.4", "0.5", "0.6"],
        ["total"] + ["0.7"] * 6,
    ]
    tables = edu_results.layer_tables(header, rows)
    assert [h for h, _ in tables] == [["layer", "r1", "r2", "r3", "r4"], ["layer", "r5", "r6"]]
    assert tables[1][1][0] == ["head_conv.0.conv", "0.5", "0.6"]
    assert edu_results.layer_sparsity("| row |\n| --- |\n| float |\n") == ([], [])


def test_per_layer_tables_and_lab_values_appear_on_the_page(tmp_path, docs_ext, run_sphinx):
    """Does the page show the per-layer tables and the numbers that prose quotes?"""
    project = _project(tmp_path / "project", docs_ext)
    (project / "index.md").write_text(
        INDEX + "\nFinetuned {lab-value}`lab2 settings.epochs` epochs to "
        "{lab-value}`lab2 finetune-70.accuracy .1%`.\n"
    )
    folder = project / "results" / "lab2"
    _write(folder, _payload({"float": 0.87, "finetune-70": 0.8612}))
    (folder / "results.md").write_text(LAYERS_MD)
    page = _build(run_sphinx, project)
    tables = _tables(page)
    assert [table[0] for table in tables[2:]] == [
        ["layer", "r1", "r2", "r3", "r4"],
        ["layer", "r5", "r6"],
    ]
    assert "Finetuned 20 epochs to 86.1%." in _text(page)


def test_lab_value_of_a_missing_key_fails_the_build(tmp_path, docs_ext, run_sphinx):
    """Is a quoted number that results.json lacks a build error, not a blank?"""
    project = _project(tmp_path / "project", docs_ext)
    (project / "index.md").write_text("{lab-value}`lab2 oneshot-30.accuracy`\n")
    _write(project / "results" / "lab2", _payload({"float": 0.87}))
    result = run_sphinx("html", project / "_build", project / "_doctrees", source=project)
    assert result.returncode != 0
    assert "no value at 'oneshot-30.accuracy'" in result.stderr


@pytest.mark.parametrize(
    "damage, message",
    [
        ("drop command.txt", "lacks command.txt"),
        ("other lab", "is not the results of lab2"),
        ("stale reference", "reproduce the results again"),
        ("unknown row", "is not a row of lab2"),
    ],
)
def test_broken_results_fail_the_build(tmp_path, docs_ext, damage, message):
    """Is an incomplete, foreign or stale results folder refused with a clear reason?"""
    import edu_results

    folder = tmp_path / "lab2"
    payload = _payload({"float": 0.87})
    if damage == "other lab":
        payload["lab"] = "lab3"
    elif damage == "stale reference":
        payload["rows"][0]["reference"]["accuracy"] = 0.9
    elif damage == "unknown row":
        payload["rows"][0]["row"] = "float-old"
    _write(folder, payload)
    if damage == "drop command.txt":
        (folder / "command.txt").unlink()
    with pytest.raises(edu_results.ResultsError, match=message):
        edu_results.load_results(folder, "lab2")


def test_absent_folder_reads_as_no_results(tmp_path, docs_ext):
    """Is a lab without a results folder 'not reproduced' rather than an error?"""
    import edu_results

    assert edu_results.load_results(tmp_path / "nothing", "lab2") is None


@pytest.mark.slow
@pytest.mark.skipif(
    not os.environ.get("EDU_DATA_ROOT"),
    reason="EDU_DATA_ROOT is not set (point it at a folder holding CIFAR-10, as CI does)",
)
def test_a_real_smoke_reproduction_renders_as_edu_reports_it(tmp_path, docs_ext, run_sphinx):
    """Does the table of a real `edu reproduce lab2 --smoke` run match its own results.md?"""
    out = tmp_path / "reproduce"
    command = [sys.executable, "-m", "edu", "reproduce", "lab2", "--smoke", "--no-progress"]
    command += ["--threads", "1", "--output-dir", str(out)]
    run = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert run.returncode == 0, run.stdout + run.stderr
    project = _project(tmp_path / "project", docs_ext)
    shutil.copytree(out / "lab2", project / "results" / "lab2")
    page = _build(run_sphinx, project)
    assert "numbers of an edu reproduce --smoke run" in _text(page)
    assert (out / "lab2" / "command.txt").read_text().strip() in _text(page)
    reported = (out / "lab2" / "results.md").read_text()
    payload = json.loads((out / "lab2" / "results.json").read_text())
    rows = {row[0]: row for row in _tables(page)[0][1:]}
    assert set(rows) == {row["row"] for row in payload["rows"]}
    for record in payload["rows"]:
        ours = rows[record["row"]][3].split(" ")[0]
        assert ours == f"{record['accuracy']:.4f}"
        line = next(
            line for line in reported.splitlines() if line.startswith(f"| {record['row']} ")
        )
        assert ours in line, (ours, line)
