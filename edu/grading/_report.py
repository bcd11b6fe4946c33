"""What a grading run writes for people: feedback pages, ``grades.csv``, the summary table.

Everything here depends only on the results (and the gradebook's totals), never on
timings or the order in which submissions finished, so that grading with ``--jobs 1``
and ``--jobs N`` writes the same files byte for byte.
"""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Iterable

from nbgrader.api import Gradebook, MissingEntry

from edu.grading._assignment import AssignmentLayout
from edu.grading._pipeline import SubmissionResult

__all__ = ["feedback_html", "grades_csv", "summary_table"]

_KIND_WORDS = {
    "failed": "wrong result",
    "error": "your code raised an error",
    "limit": "limit reached",
    "reference": "uses edu's reference",
    "grader-error": "grader error (tell your instructor)",
}


def _points(value: float) -> str:
    return f"{value:g}"


def feedback_html(result: SubmissionResult) -> str:
    """A self-contained HTML page: every autograded cell, its score, every failed check.

    The page names each check by what it verifies (its docstring's first line) and
    quotes the check's message: what was expected and what came back on which input.
    """
    rows = []
    for grade_id, max_score in result.max_scores.items():
        score = result.scores.get(grade_id, 0.0)
        checks = [c for c in result.checks if c.grade_id == grade_id]
        items = "".join(
            f"<li class='{'pass' if c.passed else 'fail'}'>"
            f"<b>{_points(c.points)}/{_points(c.max_points)}</b> {html.escape(c.description)}"
            + (
                ""
                if c.passed
                else f"<br><i>{html.escape(_KIND_WORDS.get(c.kind, c.kind))}:</i> "
                f"<code>{html.escape(c.message)}</code>"
            )
            + "</li>"
            for c in checks
        )
        rows.append(
            f"<tr><td><code>{html.escape(grade_id)}</code></td>"
            f"<td>{_points(score)} / {_points(max_score)}</td><td><ul>{items}</ul></td></tr>"
        )
    problems = "".join(f"<li>{html.escape(p)}</li>" for p in result.problems)
    problems_block = f"<h2>About your submission</h2><ul>{problems}</ul>" if problems else ""
    title = f"{html.escape(result.assignment)}: {html.escape(result.student)}"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: sans-serif; max-width: 60em; margin: 2em auto; }}
table {{ border-collapse: collapse; width: 100%; }}
td {{ border-top: 1px solid #ccc; padding: 0.4em; vertical-align: top; }}
li.pass {{ color: #226622; }} li.fail {{ color: #992222; }}
code {{ white-space: pre-wrap; }}
</style></head><body>
<h1>{title}</h1>
<p>Automatically graded: <b>{_points(result.score)} / {_points(result.max_score)}</b> points.
Written answers are graded by hand and are not included.</p>
{problems_block}
<h2>Automatically graded cells</h2>
<table>{"".join(rows)}</table>
</body></html>
"""


def _gradebook_totals(db_url: str, result: SubmissionResult) -> tuple[str, str, str]:
    """``(total score, max score, cells still to grade by hand)`` from the gradebook."""
    with Gradebook(db_url) as gradebook:
        try:
            submission = gradebook.find_submission(result.assignment, result.student)
        except MissingEntry:
            return "", "", ""
        pending = sum(
            grade.needs_manual_grade for nb in submission.notebooks for grade in nb.grades
        )
        return _points(submission.score), _points(submission.max_score), str(pending)


def grades_csv(db_url: str, results: Iterable[SubmissionResult]) -> str:
    """The grade table as CSV: one row per student and assignment.

    Columns: ``student``, ``assignment``, every autograded cell's score, the
    autograded total and maximum, the gradebook's total and maximum (manual grades
    included once given), how many cells still wait for manual grading, and the
    number of problems found with the submission.
    """
    results = sorted(results, key=lambda r: (r.assignment, r.student))
    columns: list[str] = []
    for result in results:
        columns += [g for g in result.max_scores if g not in columns]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        [
            "student",
            "assignment",
            *columns,
            "autograded",
            "autograded_max",
            "total",
            "max",
            "manual_pending",
            "problems",
        ]
    )
    for result in results:
        scores = [_points(result.scores[c]) if c in result.scores else "" for c in columns]
        writer.writerow(
            [
                result.student,
                result.assignment,
                *scores,
                _points(result.score),
                _points(result.max_score),
                *_gradebook_totals(db_url, result),
                len(result.problems),
            ]
        )
    return buffer.getvalue()


def summary_table(results: Iterable[SubmissionResult], layout: AssignmentLayout) -> str:
    """A text table: per student, the autograded points of each notebook and the total."""
    results = sorted(results, key=lambda r: r.student)
    notebooks = [notebook.name for notebook in layout.notebooks]
    owner = {cell.grade_id: nb.name for nb in layout.notebooks for cell in nb.cells}
    header = ["student", *notebooks, "total", "failed checks", "problems"]
    rows = []
    for result in results:
        per_notebook = dict.fromkeys(notebooks, 0.0)
        per_max = dict.fromkeys(notebooks, 0.0)
        for grade_id, max_score in result.max_scores.items():
            name = owner.get(grade_id)
            if name in per_notebook:
                per_notebook[name] += result.scores.get(grade_id, 0.0)
                per_max[name] += max_score
        kinds = sorted({c.kind for c in result.checks if not c.passed} - {"failed"})
        failed = sum(not c.passed for c in result.checks)
        rows.append(
            [
                result.student,
                *(f"{_points(per_notebook[n])}/{_points(per_max[n])}" for n in notebooks),
                f"{_points(result.score)}/{_points(result.max_score)}",
                f"{failed}" + (f" ({', '.join(kinds)})" if kinds else ""),
                str(len(result.problems)),
            ]
        )
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]
    lines = [
        "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [header, ["-" * w for w in widths], *rows]
    ]
    return "\n".join(lines)
