"""Grading a whole class: jobs on a ``concurrent.futures`` executor, results recorded here.

:func:`grade_course` prepares one :class:`GradingJob` per submission, skips those
whose files and grader are unchanged since they were last graded (a hash of both is
kept in ``<course>/.grading/``), runs the others through
:func:`edu.grading.grade_submission` on an executor, and records each result as it
arrives, in this process only: the gradebook, the autograded notebooks (with the
checks' results, for nbgrader's ``generate_feedback``), the checks' feedback page, the
cache. A class pass then grades again the students whose checkpoints became, or stopped
being, near-identical to a classmate's (:func:`_copy_jobs`: such a file earns nothing;
students outside ``students=`` too, since a pair concerns both). It then assigns the late
penalties (of every graded submission, so that manual grades given since count), writes
``grades.csv`` and, beside it, the page of pairs of students whose code or checkpoints
are near-identical (:mod:`edu.grading._similarity`), and returns the summary table.

A course may have several assignments (the homework and the bonus ``lab4``), graded one
at a time with the checks of its own modules (:func:`edu.grading.select_checks`) and
cached in ``.grading/<assignment>/``. ``grades.csv`` and the similarity page are the
course's: they hold every assignment graded so far, each from its last recorded results,
so grading one assignment never drops another's rows.

The checks' pages go to ``checks_feedback/<student>/<assignment>/checks.html``, not to
nbgrader's ``feedback/`` folder: ``generate_feedback`` skips a student whose folder
there exists and empties it with ``--force``.

The executor is anything with the :class:`concurrent.futures.Executor` interface:
none for ``jobs=1`` (inline), a :class:`~concurrent.futures.ProcessPoolExecutor` for
``jobs > 1``, or one passed in, e.g. Dask's ``distributed.Client(...).get_executor()``
when a class outgrows one machine (the course folder must then be on a file system
the workers share). A job whose worker fails is recorded as a grading failure with
zeros and retried on the next run.
"""

from __future__ import annotations

import concurrent.futures
import html
import multiprocessing
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import edu
from edu.grading._assignment import AssignmentLayout, Course
from edu.grading._checkpoints import find_cifar10
from edu.grading._checks import collect_checks, select_checks
from edu.grading._copies import classmate_copies, comparison_groups
from edu.grading._feedback import feedback_html
from edu.grading._gradebook import parse_timestamp, previous_answers, record_in_gradebook
from edu.grading._late import Lateness, assign_late_penalties
from edu.grading._limits import Limits
from edu.grading._notebook_feedback import with_check_results
from edu.grading._outline import Outline, read_outline
from edu.grading._output_similarity import OutputMove
from edu.grading._pipeline import (
    GradingJob,
    GradingSettings,
    SubmissionResult,
    grade_submission,
    reference_checkpoints,
    require_isolation,
)
from edu.grading._regrade import fingerprint as grader_fingerprint
from edu.grading._regrade import load_result, save_result
from edu.grading._report import grades_csv, summary_table
from edu.grading._sandbox import resolve_user
from edu.grading._similarity import SIMILARITY_PAGE, class_similarity_html
from edu.grading._submission import read_submission
from edu.notebook import SUBMISSION_CHECKPOINTS

__all__ = ["CHECKS_FEEDBACK", "CourseGrades", "check_points", "grade_course"]

CHECKS_FEEDBACK = "checks_feedback"
"""The folder of the checks' pages in the course folder, beside nbgrader's ``feedback``."""
FEEDBACK_PAGE = "checks.html"
_CACHE = ".grading"


@dataclass(frozen=True)
class CourseGrades:
    """What :func:`grade_course` did.

    Attributes
    ----------
    results : dict of str to SubmissionResult
        Every submission of the assignment that has a grade, by student (graded now,
        or the last recorded grade).
    graded, skipped : tuple of str
        Students graded in this run, and the selected ones unchanged since their last
        grading.
    csv_path : Path
        ``grades.csv``.
    feedback : dict of str to Path
        Each student's checks' feedback page.
    table : str
        The summary table.
    lateness : dict of str to Lateness
        How late each submission is, and its late penalty.
    """

    results: dict[str, SubmissionResult]
    graded: tuple[str, ...]
    skipped: tuple[str, ...]
    csv_path: Path
    feedback: dict[str, Path]
    table: str
    lateness: dict[str, Lateness]


