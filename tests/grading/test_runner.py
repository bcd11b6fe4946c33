"""Grading a class: parallel grading equals serial grading; regrading is cheap and exact.

A small class (the solution, the stub, a submission whose kernel crashes) is graded
with ``jobs=2`` in one course folder, ``jobs=1`` in a copy of it, and on a real Dask
``distributed.LocalCluster`` of two worker processes in another; every file the
grader writes for people (``grades.csv``, the feedback pages) must be identical, and
so must the gradebooks' scores. The same course then checks that unchanged
submissions are skipped, and that ``students=[...]`` regrades exactly one.
"""

import concurrent.futures
import html
import json
import shutil
from pathlib import Path

import pytest
import torch

from edu.grading import grade_course

pytestmark = pytest.mark.slow

STUDENTS = ["solution", "stub", "kernel_crash"]


@pytest.fixture(scope="module")
def data(tmp_path_factory, bad_submissions):
    import os

    root = bad_submissions._synthetic_cifar10(tmp_path_factory.mktemp("cifar10"))
    os.environ.setdefault("EDU_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    return str(root)


@pytest.fixture(scope="module")
def courses(tmp_path_factory, repo, solution_notebooks, data, bad_submissions):
    parallel = tmp_path_factory.mktemp("parallel")
    bad_submissions.make_course(parallel, repo, solution_notebooks, STUDENTS)
    serial = tmp_path_factory.mktemp("serial")
    shutil.copytree(parallel, serial, dirs_exist_ok=True)
    cluster = tmp_path_factory.mktemp("cluster")
    shutil.copytree(parallel, cluster, dirs_exist_ok=True)
    options = dict(limits=bad_submissions.LIMITS, data_root=data, progress=False, stream=None)
    two = grade_course(parallel, "homework", jobs=2, **options)
    one = grade_course(serial, "homework", jobs=1, **options)
    return parallel, serial, two, one, options, cluster


def _scores(root):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        return {
            (grade.student.id, grade.name): (grade.auto_score, grade.needs_manual_grade)
            for submission in gradebook.find_assignment("homework").submissions
            for notebook in submission.notebooks
            for grade in notebook.grades
        }


def test_are_jobs_2_and_jobs_1_identical(courses):
    """Do --jobs 2 and --jobs 1 write the same grades.csv, feedback pages and scores?"""
    parallel, serial, two, one, *_ = courses
    assert (parallel / "grades.csv").read_bytes() == (serial / "grades.csv").read_bytes()
    for student in STUDENTS:
        page = Path("checks_feedback", student, "homework", "checks.html")
        assert (parallel / page).read_bytes() == (serial / page).read_bytes(), student
    assert _scores(parallel) == _scores(serial)
    assert two.table == one.table
    assert (serial / "similarity.html").is_file()  # the class report of similar solutions
    assert "<h2>Checkpoints</h2>" in (serial / "similarity.html").read_text()


def test_are_untrained_checkpoints_left_out_of_the_class_pass(courses):
    """The solution's checkpoints are the pretrained model pruned or put on its grid,
    untrained: files every student who skips the training hands in, which pair no one.
    Does its result record no move, in the cache too? (A trained file's move is recorded
    and paired: test_do_both_students_of_a_shared_checkpoint_lose_its_points.)"""
    parallel, _, two, *_ = courses
    assert two.results["solution"].moves == {}
    assert two.results["solution"].shared == {}
    cached = json.loads((parallel / ".grading" / "homework" / "solution.json").read_text())
    assert cached["result"]["moves"] == {}


def test_does_a_broken_submission_leave_the_others_alone(courses):
    """Graded beside a crashing submission, does the solution keep its points?"""
    _, _, two, *_ = courses
    assert two.results["solution"].score == 58
    assert two.results["stub"].score == 0


def test_are_unchanged_submissions_skipped(courses):
    """Does a second run grade nothing when no submission changed?"""
    parallel, _, _, _, options, _ = courses
    again = grade_course(parallel, "homework", jobs=2, **options)
    assert again.graded == ()
    assert set(again.skipped) == set(STUDENTS)
    assert (parallel / "grades.csv").read_bytes() == (courses[1] / "grades.csv").read_bytes()


def test_is_one_student_regraded_alone(courses):
    """After one submission changes, does students=[...] regrade only it, correctly?"""
    parallel, _, _, _, options, _ = courses
    notebook = parallel / "submitted" / "stub" / "homework" / "part0_true_false.ipynb"
    text = notebook.read_text().replace("answer_1_3 = None", "answer_1_3 = True")
    assert text != notebook.read_text()
    notebook.write_text(text)
    again = grade_course(parallel, "homework", students=["stub"], **options)
    assert again.graded == ("stub",)
    assert again.results["stub"].scores["test_tf_1_3"] == 1
    assert again.results["solution"].score == 58  # from the cache, untouched


def test_do_both_students_of_a_shared_checkpoint_lose_its_points(courses, tmp_path):
    """A classmate's checkpoint copied into a submission: do both students earn nothing for
    that file's checks, the one who did not change graded again by the class pass, with a
    message that names no one; and once the copy is gone, does the other get the points
    back? The solution's other checkpoints keep theirs."""
    parallel, _, _, _, options, _ = courses
    course = tmp_path / "course"
    shutil.copytree(parallel, course)
    submitted = course / "submitted"
    own = submitted / "solution" / "homework" / "lab2_finetune_70.pt"
    pruned = torch.load(own, weights_only=True)  # pruned only: as trained, its weights moved
    trained = {
        key: torch.where(value != 0, value * 1.05, value) if key.endswith("conv.weight") else value
        for key, value in pruned.items()
    }
    torch.save(trained, own)
    copied = submitted / "stub" / "homework" / "lab2_finetune_70.pt"
    shutil.copy(own, copied)
    before = grade_course(course, "homework", students=["solution"], force=True, **options)
    points = before.results["solution"].scores["test_lab2_finetune_70"]
    assert points > 0  # it loads, on synthetic data

    paired = grade_course(course, "homework", students=["stub"], **options)
    assert paired.graded == ("solution", "stub")
    for student in ("solution", "stub"):
        result = paired.results[student]
        assert result.scores["test_lab2_finetune_70"] == 0, student
        assert result.shared == {"lab2_finetune_70": result.shared["lab2_finetune_70"]}
        message = result.shared["lab2_finetune_70"]
        assert "nearly identical to another student's" in message and "stub" not in message
        page = course / "checks_feedback" / student / "homework" / "checks.html"
        assert html.escape(message) in page.read_text()
    assert paired.results["solution"].score == before.results["solution"].score - points
    assert grade_course(course, "homework", **options).graded == ()  # stable

    copied.unlink()
    apart = grade_course(course, "homework", students=["stub"], **options)
    assert apart.graded == ("solution", "stub")
    assert apart.results["solution"].scores == before.results["solution"].scores
    assert apart.results["solution"].shared == {}


def test_does_any_executor_work(courses, tmp_path):
    """Can a caller's concurrent.futures executor (here threads) run the jobs?"""
    parallel, _, _, _, options, _ = courses
    copy = tmp_path / "course"
    shutil.copytree(parallel, copy)
    with concurrent.futures.ThreadPoolExecutor(2) as executor:
        grades = grade_course(
            copy, "homework", executor=executor, students=["kernel_crash"], force=True, **options
        )
    assert grades.graded == ("kernel_crash",)
    assert grades.results["kernel_crash"].scores["test_gradient"] == 0


def test_does_a_dask_cluster_grade_exactly_as_jobs_1(courses):
    """On a real LocalCluster of two worker processes (the executor behind
    ``edu grade --scheduler``), are grades.csv, every checks' page and the gradebook's
    scores those of ``--jobs 1``, the crashing submission included?"""
    distributed = pytest.importorskip("distributed")
    from edu.cli._cluster import cluster_executor

    _, serial, _, one, options, cluster = courses
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as local,
        cluster_executor(local.scheduler_address) as executor,
    ):
        grades = grade_course(cluster, "homework", executor=executor, **options)
    assert sorted(grades.graded) == sorted(STUDENTS)
    assert (cluster / "grades.csv").read_bytes() == (serial / "grades.csv").read_bytes()
    for student in STUDENTS:
        page = Path("checks_feedback", student, "homework", "checks.html")
        assert (cluster / page).read_bytes() == (serial / page).read_bytes(), student
    assert _scores(cluster) == _scores(serial)
    assert grades.results["kernel_crash"].scores == one.results["kernel_crash"].scores


