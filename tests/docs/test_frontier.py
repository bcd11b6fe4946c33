"""The ``frontier-results`` directive on a one-page project: a note while nothing was
measured, then the figure, the table sorted by file size with the target marked, and the
command."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

INDEX = """# Frontier

:::{frontier-results}
:::
"""


def _project(root: Path, ext: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(ext)!r})\n"
        'extensions = ["myst_parser", "edu_frontier"]\n'
        'myst_enable_extensions = ["colon_fence"]\n'
        'edu_results_dir = "results"\n'
        'exclude_patterns = ["_build", "results/**"]\n'
    )
    (root / "index.md").write_text(INDEX)
    return root


def _model(row: str, accuracy: float, file_bytes: int) -> dict:
    return {
        "lab": "lab3",
        "row": row,
        "test_accuracy": accuracy,
        "file_bytes": file_bytes,
        "float32_bytes": 1_100_000,
        "bits_per_weight": 8 * file_bytes / 270_000,
        "macs": 40_800_000,
        "parameters": 272_000,
        "ratio": 1_100_000 / file_bytes,
    }


def _write(folder: Path) -> None:
    from matplotlib.figure import Figure

    folder.mkdir(parents=True)
    payload = {
        "args": {"command": "edu frontier outputs/reference --checkpoint float.pt"},
        "float_accuracy": 0.90,
        "float32_bytes": 1_100_000,
        "models": [
            _model("qat-4", 0.8950, 160_000),  # within a point, but 6.9x
            _model("sparse-qat-4", 0.8920, 70_000),  # 15.7x, -0.8 points: in target
            _model("qat-3", 0.8900, 72_000),  # 15.3x, exactly 1 point down: in target
            _model("sparse-qat-2", 0.8500, 40_000),  # far smaller, 5 points down
        ],
    }
    (folder / "results.json").write_text(json.dumps(payload))
    (folder / "command.txt").write_text(payload["args"]["command"] + "\n")
    Figure().savefig(folder / "frontier.png")


def test_an_unmeasured_frontier_is_announced_not_invented(build_page, tmp_path, docs_ext):
    page = build_page(_project(tmp_path / "project", docs_ext))
    assert "The frontier has not been measured yet" in page
    assert "<table" not in page


def test_the_frontier_shows_its_figure_table_and_command(build_page, page_rows, tmp_path, docs_ext):
    """Are the models sorted by file size, those in target marked (one exactly 1 point
    below, which floating point makes 1.0000000000000009), the figure copied and the
    command shown?"""
    project = _project(tmp_path / "project", docs_ext)
    _write(project / "results" / "frontier")
    page = build_page(project)
    rows = page_rows(page)
    names = ["lab3 sparse-qat-2", "lab3 sparse-qat-4", "lab3 qat-3", "lab3 qat-4"]
    assert [row[0] for row in rows[1:]] == names
    by_name = {row[0]: row for row in rows[1:]}
    assert by_name["lab3 sparse-qat-4"][1:] == [
        "0.8920", "-0.80 pts", "70,000", "15.7", "2.07", "40.8 M", "yes",
    ]  # fmt: skip
    assert by_name["lab3 qat-3"][-1] == "yes"
    assert by_name["lab3 qat-4"][-1] == "" and by_name["lab3 sparse-qat-2"][-1] == ""
    assert (project / "_build" / "_images" / "frontier.png").is_file()
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())
    assert "Made by edu frontier outputs/reference --checkpoint float.pt" in text


@pytest.mark.parametrize("payload", ['{"models": []}', "not json"])
def test_a_malformed_frontier_fails_the_build(tmp_path, docs_ext, run_sphinx, payload):
    project = _project(tmp_path / "project", docs_ext)
    _write(project / "results" / "frontier")
    (project / "results" / "frontier" / "results.json").write_text(payload)
    result = run_sphinx("html", project / "_build", project / "_doctrees", source=project)
    assert result.returncode != 0
    assert "is not edu frontier's" in result.stdout + result.stderr
