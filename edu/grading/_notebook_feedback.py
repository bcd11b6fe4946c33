"""The hidden checks' results written into the autograded notebooks, for nbgrader's feedback.

nbgrader's ``generate_feedback`` renders ``autograded/<student>/<assignment>/*.ipynb``
with the scores of the gradebook, and formgrader shows the same notebooks. The scores
of the test cells are the hidden checks' (:mod:`edu.grading._gradebook`); so that their
messages travel with them, every autograded test cell gets one more output after its
own: its checks, with points and, for each failed one, what was expected and what came
back (:func:`edu.grading._feedback.checks_html`). What grading found wrong with a
notebook as a whole (a duplicated cell, a cell stopped at the time limit) is a
markdown cell at its top. ``generate_feedback`` and ``release_feedback`` then give the
student one complete page per notebook: the manual grades and comments, the scores,
and the checks' messages.
"""

from __future__ import annotations

import html

import nbformat

from edu.grading._feedback import KIND_WORDS, checks_html, points
from edu.grading._pipeline import SubmissionResult

__all__ = ["NOTES_CELL_ID", "with_check_results"]

NOTES_CELL_ID = "edu-grading-notes"
"""The id of the markdown cell of grading notes (fixed, so the notebook is reproducible)."""


def _plain(checks) -> str:
    lines = []
    for check in checks:
        line = f"  {points(check.points)}/{points(check.max_points)} {check.description}"
        if not check.passed:
            line += f"\n      {KIND_WORDS.get(check.kind, check.kind)}: {check.message}"
        lines.append(line)
    return "\n".join(lines)


def with_check_results(notebook_text: str, name: str, result: SubmissionResult) -> str:
    """The autograded notebook ``name`` of ``result`` with its checks' results (module docstring).

    Parameters
    ----------
    notebook_text : str
        The notebook nbgrader autograded (JSON).
    name : str
        Its name, without ``.ipynb``.
    result : SubmissionResult
        The submission's grading result.

    Returns
    -------
    str
        The notebook as JSON, with one more output per autograded test cell.
    """
    notebook = nbformat.reads(notebook_text, as_version=4)
    by_cell: dict[str, list] = {}
    for check in result.checks:
        by_cell.setdefault(check.grade_id, []).append(check)
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.cell_type != "code" or grade_id not in result.max_scores:
            continue
        checks = by_cell.get(grade_id, [])
        score = f"{points(result.scores.get(grade_id, 0.0))}/{points(result.max_scores[grade_id])}"
        cell.outputs.append(
            nbformat.v4.new_output(
                "display_data",
                data={
                    "text/html": f"<div><b>Hidden checks: {score}</b>{checks_html(checks)}</div>",
                    "text/plain": f"Hidden checks: {score}\n{_plain(checks)}",
                },
            )
        )
    notes = [p for p in result.problems if p.startswith(f"{name}.ipynb")]
    if notes:
        items = "".join(f"<li>{html.escape(note)}</li>" for note in notes)
        cell = nbformat.v4.new_markdown_cell(
            f"<div><b>Notes from grading this notebook</b><ul>{items}</ul></div>"
        )
        if notebook.nbformat_minor >= 5:  # cell ids exist from nbformat 4.5
            cell.id = NOTES_CELL_ID
        else:
            del cell["id"]
        notebook.cells.insert(0, cell)
    return nbformat.writes(notebook)
