"""Late submissions: nbgrader's due date and timestamps, the course's penalty plugin."""

import datetime

import pytest
from nbgrader.api import Gradebook
from traitlets.config import Config

from edu.grading import DailyLatePenalty, assign_late_penalties
from edu.grading._assignment import put_tools_on_path
from edu.grading._late import describe_lateness

DUE = datetime.datetime(2026, 11, 20, 18, 0, 0)

pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")  # nbgrader's own


@pytest.fixture
def gradebook(tmp_path):
    """A gradebook of one assignment due at DUE with one 10-point cell, three students
    submitting on time, 2 hours late and 3 days late, each with 8 points."""
    put_tools_on_path()
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(url) as gb:
        gb.add_assignment("hw", duedate=DUE)
        gb.add_notebook("nb", "hw")
        gb.add_grade_cell("q", "nb", "hw", max_score=10, cell_type="code")
        for student, late in (("ontime", -60), ("hours", 2 * 3600), ("days", 3 * 86400 - 1)):
            gb.add_student(student)
            gb.add_submission("hw", student, timestamp=DUE + datetime.timedelta(seconds=late))
            grade = gb.find_grade("q", "nb", "hw", student)
            grade.auto_score = 8.0
            grade.needs_manual_grade = False
        gb.db.commit()
    return url


def _config(**options) -> Config:
    config = Config()
    for key, value in options.items():
        section, name = key.split("__")
        setattr(getattr(config, section), name, value)
    return config


def test_is_there_no_penalty_by_default(gradebook):
    """With nbgrader's default plugin, is lateness measured but nothing taken off?"""
    found = assign_late_penalties(gradebook, "hw", ["ontime", "hours", "days"], Config())
    assert found["ontime"].seconds == 0
    assert found["hours"].seconds == 7200
    assert all(status.penalty == 0 for status in found.values())


def test_does_the_daily_penalty_count_started_days(gradebook):
    """Does DailyLatePenalty at 0.1 take 10 % for 2 hours and 30 % for 3 days less a
    second, and store it per notebook where nbgrader reads it?"""
    config = _config(
        AssignLatePenalties__plugin_class="edu.grading.DailyLatePenalty",
        DailyLatePenalty__fraction_per_day=0.1,
    )
    found = assign_late_penalties(gradebook, "hw", ["ontime", "hours", "days"], config)
    assert found["ontime"].penalty == 0
    assert found["hours"].penalty == pytest.approx(0.8)
    assert found["days"].penalty == pytest.approx(2.4)
    with Gradebook(gradebook) as gb:
        notebook = gb.find_submission_notebook("nb", "hw", "days")
        assert notebook.late_submission_penalty == pytest.approx(2.4)
        assert gb.find_submission_notebook("nb", "hw", "ontime").late_submission_penalty is None


def test_does_nbgraders_zero_method_take_everything(gradebook):
    """Is nbgrader's own plugin honoured: ``penalty_method = "zero"``?"""
    config = _config(LateSubmissionPlugin__penalty_method="zero")
    found = assign_late_penalties(gradebook, "hw", ["hours"], config)
    assert found["hours"].penalty == 8


def test_is_the_penalty_capped_at_the_score():
    """Does the daily fraction stop at the whole score?"""
    plugin = DailyLatePenalty(fraction_per_day=0.3)
    assert plugin.late_submission_penalty("s", 10.0, 10 * 86400) == 10.0
    assert plugin.late_submission_penalty("s", 10.0, 1.0) == pytest.approx(3.0)


def test_is_lateness_written_for_people():
    """Is lateness written in days, hours and minutes, and nothing when on time?"""
    assert describe_lateness(0) == ""
    assert describe_lateness(90) == "2 min"
    assert describe_lateness(7200) == "2 h"
    assert describe_lateness(86400 + 3 * 3600 + 5) == "1 d 3 h"
