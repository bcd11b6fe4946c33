"""Grading the bonus assignment ``lab4`` as the homework is graded.

The hidden checks of ``grader/test_lab4.py`` run on submissions made from the student
release (``assignments/lab4``): the instructor's solution earns every point, the
untouched stub none, and a function that hands its work to ``edu`` (by importing it, or
by a name the static check cannot see) earns nothing while its neighbours keep theirs.
Then ``edu grade --course DIR --assignment lab4`` grades a course that holds both
assignments, and ``edu validate`` finds the lab4 release by itself.
"""

import copy
import shutil
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from edu.cli.main import main
from edu.demo._samples import solved
from edu.grading import (
    AssignmentLayout,
    Deadline,
    GradingContext,
    SubmissionResult,
    collect_checks,
    grades_csv,
    read_submission,
    run_check,
    select_checks,
)
from edu.grading._assignment import put_tools_on_path

REPO = Path(__file__).resolve().parents[2]
SOURCE = REPO / "solutions" / "lab4"
RELEASE = REPO / "assignments" / "lab4"
NOTEBOOK = "lab4_compression"
POINTS = {"test_channel_importance": 4, "test_remove_inner_channels": 6, "test_kmeans_quantize": 6}

HANDS_OVER = {
    "remove_inner_channels": (
        "import edu.prune\n"
        "def remove_inner_channels(net, keep):\n"
        "    return getattr(edu.prune, 'remove_' + 'channels')(net, keep)\n"
    ),
    "kmeans_quantize": (
        "from edu.compress import kmeans_quantize as _shared\n"
        "def kmeans_quantize(weight, bits):\n"
        "    return _shared(weight, bits)\n"
    ),
}
"""Two functions that call their reference: one by a computed name (refused when it
runs), one by an import (flagged by the static check); channel_importance is right."""

WRONG = {
    "channel_importance": (
        "def channel_importance(weight):\n    return weight.detach().abs().flatten(1).sum(dim=1)\n"
    ),
    "kmeans_quantize": (
        "def kmeans_quantize(weight, bits):\n"
        "    values = weight.detach().flatten().double()  # the zeros are clustered too\n"
        "    centroids = torch.linspace(float(values.min()), float(values.max()), 2**bits)\n"
        "    for _ in range(100):\n"
        "        labels = (values[:, None] - centroids.double()[None]).abs().argmin(dim=1)\n"
        "        for j in range(2**bits):\n"
        "            if (labels == j).any():\n"
        "                centroids[j] = values[labels == j].mean()\n"
        "    return centroids[labels].reshape(weight.shape).to(weight.dtype)\n"
    ),
}
"""Typical mistakes: the L1 norm for the L2 norm, zeros clustered with the weights."""


@pytest.fixture(scope="module")
def layout():
    return AssignmentLayout.from_notebooks(SOURCE)


@pytest.fixture(scope="module")
def checks(layout):
    return select_checks(collect_checks(REPO / "grader"), layout.autograded)


@pytest.fixture(scope="module")
def stub():
    return nbformat.read(RELEASE / f"{NOTEBOOK}.ipynb", as_version=4)


@pytest.fixture(scope="module")
def solution(stub):
    return solved(stub, nbformat.read(SOURCE / f"{NOTEBOOK}.ipynb", as_version=4))


def _scores(tmp_path_factory, layout, make_policy, checks, notebook, name):
    """``({grade_id: points}, {check: CheckResult})`` of one submission of ``notebook``."""
    folder = tmp_path_factory.mktemp(name)
    folder.chmod(0o711)
    submitted = folder / "submitted" / name / "lab4"
    submitted.mkdir(parents=True)
    nbformat.write(notebook, submitted / f"{NOTEBOOK}.ipynb")
    submission = read_submission(submitted, name, layout, make_policy().limits)
    context = GradingContext(
        submission, layout, make_policy(folder), folder / "scratch", Deadline(600)
    )
    try:
        fixtures = context.fixtures()
        results = {c.name: run_check(c, fixtures) for c in checks}
    finally:
        context.close()
    scores = dict.fromkeys(POINTS, 0.0)
    for result in results.values():
        scores[result.grade_id] += result.points
    return scores, results


def _with(notebook, cells):
    notebook = copy.deepcopy(notebook)
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in cells:
            cell.source = cells[grade_id]
    return notebook


@pytest.fixture(scope="module")
def graded(tmp_path_factory, layout, make_policy, checks, solution, stub):
    """The scores of four submissions: solved, the stub, handing over, wrong."""
    submissions = {
        "solution": solution,
        "stub": stub,
        "hands_over": _with(solution, HANDS_OVER),
        "wrong": _with(solution, WRONG),
    }
    return {
        name: _scores(tmp_path_factory, layout, make_policy, checks, notebook, name)
        for name, notebook in submissions.items()
    }


def test_does_the_solution_earn_every_point(graded):
    """Does the instructor's solution pass every check of lab4 (16 points)?"""
    scores, results = graded["solution"]
    assert {name: r.message for name, r in results.items() if not r.passed} == {}
    assert scores == POINTS


def test_does_the_stub_earn_nothing(graded):
    """Does the untouched release earn 0, every check failing on NotImplementedError?"""
    scores, results = graded["stub"]
    assert scores == dict.fromkeys(POINTS, 0.0)
    assert all(r.kind == "error" and "NotImplementedError" in r.message for r in results.values())


