"""Grading one submission: the steps, in order, and what they produce.

:func:`grade_submission` takes a :class:`GradingJob` (plain, picklable values: it may
run in another process or on another machine) and returns a
:class:`SubmissionResult` (plain values too); it writes nothing outside its scratch
folder, which it removes. Recording the result (gradebook, feedback, ``grades.csv``)
is the caller's job, in one process, so that parallel grading cannot race on files.

The steps, declared in :data:`STEPS`:

1. ``read``: the submission's files are read into memory and classified. First, so
   that nothing the student's code does afterwards (a notebook that writes files
   while it runs) changes what is graded.
2. ``checks``: the hidden checks, on the student's functions and checkpoints, in
   sandboxes. They decide the autograded scores, so they run before nbgrader and get
   the submission's time first.
3. ``autograde``: nbgrader's ``autograde`` with a sandboxed kernel, with the time
   that is left: the executed notebooks for feedback and manual grading.
"""

from __future__ import annotations

import functools
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from edu.grading._assignment import AssignmentLayout
from edu.grading._autograde import NotebookAutograde, autograde
from edu.grading._checks import Check, CheckResult, collect_checks, run_check, select_checks
from edu.grading._context import GradingContext
from edu.grading._copies import REFERENCES_IN_CHECKS, References, load_references
from edu.grading._limits import Limits
from edu.grading._sandbox import Isolation, SandboxPolicy, exposed_to, probe_isolation
from edu.grading._student import Deadline
from edu.grading._submission import Submission, read_submission

__all__ = ["STEPS", "GradingJob", "GradingSettings", "SubmissionResult", "grade_submission"]


@dataclass(frozen=True)
class GradingSettings:
    """How every submission of one run is graded (the same for all students).

    Attributes
    ----------
    layout : AssignmentLayout
        The assignment as the gradebook records it.
    template_db : bytes
        The course's gradebook without students (:meth:`Course.template_gradebook`).
    checks_dir : str
        The hidden checks' folder; the modules of this assignment's cells are run
        (:func:`edu.grading.select_checks`).
    limits : Limits
        Per-submission limits.
    sandbox_user : tuple of int or None
        ``(uid, gid)`` of the sandbox, when the grader is root.
    namespaces : bool
        Use mount, network and PID namespaces where possible.
    readable : tuple of str
        What the kernels may read besides the Python environment (``edu``'s source, for
        the notebooks' hidden tests); nothing else of the machine is in a sandbox's view.
    data_root : str or None
        Where CIFAR-10 is, for the accuracy checks.
    scratch_root : str
        Where each submission's scratch folder is made.
    protected : tuple of str
        What the sandbox user must not read where no mount namespace hides it (the
        instructor's notebooks, the hidden checks): :func:`require_isolation`.
    """

    layout: AssignmentLayout
    template_db: bytes
    checks_dir: str
    limits: Limits = field(default_factory=Limits)
    sandbox_user: tuple[int, int] | None = None
    namespaces: bool = True
    readable: tuple[str, ...] = ()
    data_root: str | None = None
    scratch_root: str = field(default_factory=tempfile.gettempdir)
    protected: tuple[str, ...] = ()

    def policy(self) -> SandboxPolicy:
        """The sandbox policy of this run."""
        return SandboxPolicy(self.limits, self.sandbox_user, self.namespaces, self.readable)


