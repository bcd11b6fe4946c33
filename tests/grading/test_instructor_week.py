"""nbgrader's own workflow on a course graded by ``edu grade``: the instructor's week.

One course, two students as ``nbgrader collect`` leaves them (``timestamp.txt``,
``submission_secret.txt``): the solution, submitted two hours after the due date, and
the untouched stub, on time. The course charges :class:`edu.grading.DailyLatePenalty`.
In order, as an instructor would: ``edu grade``; a written answer graded and commented
by hand (through nbgrader's gradebook API, as formgrader does); ``edu grade --force``
for the solution; ``nbgrader generate_feedback``, ``release_feedback`` and ``export``,
the real commands. The tests then read what each left behind.
"""

import csv
import datetime
import subprocess
import sys
from pathlib import Path

import pytest
from nbgrader.api import Gradebook
from nbgrader.utils import notebook_hash

from edu.grading import grade_course

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")]

DUE = datetime.datetime(2026, 11, 20, 18, 0, 0)
TIMESTAMPS = {"solution": "2026-11-20 20:00:00 UTC", "stub": "2026-11-20 17:00:00 UTC"}
MANUAL = ("why_1_1", "part0_true_false")
CONFIG = """
c = get_config()
c.CourseDirectory.course_id = "week"
c.Exchange.root = {exchange!r}
c.AssignLatePenalties.plugin_class = "edu.grading.DailyLatePenalty"
c.DailyLatePenalty.fraction_per_day = 0.25
"""