def test_does_handing_the_work_to_edu_earn_nothing_for_that_function(graded):
    """Do the functions that call edu's reference (computed name, import) earn 0, saying
    why, while the function written by hand keeps its points?"""
    scores, results = graded["hands_over"]
    assert scores == {**POINTS, "test_remove_inner_channels": 0.0, "test_kmeans_quantize": 0.0}
    remove = [r for r in results.values() if r.grade_id == "test_remove_inner_channels"]
    assert all(r.kind == "reference" for r in remove)
    assert "edu.prune.remove_channels" in remove[0].message
    kmeans = [r for r in results.values() if r.grade_id == "test_kmeans_quantize"]
    assert all(r.kind == "reference" for r in kmeans)
    assert "imports kmeans_quantize from edu.compress" in kmeans[0].message


def test_do_typical_mistakes_lose_their_points(graded):
    """Does the L1 norm fail the norm checks (and the ranking built on it), and do
    clustered zeros fail the k-means checks, with messages that name the call?"""
    scores, results = graded["wrong"]
    failed = {name: r.message for name, r in results.items() if not r.passed}
    assert scores["test_channel_importance"] == 0
    assert scores["test_kmeans_quantize"] == 1  # its edge cases hold no pruned zero
    assert sorted(name for name in failed if "kmeans" in name) == [
        "test_kmeans_quantize_finds_the_clusters",
        "test_kmeans_quantize_keeps_zeros_dtype_and_input",
        "test_kmeans_quantize_matches_the_reference",
    ]
    assert (
        "channel_importance(weight) with weight of shape"
        in (failed["test_channel_importance_matches_the_reference"])
    )
    assert "kmeans_quantize(weight, " in failed["test_kmeans_quantize_matches_the_reference"]


def test_does_validate_find_the_lab4_release(tmp_path, solution, capsys):
    """Does ``edu validate FOLDER`` without --release check a lab4 folder against the lab4
    release, and find it ready to submit?"""
    folder = tmp_path / "mine"
    folder.mkdir()
    nbformat.write(solution, folder / f"{NOTEBOOK}.ipynb")
    status = main(["validate", str(folder)])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "visible test test_remove_inner_channels: passes" in out
    assert "kmeans_quantize is defined with the release's signature" in out


def _result(student, assignment, scores, max_scores):
    return SubmissionResult(student, assignment, "", scores, max_scores, (), (), {})


def test_does_grades_csv_keep_every_assignment(tmp_path):
    """Does grades.csv hold each assignment's rows under its own row of maxima, the other
    assignment's cells left empty?"""
    put_tools_on_path()  # nbgrader's gradebook runs alembic
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(url):
        pass
    results = [
        _result("bo", "lab4", {"test_kmeans_quantize": 6.0}, {"test_kmeans_quantize": 6.0}),
        _result("al", "homework", {"test_tf_1_1": 1.0}, {"test_tf_1_1": 1.0}),
        _result("al", "lab4", {"test_kmeans_quantize": 2.0}, {"test_kmeans_quantize": 6.0}),
    ]
    lines = grades_csv(url, results).splitlines()
    assert lines[0].startswith("student,assignment,timestamp,test_tf_1_1,test_kmeans_quantize,")
    assert [line.split(",")[:5] for line in lines[1:]] == [
        ["(max)", "homework", "", "1", ""],
        ["al", "homework", "", "1", ""],
        ["(max)", "lab4", "", "", "6"],
        ["al", "lab4", "", "", "2"],
        ["bo", "lab4", "", "", "6"],
    ]


@pytest.mark.slow
def test_does_edu_grade_grade_lab4_in_a_course_with_both_assignments(
    tmp_path, solution, stub, capfd
):
    """In a course with the homework and lab4, does ``edu grade --assignment lab4`` grade
    the lab4 submissions with lab4's checks only (no CIFAR-10 needed), writing the
    gradebook, grades.csv, the checks' pages and the autograded notebooks?"""
    course = tmp_path / "course"
    for name in ("homework", "lab4"):
        shutil.copytree(REPO / "solutions" / name, course / "source" / name)
    shutil.copytree(REPO / "grader", course / "grader", ignore=shutil.ignore_patterns("__py*"))
    for student, notebook in (("ana", solution), ("ben", stub)):
        folder = course / "submitted" / student / "lab4"
        folder.mkdir(parents=True)
        nbformat.write(notebook, folder / f"{NOTEBOOK}.ipynb")
    course.chmod(0o711)
    status = main(["grade", "--course", str(course), "--assignment", "lab4", "--no-progress"])
    out = capfd.readouterr().out
    assert status == 0, out
    assert "graded 2, unchanged 0" in out
    rows = (course / "grades.csv").read_text().splitlines()
    assert rows[1].startswith("(max),lab4,,4,6,6,16,20,")
    assert rows[2].startswith("ana,lab4,") and ",4,6,6,16," in rows[2]
    assert rows[3].startswith("ben,lab4,") and ",0,0,0,0," in rows[3]
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        assert gradebook.find_submission("lab4", "ana").score == 16
        assert gradebook.find_submission("lab4", "ben").score == 0
        assert [a.name for a in gradebook.assignments] == ["lab4"]
    page = course / "checks_feedback" / "ana" / "lab4" / "checks.html"
    assert "remove_inner_channels" in page.read_text()
    assert (course / "autograded" / "ben" / "lab4" / f"{NOTEBOOK}.ipynb").is_file()