@dataclass(frozen=True)
class GradingJob:
    """One submission to grade: whose, where its folder is, and how.

    ``shared`` names the checkpoints the class pass found near-identical to a
    classmate's, with the message their checks fail with
    (:func:`edu.grading._copies.classmate_copies`).
    """

    student: str
    folder: str
    settings: GradingSettings
    shared: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SubmissionResult:
    """Everything grading found out about one submission (plain values only).

    Attributes
    ----------
    student, assignment, digest : str
        Whose, which, and the SHA-256 of its files.
    scores : dict of str to float
        The autograded score of every test cell (grade id), from the checks.
    max_scores : dict of str to float
        Their points.
    checks : tuple of CheckResult
        Every check's outcome.
    problems : tuple of str
        What is wrong with the submission as a whole (missing, rejected notebooks,
        refused files, what nbgrader repaired or could not run).
    notebooks : dict of str to NotebookAutograde
        nbgrader's outcome per notebook.
    timestamp : str or None
        The submission time (``timestamp.txt``), if any.
    timings : dict of str to float
        Seconds per step.
    submission_secret : str or None
        ``submission_secret.txt``, which ``nbgrader submit`` writes and
        ``release_feedback`` needs beside the feedback, if any.
    moves : dict of str to list
        Per submitted checkpoint that builds and copies no reference, what its network
        computes differently from the pretrained model
        (:meth:`edu.grading._output_similarity.OutputMove.as_plain`), for the class pass
        on near-identical checkpoints.
    shared : dict of str to str
        The checkpoints refused as a classmate's copy in this grading (the job's), with
        the message.
    """

    student: str
    assignment: str
    digest: str
    scores: dict[str, float]
    max_scores: dict[str, float]
    checks: tuple[CheckResult, ...]
    problems: tuple[str, ...]
    notebooks: dict[str, NotebookAutograde]
    timestamp: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    submission_secret: str | None = None
    moves: dict[str, list[float]] = field(default_factory=dict)
    shared: dict[str, str] = field(default_factory=dict)

    @property
    def score(self) -> float:
        """Total autograded score."""
        return sum(self.scores.values())

    @property
    def max_score(self) -> float:
        """Total autograded points."""
        return sum(self.max_scores.values())


@dataclass
class _Work:
    """The state the steps pass along."""

    job: GradingJob
    scratch: Path
    deadline: Deadline
    submission: Submission | None = None
    checks: list[CheckResult] = field(default_factory=list)
    notebooks: dict[str, NotebookAutograde] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    moves: dict[str, list[float]] = field(default_factory=dict)


@functools.lru_cache(maxsize=4)
def _checks(folder: str, grade_ids: frozenset[str]) -> tuple[Check, ...]:
    """The hidden checks of the assignment whose test cells are ``grade_ids``, collected
    once per process."""
    return tuple(select_checks(collect_checks(Path(folder)), grade_ids))


def reference_checkpoints(checks_dir: str) -> References:
    """The reference checkpoints beside the hidden checks, loaded once per process for
    each version of the folder (a long-lived worker sees a set shipped after it started).

    Raises
    ------
    ValueError
        When one of them is broken (:func:`edu.grading._copies.load_references`).
    """
    folder = Path(checks_dir) / REFERENCES_IN_CHECKS
    files = sorted(folder.rglob("*.pt")) if folder.is_dir() else []
    version = tuple((str(path), path.stat().st_mtime_ns, path.stat().st_size) for path in files)
    return _load_references(folder, version)


@functools.lru_cache(maxsize=2)
def _load_references(folder: Path, version: tuple) -> References:
    """:func:`load_references`, cached by the folder's listing ``version``."""
    return load_references(folder)


def _read(work: _Work) -> None:
    settings = work.job.settings
    work.submission = read_submission(
        Path(work.job.folder), work.job.student, settings.layout, settings.limits
    )


def _run_checks(work: _Work) -> None:
    settings = work.job.settings
    context = GradingContext(
        work.submission,
        settings.layout,
        settings.policy(),
        work.scratch / "checks",
        work.deadline,
        settings.data_root,
        references=reference_checkpoints(settings.checks_dir),
        shared=work.job.shared,
    )
    try:
        fixtures = context.fixtures()
        checks = _checks(settings.checks_dir, frozenset(settings.layout.autograded))
        work.checks = [run_check(item, fixtures) for item in checks]
        work.moves = context.checkpoints.moves()
    finally:
        context.close()


def _autograde(work: _Work) -> None:
    settings = work.job.settings
    policy = settings.policy()
    isolation = probe_isolation(policy)
    folder = work.scratch / "autograde"
    folder.mkdir()
    folder.chmod(0o711)
    work.notebooks = autograde(
        work.submission, settings.template_db, folder, policy, work.deadline, isolation.network
    )


STEPS: tuple[tuple[str, Callable[[_Work], None]], ...] = (
    ("read", _read),  # first: later steps run the student's code, which must not change this
    ("checks", _run_checks),  # the grade; before nbgrader, so it has the submission's time first
    ("autograde", _autograde),  # executed notebooks and manual cells, with the time left
)
"""The steps of :func:`grade_submission`, in the order they run (see the module docstring)."""