def test_is_an_unknown_student_an_error(courses):
    """Does asking for a student with no submission raise a clear error?"""
    parallel, _, _, _, options, _ = courses
    with pytest.raises(FileNotFoundError, match="no submission of 'homework' for carol"):
        grade_course(parallel, "homework", students=["carol"], **options)


def test_is_grading_from_a_starting_child_process_refused(tmp_path, monkeypatch):
    """Called while a multiprocessing child imports its parent's script (no
    ``__main__`` guard), does grade_course refuse before grading anything?"""
    import multiprocessing

    monkeypatch.setattr(multiprocessing.current_process(), "_inheriting", True, raising=False)
    with pytest.raises(RuntimeError, match='if __name__ == "__main__":'):
        grade_course(tmp_path / "no-course", "homework", progress=False, stream=None)


def test_does_a_broken_reference_stop_the_run_before_any_grade(courses, tmp_path):
    """A damaged file under grader/reference/ (a Git LFS pointer, say): does grading
    refuse to start, naming the file, and leave every recorded grade as it was, rather
    than fail every submission?"""
    parallel, _, _, _, options, _ = courses
    course = tmp_path / "course"
    shutil.copytree(parallel, course)
    (course / "grader" / "reference" / "broken.pt").write_bytes(b"version https://git-lfs")
    before = (course / "grades.csv").read_bytes()
    with pytest.raises(ValueError, match=r"broken\.pt cannot be read"):
        grade_course(course, "homework", force=True, **options)
    assert (course / "grades.csv").read_bytes() == before
