"""Autograding of the course's notebooks: hidden checks, a sandbox, nbgrader's gradebook.

- :func:`check` declares a hidden check (a pytest-style function worth some points of
  a grade cell); :func:`collect_checks` finds them in the checks folder (``grader/``),
  :func:`select_checks` those of one assignment (``homework`` or the bonus ``lab4``);
  :func:`expect_close` and friends fail them with messages a student can act on;
- :class:`GradingContext` gives the checks their fixtures for one
  :class:`Submission`: the student's functions running in a sandbox
  (:class:`StudentCode`), the submitted checkpoints (:class:`CheckpointSet`);
- :class:`Limits` and :class:`SandboxPolicy` say what a sandboxed process may use and
  see; :func:`probe_isolation` says what this machine allows;
- :func:`grade_submission` grades one submission (the steps of :data:`STEPS`: read,
  checks, nbgrader's autograde) into a :class:`SubmissionResult`; :func:`grade_course`
  grades a class on a ``concurrent.futures`` executor and records the results in
  nbgrader's gradebook, ``grades.csv`` and feedback pages: the checks' page of each
  student (:func:`feedback_html`) and the checks' results in the autograded notebooks
  that nbgrader's ``generate_feedback`` renders;
- :func:`validate` checks a folder before it is submitted (``edu validate``): the
  notebooks, the functions' signatures, the visible tests in the sandbox, the
  checkpoints;
- :class:`DailyLatePenalty` is a late penalty a course can choose in
  ``nbgrader_config.py``; :func:`assign_late_penalties` applies the course's.

The checks decide the grades; the student's code never runs in the grader's process.
"""

from edu.grading._assignment import AssignmentLayout, Course, NotebookLayout, SourceCell
from edu.grading._autograde import NotebookAutograde
from edu.grading._checkpoints import CheckpointSet, find_cifar10
from edu.grading._checks import (
    Check,
    CheckFailed,
    CheckResult,
    LimitReached,
    ReferenceUsed,
    StudentError,
    check,
    collect_checks,
    run_check,
    select_checks,
)
from edu.grading._compare import expect_close, expect_equal, expect_shape, show
from edu.grading._context import GradingContext, static_findings
from edu.grading._feedback import feedback_html
from edu.grading._gradebook import record_in_gradebook
from edu.grading._late import DailyLatePenalty, Lateness, assign_late_penalties
from edu.grading._limits import Limits, describe_exit
from edu.grading._outline import Outline, read_outline
from edu.grading._pipeline import (
    STEPS,
    GradingJob,
    GradingSettings,
    SubmissionResult,
    grade_submission,
)
from edu.grading._report import grades_csv, summary_table
from edu.grading._runner import CHECKS_FEEDBACK, CourseGrades, check_points, grade_course
from edu.grading._sandbox import Isolation, SandboxPolicy, probe_isolation, resolve_user
from edu.grading._student import Deadline, StudentCode
from edu.grading._submission import NotebookSubmission, Submission, read_submission
from edu.grading._validate import Finding, Validation, validate

__all__ = [
    "CHECKS_FEEDBACK",
    "STEPS",
    "AssignmentLayout",
    "Check",
    "CheckFailed",
    "CheckResult",
    "CheckpointSet",
    "Course",
    "CourseGrades",
    "DailyLatePenalty",
    "Deadline",
    "Finding",
    "GradingContext",
    "GradingJob",
    "GradingSettings",
    "Isolation",
    "Lateness",
    "LimitReached",
    "Limits",
    "NotebookAutograde",
    "NotebookLayout",
    "NotebookSubmission",
    "Outline",
    "ReferenceUsed",
    "SandboxPolicy",
    "SourceCell",
    "StudentCode",
    "StudentError",
    "Submission",
    "SubmissionResult",
    "Validation",
    "assign_late_penalties",
    "check",
    "check_points",
    "collect_checks",
    "describe_exit",
    "expect_close",
    "expect_equal",
    "expect_shape",
    "feedback_html",
    "find_cifar10",
    "grade_course",
    "grade_submission",
    "grades_csv",
    "probe_isolation",
    "read_outline",
    "read_submission",
    "record_in_gradebook",
    "resolve_user",
    "run_check",
    "select_checks",
    "show",
    "static_findings",
    "summary_table",
    "validate",
]