def _problems(work: _Work) -> tuple[str, ...]:
    submission = work.submission
    problems = list(submission.problems)
    for name, notebook in submission.notebooks.items():
        if notebook.status != "ok":
            problems.append(notebook.message)
        problems += [f"{name}.ipynb: {note}" for note in notebook.notes]
    for name, outcome in work.notebooks.items():
        if outcome.message and submission.notebooks[name].status == "ok":
            problems.append(f"{name}.ipynb: {outcome.message}")
    return tuple(problems)


def _scores(work: _Work) -> tuple[dict[str, float], dict[str, float]]:
    """Each test cell's score: the sum of its checks' points (nbgrader's if it has none)."""
    max_scores = dict(work.job.settings.layout.autograded)
    scores = {grade_id: 0.0 for grade_id in max_scores}
    checked = set()
    for result in work.checks:
        if result.grade_id in scores:
            scores[result.grade_id] += result.points
            checked.add(result.grade_id)
    for outcome in work.notebooks.values():
        for grade_id, grade in outcome.grades.items():
            if grade_id in scores and grade_id not in checked:
                scores[grade_id] = float(grade["auto_score"] or 0.0)
    return scores, max_scores


def _text(data: bytes | None, strip: bool = True) -> str | None:
    """A small text file of the submission (None when absent)."""
    if data is None:
        return None
    text = data.decode(errors="replace")
    return text.strip() if strip else text


def require_isolation(settings: GradingSettings) -> Isolation:
    """The sandbox this machine gives, or ``ValueError`` where it cannot keep grading safe.

    Checked by ``grade_course`` before any job and again by every job on the machine
    that runs it (a Dask worker may differ from the machine that started the run):
    Python must run in the sandbox, and without a mount namespace the sandbox user
    must not be able to read any of ``settings.protected``.
    """
    isolation = probe_isolation(settings.policy())
    if isolation.error:
        raise ValueError(
            f"the sandbox cannot start: {isolation.error}. Use --sandbox-user with a user "
            "who can read the Python environment, or make it readable to that user"
        )
    exposed = [] if isolation.allow_list else exposed_to(settings.sandbox_user, settings.protected)
    if exposed:
        raise ValueError(
            "the sandbox cannot hide the file system here (no mount namespace: "
            f"{'; '.join(isolation.warnings) or 'namespaces turned off'}), and its user "
            f"can read {', '.join(map(str, exposed))}: grade from a folder without the "
            "instructor's notebooks and the hidden checks, or make them unreadable to the "
            "sandbox user (chmod 700), or run where namespaces are allowed"
        )
    return isolation


def grade_submission(job: GradingJob) -> SubmissionResult:
    """Run :data:`STEPS` on one submission and return what they found.

    Never raises for anything the submission does; a broken submission is a result
    with zeros and messages. It raises ``ValueError`` when this machine cannot sandbox
    the submission safely (:func:`require_isolation`): the job is then recorded as a
    grading failure, not as the student's grade.
    """
    require_isolation(job.settings)
    root = Path(job.settings.scratch_root)
    if not root.is_dir():  # a worker of another machine: its own root, closed to others
        root.mkdir(parents=True, exist_ok=True)
        root.chmod(0o711)
    scratch = Path(tempfile.mkdtemp(prefix=f"{job.student}-", dir=root))
    scratch.chmod(0o711)
    work = _Work(job, scratch, Deadline(job.settings.limits.submission_timeout_s))
    try:
        for name, step in STEPS:
            start = time.perf_counter()
            step(work)
            work.timings[name] = round(time.perf_counter() - start, 3)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    scores, max_scores = _scores(work)
    files = work.submission.files
    return SubmissionResult(
        job.student,
        job.settings.layout.name,
        work.submission.digest,
        scores,
        max_scores,
        tuple(work.checks),
        _problems(work),
        work.notebooks,
        _text(files.get("timestamp.txt")),
        work.timings,
        _text(files.get("submission_secret.txt"), strip=False),  # hashed as it is
        work.moves,
        dict(job.shared),
    )
