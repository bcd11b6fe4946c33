"""The feedback a student reads: the checks' page, the checks in nbgrader's notebooks.

Fast tests on a made-up result over the real homework's layout and source notebooks;
``test_instructor_week.py`` runs the same through ``edu grade`` and nbgrader.
"""

import json
import re
from pathlib import Path

import nbformat

from edu.grading import CheckResult, SubmissionResult, feedback_html, read_outline
from edu.grading._notebook_feedback import NOTES_CELL_ID, with_check_results

SOURCE = Path(__file__).resolve().parents[2] / "solutions" / "homework"


def _result(layout, **changes) -> SubmissionResult:
    """Every autograded cell full marks, but soft_threshold's check failed."""
    scores = dict(layout.autograded)
    scores["test_soft_threshold"] = 0.0
    checks = (
        CheckResult("test_gradient", "test_gradient_values", "gradient on random X, y, w", 4, 4),
        CheckResult(
            "test_soft_threshold",
            "test_soft_threshold_values",
            "soft_threshold on random vectors",
            0,
            4,
            "soft_threshold(v, 0.1): expected [0.2] got [0.3] <b>",
            "failed",
        ),
    )
    values = dict(
        student="alice",
        assignment="homework",
        digest="0",
        scores=scores,
        max_scores=dict(layout.autograded),
        checks=checks,
        problems=(
            "lab1_sparse_regression.ipynb: cell 4 (`test_soft_threshold`) ran past the cell "
            "time limit",
        ),
        notebooks={},
        timestamp="2026-11-20 17:45:00 UTC",
    )
    return SubmissionResult(**{**values, **changes})


def test_is_the_outline_in_homework_order(layout):
    """Are notebooks ordered part0, lab1, lab2, lab3, and exercises in cell order with
    their headings, manual cells included?"""
    outline = read_outline(layout, SOURCE)
    assert [n.name for n in outline.notebooks] == [
        "part0_true_false",
        "lab1_sparse_regression",
        "lab2_pruning",
        "lab3_quantization",
    ]
    lab1 = outline.notebooks[1]
    assert lab1.title == "Lab 1: sparse optimization of a linear model"
    assert [e.title for e in lab1.exercises][:2] == [
        "(a) The gradient descent update",
        "(c) Projected gradient descent",
    ]
    assert lab1.exercises[-1].grade_ids == ("lab1_discussion",)
    lab3 = outline.notebooks[3]
    assert lab3.exercises[0].grade_ids == (
        "test_ste_asymmetric",
        "test_ste_symmetric",
        "test_ste_gradient",
    )


def test_does_a_missing_source_keep_every_cell(layout, tmp_path):
    """Without source notebooks, is every graded cell still listed, under its notebook?"""
    outline = read_outline(layout, tmp_path)
    listed = {g for n in outline.notebooks for e in n.exercises for g in e.grade_ids}
    assert set(layout.autograded) <= listed


def test_is_the_page_grouped_with_points_and_messages(layout):
    """Does the page give each notebook and exercise its points, in homework order, and
    quote the failed check's message, escaped?"""
    page = feedback_html(_result(layout), read_outline(layout, SOURCE))
    assert 'name="viewport"' in page
    assert "<b>65 / 69</b>" in page
    order = [page.index(f"id='{name}'") for name in ("part0_true_false", "lab1_sparse_regression")]
    assert order == sorted(order)
    lab1 = page[page.index("id='lab1_sparse_regression'") :]
    assert re.search(r"Lab 1: sparse optimization of a linear model</span>.*?16 / 20", lab1)
    assert re.search(r"\(e\) Proximal gradient descent \(ISTA\)</span>.*?0 / 4", lab1)
    assert "expected [0.2] got [0.3] &lt;b&gt;" in page
    assert "wrong result" in page
    assert "<code>lab1_discussion</code><span>graded by hand, 5 points</span>" in page
    assert "cell 4 (`test_soft_threshold`) ran past the cell time limit" in page


def test_do_test_cells_show_their_checks_in_the_notebook(layout):
    """Does each autograded test cell of the notebook nbgrader renders get its checks'
    results as one more output, and the notebook's notes a cell at the top?"""
    source = nbformat.read(SOURCE / "lab1_sparse_regression.ipynb", as_version=4)
    text = with_check_results(nbformat.writes(source), "lab1_sparse_regression", _result(layout))
    notebook = nbformat.reads(text, as_version=4)
    nbformat.validate(notebook)
    assert notebook.cells[0].id == NOTES_CELL_ID
    assert "cell time limit" in notebook.cells[0].source
    cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in notebook.cells}
    shown = cells["test_soft_threshold"].outputs[-1].data
    assert shown["text/plain"].startswith("Hidden checks: 0/4")
    assert "expected [0.2] got [0.3] &lt;b&gt;" in shown["text/html"]
    assert "Hidden checks: 4/4" in cells["test_gradient"].outputs[-1].data["text/plain"]
    assert not cells["gradient"].get("outputs")
    assert json.loads(text)["nbformat"] == 4