def _nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    command = [str(Path(sys.executable).with_name("nbgrader")), *args]
    completed = subprocess.run(
        command, cwd=course, capture_output=True, text=True, timeout=600, check=False
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed


def _manual_grade(course: Path) -> None:
    """Grade and comment a written answer of the solution, as formgrader does."""
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        grade = gradebook.find_grade(*MANUAL, "homework", "solution")
        grade.manual_score = 1.5
        grade.needs_manual_grade = False
        comment = gradebook.find_comment(*MANUAL, "homework", "solution")
        comment.manual_comment = "Right idea; say why the push does not shrink."
        gradebook.db.commit()


@pytest.fixture(scope="module")
def week(tmp_path_factory, repo, solution_notebooks, bad_submissions):
    """The course after the whole week (module docstring), and what each step returned."""
    import os

    data = str(bad_submissions._synthetic_cifar10(tmp_path_factory.mktemp("cifar10")))
    os.environ.setdefault("EDU_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    course = tmp_path_factory.mktemp("course")
    exchange = tmp_path_factory.mktemp("exchange")
    bad_submissions.make_course(course, repo, solution_notebooks, list(TIMESTAMPS))
    (course / "nbgrader_config.py").write_text(CONFIG.format(exchange=str(exchange)))
    for student, timestamp in TIMESTAMPS.items():
        folder = course / "submitted" / student / "homework"
        (folder / "timestamp.txt").write_text(timestamp)
        (folder / "submission_secret.txt").write_text(f"secret-of-{student}")
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        gradebook.update_or_create_assignment("homework", duedate=DUE)
    options = dict(limits=bad_submissions.LIMITS, data_root=data, progress=False, stream=None)
    first = grade_course(course, "homework", **options)
    _manual_grade(course)
    regraded = grade_course(course, "homework", students=["solution"], force=True, **options)
    steps = {
        "generate": _nbgrader(course, "generate_feedback", "homework"),
        "release": _nbgrader(course, "release_feedback", "homework"),
        "export": _nbgrader(course, "export", "--to", "export.csv"),
    }
    return course, exchange, first, regraded, steps


def test_does_a_forced_regrade_keep_a_hand_grade_out_of_the_queue(week):
    """After a cell is graded by hand, does ``edu grade --force`` keep its score and
    leave it out of formgrader's queue, while ungraded answers stay in it?"""
    course, _, _, regraded, _ = week
    assert regraded.graded == ("solution",)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        grade = gradebook.find_grade(*MANUAL, "homework", "solution")
        assert grade.manual_score == 1.5
        assert not grade.needs_manual_grade
        other = gradebook.find_grade("why_1_2", "part0_true_false", "homework", "solution")
        assert other.needs_manual_grade
        comment = gradebook.find_comment(*MANUAL, "homework", "solution")
        assert comment.comment.startswith("Right idea")


def test_does_generate_feedback_give_checks_and_hand_grades(week):
    """Does ``nbgrader generate_feedback`` (no ``--force``) write one page per notebook
    with the hidden checks' messages and the hand grade and comment, and leave the
    checks' page alone?"""
    course, _, first, _, steps = week
    assert "Skipping existing" not in steps["generate"].stdout + steps["generate"].stderr
    folder = course / "feedback" / "stub" / "homework"
    pages = sorted(p.name for p in folder.glob("*.html"))
    assert pages == [
        "lab1_sparse_regression.html",
        "lab2_pruning.html",
        "lab3_quantization.html",
        "part0_true_false.html",
    ]
    lab1 = (folder / "lab1_sparse_regression.html").read_text()
    assert "Hidden checks: 0/4" in lab1
    assert "your code raised an error" in lab1
    part0 = (course / "feedback" / "solution" / "homework" / "part0_true_false.html").read_text()
    assert "Right idea; say why the push does not shrink." in part0
    assert "Hidden checks: 1/1" in part0
    checks_page = first.feedback["stub"]
    assert checks_page.is_file()
    assert "feedback" not in checks_page.relative_to(course).parts[:1]
    assert "NotImplementedError" in checks_page.read_text()


def test_does_release_feedback_put_each_page_where_the_student_fetches_it(week):
    """Is each notebook's page in the exchange under nbgrader's hash of the student's
    secret and the notebook, as ``fetch_feedback`` looks for it?"""
    _, exchange, _, _, _ = week
    released = exchange / "week" / "feedback"
    for student in TIMESTAMPS:
        name = notebook_hash(secret=f"secret-of-{student}", notebook_id="lab2_pruning")
        assert "Hidden checks" in (released / f"{name}.html").read_text()


def test_are_lateness_and_the_penalty_in_grades_csv_the_table_and_export(week):
    """Is the solution two hours late, charged 25 % of its score, in the table,
    ``grades.csv`` (with a row of maxima and no final grade while hand grading is
    pending) and ``nbgrader export`` alike; the stub on time and charged nothing?"""
    course, _, _, regraded, _ = week
    late = regraded.lateness["solution"]
    assert late.seconds == 7200
    assert regraded.lateness["stub"].seconds == 0
    header = regraded.table.splitlines()[0]
    assert "late penalty" in header
    assert "2 h" in regraded.table
    with (course / "grades.csv").open() as file:
        rows = {row["student"]: row for row in csv.DictReader(file)}
    maxima = rows["(max)"]
    assert maxima["test_gradient"] == "4"
    assert maxima["autograded"] == "69"
    solution = rows["solution"]
    assert solution["timestamp"] == TIMESTAMPS["solution"]
    assert solution["seconds_late"] == "7200"
    total = float(solution["total"])
    assert float(solution["late_penalty"]) == pytest.approx(0.25 * total)
    assert solution["final"] == ""  # written answers still to grade
    assert int(solution["manual_pending"]) > 0
    assert rows["stub"]["late_penalty"] == "0"
    with (course / "export.csv").open() as file:
        exported = {row["student_id"]: row for row in csv.DictReader(file)}
    assert float(exported["solution"]["raw_score"]) == pytest.approx(total)
    assert float(exported["solution"]["late_submission_penalty"]) == pytest.approx(0.25 * total)
    assert float(exported["solution"]["score"]) == pytest.approx(0.75 * total)
    assert float(exported["stub"]["late_submission_penalty"]) == 0