def check_points(checks, layout: AssignmentLayout) -> None:
    """Make sure the checks' points add up to every autograded cell's points.

    Raises
    ------
    ValueError
        Listing each grade id whose checks' points differ from the gradebook's, and
        checks whose grade id is not an autograded cell.
    """
    totals: dict[str, float] = {}
    for item in checks:
        totals[item.grade_id] = totals.get(item.grade_id, 0.0) + item.points
    expected = layout.autograded
    problems = [
        f"{grade_id}: checks give {totals.get(grade_id, 0.0):g}, the cell has {points:g}"
        for grade_id, points in expected.items()
        if grade_id in totals and abs(totals[grade_id] - points) > 1e-9
    ]
    problems += [f"{g}: no such autograded cell" for g in totals if g not in expected]
    if problems:
        raise ValueError("the hidden checks do not match the gradebook: " + "; ".join(problems))


def _failed(job: GradingJob, error: BaseException) -> SubmissionResult:
    layout = job.settings.layout
    return SubmissionResult(
        job.student,
        layout.name,
        "",
        dict.fromkeys(layout.autograded, 0.0),
        dict(layout.autograded),
        (),
        (f"grading failed ({type(error).__name__}: {error}); it is retried on the next run",),
        {},
    )


def _share_cores(workers: int) -> None:
    """Give each of ``workers`` grading processes its share of the cores for torch.

    Every process would otherwise start one torch thread per core for the accuracy
    checks, and threads that outnumber the cores wait on each other.
    """
    import torch

    torch.set_num_threads(max(1, len(os.sched_getaffinity(0)) // workers))


def _run_jobs(jobs: list[GradingJob], executor, workers: int) -> Iterable:
    """Yield ``(job, result)`` as they finish, on the given or a new executor."""
    if not jobs:
        return
    if executor is None and workers <= 1:
        for job in jobs:
            try:
                yield job, grade_submission(job)
            except Exception as error:  # a grader bug: record it, go on with the next student
                yield job, _failed(job, error)
        return
    own = executor is None
    if own:
        executor = concurrent.futures.ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_share_cores,
            initargs=(workers,),
        )
    try:
        futures = {executor.submit(grade_submission, job): job for job in jobs}
        for future in concurrent.futures.as_completed(futures):
            job = futures[future]
            try:
                yield job, future.result()
            except Exception as error:  # a worker died or a grader bug: not the student's
                yield job, _failed(job, error)
    finally:
        if own:
            executor.shutdown(cancel_futures=True)


def _record(course: Course, result: SubmissionResult, outline: Outline) -> None:
    """Record one result: the gradebook, the autograded notebooks, the checks' page.

    The gradebook first, while the autograded folder still holds the answers graded
    last time. Beside the notebooks go the files nbgrader's feedback commands read:
    ``timestamp.txt`` (only one nbgrader can read: ``generate_feedback`` stops the
    whole class at an unreadable one) and ``submission_secret.txt``.
    """
    folder = course.folder("autograded") / result.student / result.assignment
    record_in_gradebook(course.db_url, result, previous_answers(folder))
    folder.mkdir(parents=True, exist_ok=True)
    for name, outcome in result.notebooks.items():
        path = folder / f"{name}.ipynb"
        if outcome.notebook is not None:
            path.write_text(with_check_results(outcome.notebook, name, result))
        elif path.exists():
            path.unlink()
    if result.timestamp and parse_timestamp(result.timestamp) is not None:
        (folder / "timestamp.txt").write_text(result.timestamp + "\n")
    if result.submission_secret is not None:
        (folder / "submission_secret.txt").write_text(result.submission_secret)
    page = _feedback_page(course, result.student, result.assignment)
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(feedback_html(result, outline))


def _instructor_material(course: Course, checks: Path) -> tuple[Path, ...]:
    """What the sandbox must not read: the course's source notebooks, solutions and
    checks, and those of the repository an editable ``edu`` runs from (whose source
    the kernels read, so its neighbours are one folder up)."""
    checkout = Path(edu.__file__).resolve().parents[1]
    return (
        course.folder("source"),
        course.root / "solutions",
        checks,
        checkout / "solutions",
        checkout / "grader",
    )


def _other_assignments(
    course: Course, assignment: str
) -> list[tuple[AssignmentLayout, dict[str, Path], list[SubmissionResult]]]:
    """The course's other assignments graded before: layout, submissions, last results.

    An assignment counts when ``.grading/`` holds results of it and the gradebook knows
    it; its results are those of the students whose submission is still there.
    """
    found = []
    cache = course.root / _CACHE
    names = sorted(p.name for p in cache.iterdir() if p.is_dir()) if cache.is_dir() else []
    for name in names:
        if name == assignment:
            continue
        try:
            layout = AssignmentLayout.from_gradebook(course.db_url, name)
        except KeyError:
            continue
        submissions = course.submissions(name)
        cached = [load_result(cache / name / f"{student}.json") for student in submissions]
        results = [entry[1] for entry in cached if entry is not None]
        if results:
            found.append((layout, submissions, results))
    return found


def _recorded_moves(
    results: Iterable[SubmissionResult],
) -> dict[str, dict[str, OutputMove]]:
    """Each student's checkpoint moves as their results recorded them; a move recorded
    by another version of the grader is left out until that student is graded again."""
    moves: dict[str, dict[str, OutputMove]] = {}
    for result in results:
        if not isinstance(result.moves, dict):
            continue  # a damaged record: nothing to compare
        for name, plain in result.moves.items():
            try:
                moves.setdefault(result.student, {})[name] = OutputMove.from_plain(plain)
            except ValueError:
                continue
    return moves


def _copy_jobs(
    results: dict[str, SubmissionResult],
    measured: dict[str, SubmissionResult],
    submissions: dict[str, Path],
    settings: GradingSettings,
) -> list[GradingJob]:
    """The submissions to grade again because their checkpoints' classmate copies changed.

    The class pass: every pair of students whose checkpoints of one name are
    near-identical loses that checkpoint's checks
    (:func:`edu.grading._copies.classmate_copies`). The moves compared are those of
    ``measured``: each student's last grading that ran to the end under this version of
    the grader (a grading that failed on the grader's side measured nothing, and keeps
    the student's pairs as they were; moves of another version are not comparable). A
    student whose last grading ran to the end is graded again, with the checkpoints to
    refuse, when these differ from that grading's: a new pair, or a pair gone because
    one of the two submitted again.
    """
    filenames = {name: spec.filename for name, spec in SUBMISSION_CHECKPOINTS.items()}
    wanted = classmate_copies(_recorded_moves(measured.values()), filenames, comparison_groups())
    return [
        GradingJob(student, str(submissions[student]), settings, wanted.get(student, {}))
        for student, result in sorted(results.items())
        if student in submissions and result.digest and result.shared != wanted.get(student, {})
    ]


def _feedback_page(course: Course, student: str, assignment: str) -> Path:
    return course.root / CHECKS_FEEDBACK / student / assignment / FEEDBACK_PAGE


def grade_course(
    course_dir: str | Path,
    assignment: str,
    *,
    students: Iterable[str] | None = None,
    jobs: int = 1,
    executor: concurrent.futures.Executor | None = None,
    checks_dir: str | Path | None = None,
    limits: Limits | None = None,
    sandbox_user: str | None = "nobody",
    namespaces: bool = True,
    data_root: str | None = None,
    force: bool = False,
    progress: bool = True,
    stream: TextIO | None = sys.stdout,
) -> CourseGrades:
    """Grade every submission of ``assignment`` in a course folder (module docstring).

    Parameters
    ----------
    course_dir : path-like
        The course folder (nbgrader's layout; its ``nbgrader_config.py`` is read).
    assignment : str
        The assignment id.
    students : iterable of str, optional
        Grade only these (default: every ``submitted/<student>/<assignment>``).
    jobs : int, default 1
        Submissions graded at the same time (processes), when ``executor`` is None.
    executor : concurrent.futures.Executor, optional
        Runs the jobs instead (e.g. Dask's ``Client.get_executor()``).
    checks_dir : path-like, optional
        The hidden checks; default ``<course>/grader``.
    limits : Limits, optional
        Per-submission limits; default :class:`Limits` ``()``.
    sandbox_user : str or None, default "nobody"
        The user the sandboxes run as when the grader runs as root.
    namespaces : bool, default True
        Use mount, network and PID namespaces where the system allows them.
    data_root : str, optional
        Where CIFAR-10 is (default ``$EDU_DATA_ROOT``, then the cache).
    force : bool, default False
        Grade again even the submissions that did not change.
    progress : bool, default True
        Show a progress bar of the students.
    stream : text file or None, default sys.stdout
        Where the summary table is printed; ``None``: nowhere.

    Returns
    -------
    CourseGrades

    Raises
    ------
    FileNotFoundError
        If the course, the assignment, the checks or CIFAR-10 (needed by accuracy
        checks) cannot be found, or a requested student has no submission.
    ValueError
        If the checks' points do not match the gradebook, or Python cannot run in the
        sandbox, or cannot hide the instructor's material from it
        (:func:`edu.grading._pipeline.require_isolation`).
    RuntimeError
        If called while a process started by ``multiprocessing`` imports its parent's
        main script: nbgrader's runs are forked from a forkserver, whose processes
        import the script that grades, so its top level must sit under
        ``if __name__ == "__main__":``; without it the script would grade the class
        again in every such process.

    Notes
    -----
    A script that calls this function keeps its top level under
    ``if __name__ == "__main__":``, as any script that starts processes with the
    ``spawn`` or ``forkserver`` method must (``--jobs N`` and nbgrader's runs do).
    """
    if getattr(multiprocessing.current_process(), "_inheriting", False):
        raise RuntimeError(
            "grade_course was called while a grading process was starting, from the top "
            "level of the script that grades: put that script's top level under "
            '`if __name__ == "__main__":`'
        )
    from tqdm import tqdm

    course = Course(course_dir)
    checks_path = Path(checks_dir).resolve() if checks_dir else course.root / "grader"
    layout = course.layout(assignment)
    checks = select_checks(collect_checks(checks_path), layout.autograded)
    if layout.autograded and not checks:
        raise ValueError(
            f"no hidden check in {checks_path} grades a test cell of {assignment!r} "
            f"({', '.join(layout.autograded)})"
        )
    check_points(checks, layout)
    if any(item.needs_data for item in checks):
        found = find_cifar10(data_root)
        if found is None:
            raise FileNotFoundError(
                "the accuracy checks need CIFAR-10 and none was found: pass --data-root or "
                "set EDU_DATA_ROOT"
            )
        data_root = found
    submissions = course.submissions(assignment)
    selected = submissions
    if students is not None:
        wanted = list(students)
        unknown = [s for s in wanted if s not in submissions]
        if unknown:
            raise FileNotFoundError(
                f"no submission of {assignment!r} for {', '.join(unknown)} in "
                f"{course.folder('submitted')}"
            )
        selected = {s: submissions[s] for s in wanted}
    scratch_root = Path(tempfile.mkdtemp(prefix="edu-grade-run-"))
    scratch_root.chmod(0o711)
    settings = GradingSettings(
        layout=layout,
        template_db=course.template_gradebook(),
        checks_dir=str(checks_path),
        limits=limits or Limits(),
        sandbox_user=resolve_user(sandbox_user),
        namespaces=namespaces,
        readable=(str(Path(edu.__file__).parent),),
        data_root=data_root,
        scratch_root=str(scratch_root),
        protected=tuple(map(str, _instructor_material(course, checks_path))),
    )
    require_isolation(settings)
    reference_checkpoints(settings.checks_dir)  # a broken one stops the run before any grade
    fingerprint = grader_fingerprint(checks_path, settings)
    cache = course.root / _CACHE / assignment
    cache.mkdir(parents=True, exist_ok=True)
    results: dict[str, SubmissionResult] = {}
    measured: dict[str, SubmissionResult] = {}  # gradings whose moves the class pass pairs
    todo = []
    for student, folder in submissions.items():
        cached = cache / f"{student}.json"
        old_fingerprint, old = load_result(cached) or ("", None)
        if old is not None:
            results[student] = old  # the last recorded grade, reported until regraded
            if old_fingerprint == fingerprint:
                measured[student] = old
        if student not in selected:
            continue
        unchanged = (
            old is not None
            and old_fingerprint == fingerprint
            and old.digest == read_submission(folder, student, layout, settings.limits).digest
        )
        if force or not unchanged:
            shared = old.shared if old is not None else {}
            todo.append(GradingJob(student, str(folder), settings, shared))
    outline = read_outline(layout, course.folder("source") / assignment)

    def grade(jobs_to_run: list[GradingJob], what: str) -> None:
        bar = tqdm(total=len(jobs_to_run), desc=what, unit="student", disable=not progress)
        for job, result in _run_jobs(jobs_to_run, executor, jobs):
            _record(course, result, outline)
            if result.digest:
                save_result(cache / f"{job.student}.json", result, fingerprint)
                measured[job.student] = result
            results[job.student] = result
            bar.set_postfix_str(job.student)
            bar.update()
        bar.close()

    try:
        grade(todo, f"grading {assignment}")
        again = _copy_jobs(results, measured, submissions, settings)
        grade(again, "checkpoints shared with a classmate")
    finally:
        shutil.rmtree(scratch_root, ignore_errors=True)
    feedback = {student: _feedback_page(course, student, assignment) for student in results}
    lateness = assign_late_penalties(course.db_url, assignment, sorted(results), course.config)
    others = _other_assignments(course, assignment)
    csv_path = course.root / "grades.csv"
    recorded = [r for _, _, cached in others for r in cached]
    csv_path.write_text(grades_csv(course.db_url, [*results.values(), *recorded]))
    try:
        more = [(folders, other) for other, folders, _ in others]
        similarity = class_similarity_html(
            submissions,
            layout,
            settings.limits,
            more=more,
            moves=_recorded_moves([*measured.values(), *recorded]),
        )
    except Exception as error:  # a report, never a reason to lose the class's grades
        similarity = f"<p>The similarity report could not be made: {html.escape(repr(error))}</p>"
    (course.root / SIMILARITY_PAGE).write_text(similarity)
    table = summary_table(results.values(), layout, lateness)
    if stream is not None:
        print(table, file=stream)
    graded = tuple(sorted({job.student for job in [*todo, *again]}))
    skipped = tuple(sorted(set(selected) - set(graded)))
    return CourseGrades(results, graded, skipped, csv_path, feedback, table, lateness)
