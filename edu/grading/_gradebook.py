"""Recording a graded submission in the course's nbgrader gradebook.

The hidden checks' score of a test cell is written over the auto score nbgrader
gives that cell (same grade id); manually graded cells keep nbgrader's verdict
(``needs_manual_grade``) and any manual score the instructor already gave; the cells
of a notebook that was missing, rejected or could not run score 0, as nbgrader scores
a missing notebook. Only the grading process calls this, one submission at a time.
"""

from __future__ import annotations

import warnings

import sqlalchemy.exc
from nbgrader.api import Gradebook
from nbgrader.utils import parse_utc

from edu.grading._pipeline import SubmissionResult

__all__ = ["record_in_gradebook"]


def _timestamp(text: str):
    """The submission time of ``timestamp.txt``, or None when it cannot be read as one.

    The file is in the submission folder, so it is the student's to break.
    """
    try:
        return parse_utc(text)
    except (ValueError, TypeError, OverflowError):
        return None


def record_in_gradebook(db_url: str, result: SubmissionResult) -> None:
    """Write ``result``'s scores and nbgrader's comments into the gradebook at ``db_url``."""
    with warnings.catch_warnings(), Gradebook(db_url) as gradebook:
        # nbgrader's own session handling warns on every new submission (SAWarning)
        warnings.simplefilter("ignore", sqlalchemy.exc.SAWarning)
        gradebook.update_or_create_student(result.student)
        when = _timestamp(result.timestamp) if result.timestamp else None
        extra = {"timestamp": when} if when is not None else {}
        submission = gradebook.update_or_create_submission(
            result.assignment, result.student, **extra
        )
        for notebook in submission.notebooks:
            outcome = result.notebooks.get(notebook.name)
            graded = outcome.grades if outcome is not None else {}
            for grade in notebook.grades:
                if grade.name in result.scores:
                    grade.auto_score = result.scores[grade.name]
                    grade.needs_manual_grade = False
                elif grade.name in graded:
                    grade.auto_score = graded[grade.name]["auto_score"]
                    grade.needs_manual_grade = graded[grade.name]["needs_manual_grade"]
                else:
                    grade.auto_score = 0.0
                    grade.needs_manual_grade = False
            comments = outcome.comments if outcome is not None else {}
            for comment in notebook.comments:
                comment.auto_comment = comments.get(comment.name)
        gradebook.db.commit()
