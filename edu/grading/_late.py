"""Late submissions: nbgrader's timestamps and due date, the course's late penalty.

A submission is late by nbgrader's own measure, ``Submission.total_seconds_late``: its
``timestamp.txt`` (what ``nbgrader submit`` and ``collect`` write) against the
assignment's due date in the gradebook (``nbgrader db assignment add --duedate`` or
formgrader). The penalty is computed as nbgrader's ``AssignLatePenalties`` step
computes it, with the plugin the course configures
(``c.AssignLatePenalties.plugin_class`` in ``nbgrader_config.py``; nbgrader's default
gives none), but on the scores that count: the hidden checks' and, once given, the
manual grades. It is stored per notebook in the gradebook
(``late_submission_penalty``), where nbgrader's feedback, formgrader and
``nbgrader export`` read it. :class:`DailyLatePenalty` is a plugin a course can choose:
a fraction of the score per day late.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins import BasePlugin
from nbgrader.preprocessors import AssignLatePenalties
from traitlets import Float
from traitlets.config import Config

__all__ = ["DailyLatePenalty", "Lateness", "assign_late_penalties", "describe_lateness"]

_DAY_S = 86400


class DailyLatePenalty(BasePlugin):
    """A late penalty of ``fraction_per_day`` of the score for every day or part of a day late.

    Chosen in ``nbgrader_config.py``::

        c.AssignLatePenalties.plugin_class = "edu.grading.DailyLatePenalty"
        c.DailyLatePenalty.fraction_per_day = 0.1

    Notes
    -----
    penalty = score * min(1, fraction_per_day * ceil(seconds late / 86400)): one second
    late costs a day's fraction, ten days at 0.1 cost everything.
    """

    fraction_per_day = Float(
        0.1, min=0.0, max=1.0, help="Fraction of the score taken per day (or part of one) late."
    ).tag(config=True)

    def late_submission_penalty(
        self, student_id: str, score: float, total_seconds_late: float
    ) -> float:
        """The points taken from ``score`` for a submission ``total_seconds_late`` late."""
        days = math.ceil(total_seconds_late / _DAY_S)
        return score * min(1.0, self.fraction_per_day * days)


@dataclass(frozen=True)
class Lateness:
    """How late a submission is and what it costs.

    Attributes
    ----------
    seconds : float
        Seconds after the due date (0 when on time or when there is no due date).
    penalty : float
        Points taken off the gradebook's total.
    """

    seconds: float
    penalty: float


def describe_lateness(seconds: float) -> str:
    """``""`` when on time, else how late in days, hours and minutes: ``"1 d 2 h"``."""
    if seconds <= 0:
        return ""
    minutes = math.ceil(seconds / 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{days} d"] if days else []
    parts += [f"{hours} h"] if hours else []
    parts += [f"{minutes} min"] if minutes and not days else []
    return " ".join(parts)


def assign_late_penalties(
    db_url: str, assignment: str, students: Iterable[str], config: Config
) -> dict[str, Lateness]:
    """Recompute and store every listed student's late penalty; return their lateness.

    Parameters
    ----------
    db_url : str
        The gradebook.
    assignment : str
        The assignment id.
    students : iterable of str
        Whose submissions (those the gradebook lacks are left out of the result).
    config : traitlets.config.Config
        The course's configuration: its ``AssignLatePenalties.plugin_class`` and that
        plugin's options.

    Returns
    -------
    dict of str to Lateness
    """
    step = AssignLatePenalties(config=config)
    step.init_plugin()
    found = {}
    with Gradebook(db_url) as gradebook:
        for student in students:
            try:
                submission = gradebook.find_submission(assignment, student)
            except MissingEntry:
                continue
            seconds = float(submission.total_seconds_late or 0.0)
            total = 0.0
            for notebook in submission.notebooks:
                penalty = None
                if seconds > 0:
                    penalty = step.plugin_inst.late_submission_penalty(
                        student, notebook.score, seconds
                    )
                if penalty is not None:  # as nbgrader: never below 0 or above the score
                    penalty = min(max(float(penalty), 0.0), float(notebook.score))
                    total += penalty
                notebook.late_submission_penalty = penalty
            gradebook.db.commit()
            found[student] = Lateness(seconds, total)
    return found
