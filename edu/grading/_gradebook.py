"""Recording a graded submission in the course's nbgrader gradebook.

The hidden checks' score of a test cell is written over the auto score nbgrader
gives that cell (same grade id); the cells of a notebook that was missing, rejected or
could not run score 0, as nbgrader scores a missing notebook. A manually graded cell
keeps nbgrader's verdict (``needs_manual_grade``) and any manual score the instructor
already gave, with one difference from nbgrader's own ``autograde``: a cell graded by
hand whose answer did not change since the last grading (a regrade with ``--force``,
new checks, a resubmission that changed other cells) stays out of formgrader's queue;
nbgrader would put every hand-graded cell back in it. Only the grading process calls
this, one submission at a time.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import nbformat
import sqlalchemy.exc
from nbgrader.api import Gradebook
from nbgrader.utils import parse_utc

from edu.grading._pipeline import SubmissionResult

__all__ = ["answers", "parse_timestamp", "previous_answers", "record_in_gradebook"]


def parse_timestamp(text: str):
    """The submission time of ``timestamp.txt``, or None when it cannot be read as one.

    The file is in the submission folder, so it is the student's to break.
    """
    try:
        return parse_utc(text)
    except (ValueError, TypeError, OverflowError):
        return None


def answers(notebook_text: str | None) -> dict[str, str]:
    """The answer of every graded solution cell of an autograded notebook, by grade id."""
    if not notebook_text:
        return {}
    notebook = nbformat.reads(notebook_text, as_version=4)
    found = {}
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and meta.get("grade"):
            found[meta["grade_id"]] = cell.source
    return found


def previous_answers(folder: Path) -> dict[str, dict[str, str]]:
    """``{notebook: answers}`` of the autograded notebooks in ``folder`` (the last grading)."""
    if not folder.is_dir():
        return {}
    return {path.stem: answers(path.read_text()) for path in sorted(folder.glob("*.ipynb"))}


def record_in_gradebook(
    db_url: str, result: SubmissionResult, previous: dict[str, dict[str, str]] | None = None
) -> None:
    """Write ``result``'s scores and nbgrader's comments into the gradebook at ``db_url``.

    ``previous`` holds the answers that were graded last time (:func:`previous_answers`):
    a cell graded by hand whose answer is the same is not queued for grading again.
    """
    previous = previous or {}
    with warnings.catch_warnings(), Gradebook(db_url) as gradebook:
        # nbgrader's own session handling warns on every new submission (SAWarning)
        warnings.simplefilter("ignore", sqlalchemy.exc.SAWarning)
        gradebook.update_or_create_student(result.student)
        when = parse_timestamp(result.timestamp) if result.timestamp else None
        extra = {"timestamp": when} if when is not None else {}
        submission = gradebook.update_or_create_submission(
            result.assignment, result.student, **extra
        )
        for notebook in submission.notebooks:
            outcome = result.notebooks.get(notebook.name)
            graded = outcome.grades if outcome is not None else {}
            now = answers(outcome.notebook) if outcome is not None else {}
            before = previous.get(notebook.name, {})
            for grade in notebook.grades:
                if grade.name in result.scores:
                    grade.auto_score = result.scores[grade.name]
                    grade.needs_manual_grade = False
                elif grade.name in graded:
                    grade.auto_score = graded[grade.name]["auto_score"]
                    already_graded = (
                        grade.manual_score is not None
                        and grade.name in now
                        and before.get(grade.name) == now[grade.name]
                    )
                    grade.needs_manual_grade = (
                        graded[grade.name]["needs_manual_grade"] and not already_graded
                    )
                else:
                    grade.auto_score = 0.0
                    grade.needs_manual_grade = False
            comments = outcome.comments if outcome is not None else {}
            for comment in notebook.comments:
                comment.auto_comment = comments.get(comment.name)
        gradebook.db.commit()
