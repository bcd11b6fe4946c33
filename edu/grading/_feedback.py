"""The checks' feedback page of one submission: every exercise, its points, every check.

One self-contained HTML page per student, grouped by notebook and exercise in homework
order (:mod:`edu.grading._outline`), with the points of each notebook, exercise and
cell, and under each autograded cell its checks: what each verifies, and for a failed
one what was expected and what came back on which input. It is laid out in one
column, so it reads on a phone. :func:`checks_html` is the list of one cell's checks,
also shown under the cell in nbgrader's own feedback
(:mod:`edu.grading._notebook_feedback`).
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from edu.grading._checks import CheckResult
from edu.grading._outline import Outline
from edu.grading._pipeline import SubmissionResult

__all__ = ["KIND_WORDS", "checks_html", "feedback_html", "points"]

KIND_WORDS = {
    "failed": "wrong result",
    "error": "your code raised an error",
    "limit": "limit reached",
    "reference": "uses edu's reference",
    "grader-error": "grader error (tell your instructor)",
}
"""How the page names why a check failed (:attr:`CheckResult.kind`)."""

_STYLE = """
body { font-family: sans-serif; line-height: 1.4; max-width: 46em; margin: 0 auto;
       padding: 0.8em; overflow-wrap: anywhere; }
h1 { font-size: 1.4em; } h2 { font-size: 1.2em; margin-top: 1.6em; }
h3 { font-size: 1.05em; margin: 1.2em 0 0.3em; }
h2, h3, p.cell { display: flex; justify-content: space-between; gap: 0.6em; }
.pts { white-space: nowrap; font-weight: bold; }
p.cell { margin: 0.4em 0 0.2em; border-top: 1px solid #ddd; padding-top: 0.3em; }
ul { padding-left: 1.2em; margin: 0.2em 0; } li { margin: 0.3em 0; }
li.pass { color: #226622; } li.fail { color: #992222; }
code, pre { white-space: pre-wrap; font-size: 0.9em; }
pre { background: #f6f6f6; color: #222; padding: 0.4em; margin: 0.2em 0; overflow-x: auto; }
nav li { display: flex; justify-content: space-between; gap: 0.6em; }
.manual { color: #555; }
"""


def points(value: float) -> str:
    """A score as people write it: ``4``, ``2.5``."""
    return f"{value:g}"


def checks_html(checks: Sequence[CheckResult]) -> str:
    """An HTML list of checks: points, what each verifies, and why a failed one failed."""
    items = []
    for check in checks:
        line = (
            f"<b>{points(check.points)}/{points(check.max_points)}</b> "
            f"{html.escape(check.description)}"
        )
        if not check.passed:
            why = html.escape(KIND_WORDS.get(check.kind, check.kind))
            line += f"<br><i>{why}:</i><pre>{html.escape(check.message)}</pre>"
        items.append(f"<li class='{'pass' if check.passed else 'fail'}'>{line}</li>")
    return f"<ul>{''.join(items)}</ul>"


def _score(got: float, available: float) -> str:
    return f"<span class='pts'>{points(got)} / {points(available)}</span>"


def feedback_html(result: SubmissionResult, outline: Outline) -> str:
    """The feedback page of ``result`` (module docstring).

    Parameters
    ----------
    result : SubmissionResult
        The graded submission.
    outline : Outline
        The homework's notebooks, exercises and graded cells, in order
        (:func:`edu.grading._outline.read_outline`); a cell that is not autograded is
        listed as graded by hand, with its points.

    Returns
    -------
    str
        A complete HTML document.
    """
    by_cell: dict[str, list[CheckResult]] = {}
    for check in result.checks:
        by_cell.setdefault(check.grade_id, []).append(check)
    contents, sections, by_hand = [], [], False
    for notebook in outline.notebooks:
        auto = [g for e in notebook.exercises for g in e.grade_ids if g in result.max_scores]
        got = sum(result.scores.get(g, 0.0) for g in auto)
        available = sum(result.max_scores[g] for g in auto)
        title = html.escape(notebook.title)
        anchor = html.escape(notebook.name, quote=True)
        contents.append(f"<li><a href='#{anchor}'>{title}</a>{_score(got, available)}</li>")
        body = [f"<section id='{anchor}'><h2><span>{title}</span>{_score(got, available)}</h2>"]
        for exercise in notebook.exercises:
            cells = [g for g in exercise.grade_ids if g in result.max_scores]
            heading = f"<span>{html.escape(exercise.title)}</span>"
            if cells:
                heading += _score(
                    sum(result.scores.get(g, 0.0) for g in cells),
                    sum(result.max_scores[g] for g in cells),
                )
            body.append(f"<h3>{heading}</h3>")
            for grade_id in exercise.grade_ids:
                name = f"<code>{html.escape(grade_id)}</code>"
                if grade_id in result.max_scores:
                    score = _score(result.scores.get(grade_id, 0.0), result.max_scores[grade_id])
                    body.append(f"<p class='cell'>{name}{score}</p>")
                    body.append(checks_html(by_cell.get(grade_id, [])))
                else:
                    worth = outline.points.get(grade_id, 0.0)
                    label = (
                        f"<span>graded by hand, {points(worth)} point{'s' * (worth != 1)}</span>"
                    )
                    body.append(f"<p class='cell manual'>{name}{label}</p>")
                    by_hand = True
        sections.append("".join(body) + "</section>")
    problems = "".join(f"<li>{html.escape(p)}</li>" for p in result.problems)
    problems_block = f"<h2>About your submission</h2><ul>{problems}</ul>" if problems else ""
    submitted = f"<p>Submitted {html.escape(result.timestamp)}.</p>" if result.timestamp else ""
    title = f"{html.escape(result.assignment)}: {html.escape(result.student)}"
    total = f"{points(result.score)} / {points(result.max_score)}"
    manual = " Written answers are graded by hand and are not included." if by_hand else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{_STYLE}</style></head><body>
<h1>{title}</h1>
<p>Automatically graded: <b>{total}</b> points.{manual}</p>
{submitted}<nav><h2>Notebooks</h2><ul>{"".join(contents)}</ul></nav>
{problems_block}
{"".join(sections)}
</body></html>
"""
