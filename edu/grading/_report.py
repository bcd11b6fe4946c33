"""What a grading run writes for the instructor: ``grades.csv`` and the summary table.

Everything here depends only on the results and the gradebook, never on timings or
the order in which submissions finished, so that grading with ``--jobs 1`` and
``--jobs N`` writes the same files byte for byte. The students' pages are
:mod:`edu.grading._feedback`'s.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from nbgrader.api import Gradebook, MissingEntry

from edu.grading._assignment import AssignmentLayout
from edu.grading._feedback import points
from edu.grading._late import Lateness, describe_lateness
from edu.grading._pipeline import SubmissionResult

__all__ = ["MAX_ROW", "grades_csv", "summary_table"]

MAX_ROW = "(max)"
"""The ``student`` of the row of ``grades.csv`` that holds every column's maximum."""


@dataclass(frozen=True)
class _Recorded:
    """What the gradebook holds of one submission, as ``grades.csv`` writes it."""

    timestamp: str = ""
    total: str = ""
    max_score: str = ""
    pending: str = ""
    seconds_late: str = ""
    penalty: str = ""
    final: str = ""


def _recorded(gradebook: Gradebook, result: SubmissionResult) -> _Recorded:
    try:
        submission = gradebook.find_submission(result.assignment, result.student)
    except MissingEntry:
        return _Recorded()
    pending = sum(grade.needs_manual_grade for nb in submission.notebooks for grade in nb.grades)
    penalty = sum(nb.late_submission_penalty or 0.0 for nb in submission.notebooks)
    timestamp = submission.timestamp
    return _Recorded(
        timestamp=f"{timestamp:%Y-%m-%d %H:%M:%S} UTC" if timestamp else "",
        total=points(submission.score),
        max_score=points(submission.max_score),
        pending=str(pending),
        seconds_late=points(round(submission.total_seconds_late or 0.0)),
        penalty=points(penalty),
        final="" if pending else points(submission.score - penalty),
    )


def grades_csv(db_url: str, results: Iterable[SubmissionResult]) -> str:
    """The grade table as CSV: per assignment, a row of maxima, then one row per student.

    Columns: ``student``, ``assignment``, ``timestamp`` (the submission's, UTC, as the
    gradebook has it), every autograded cell's score, the ``autograded`` total, the
    gradebook's ``total`` (manual grades included once given), ``manual_pending`` (cells
    still to grade by hand), ``seconds_late`` (after the due date), ``late_penalty``
    (points, :mod:`edu.grading._late`), ``final`` (``total`` minus the penalty; empty
    while manual grades are pending) and ``problems`` (how many were found with the
    submission). Each assignment's rows (in name order) start with a row whose
    ``student`` is :data:`MAX_ROW`, holding each of its score columns' maximum; a cell
    of another assignment is left empty.
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
            "timestamp",
            *columns,
            "autograded",
            "total",
            "manual_pending",
            "seconds_late",
            "late_penalty",
            "final",
            "problems",
        ]
    )
    with Gradebook(db_url) as gradebook:
        rows = [(result, _recorded(gradebook, result)) for result in results]
    for assignment, group in itertools.groupby(rows, key=lambda row: row[0].assignment):
        group = list(group)
        maxima: dict[str, float] = {}
        for result, _ in group:
            maxima.update(result.max_scores)
        top = group[0][1].max_score
        writer.writerow(
            [
                MAX_ROW,
                assignment,
                "",
                *(points(maxima[c]) if c in maxima else "" for c in columns),
                points(sum(maxima.values())),
                top,
                *("", "", ""),  # nothing pending, late or taken off
                top,
                "",
            ]
        )
        for result, recorded in group:
            scores = [points(result.scores[c]) if c in result.scores else "" for c in columns]
            writer.writerow(
                [
                    result.student,
                    result.assignment,
                    recorded.timestamp,
                    *scores,
                    points(result.score),
                    recorded.total,
                    recorded.pending,
                    recorded.seconds_late,
                    recorded.penalty,
                    recorded.final,
                    len(result.problems),
                ]
            )
    return buffer.getvalue()


def summary_table(
    results: Iterable[SubmissionResult],
    layout: AssignmentLayout,
    lateness: Mapping[str, Lateness] | None = None,
) -> str:
    """A text table: per student, the autograded points of each notebook and the total.

    When a submission in ``lateness`` is late, two more columns say how late each is
    and the penalty it costs (points off the gradebook's total).
    """
    results = sorted(results, key=lambda r: r.student)
    lateness = lateness or {}
    late = any(status.seconds > 0 for status in lateness.values())
    notebooks = [notebook.name for notebook in layout.notebooks]
    owner = {cell.grade_id: nb.name for nb in layout.notebooks for cell in nb.cells}
    header = ["student", *notebooks, "total", "failed checks", "problems"]
    header += ["late", "late penalty"] if late else []
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
                *(f"{points(per_notebook[n])}/{points(per_max[n])}" for n in notebooks),
                f"{points(result.score)}/{points(result.max_score)}",
                f"{failed}" + (f" ({', '.join(kinds)})" if kinds else ""),
                str(len(result.problems)),
            ]
        )
        if late:
            status = lateness.get(result.student, Lateness(0.0, 0.0))
            on_time = status.seconds <= 0
            rows[-1] += (
                ["-", "-"]
                if on_time
                else [
                    describe_lateness(status.seconds),
                    f"-{points(status.penalty)}",
                ]
            )
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]
    lines = [
        "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [header, ["-" * w for w in widths], *rows]
    ]
    return "\n".join(lines)
