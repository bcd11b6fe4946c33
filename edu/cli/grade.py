"""``edu grade``: autograde every submission of an assignment in a course folder."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
from pathlib import Path

from edu.cli._cluster import cluster_executor
from edu.cli._common import HelpFormatter, positive_float, positive_int

_MIB = 1 << 20


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``grade`` subcommand."""
    from edu.grading import Limits

    defaults = Limits()
    parser = subparsers.add_parser(
        "grade",
        help="autograde the submissions of a course folder (nbgrader + hidden checks)",
        description=(
            "Grade every submission in <course>/submitted/<student>/<assignment>/: nbgrader's "
            "autograde with a sandboxed kernel, the hidden checks of the student's functions "
            "and checkpoints (in sandboxes), scores written to nbgrader's gradebook, "
            "grades.csv, a page of the checks per student, the checks' results in the "
            "autograded notebooks (for nbgrader generate_feedback), late penalties, and a "
            "summary table. Submissions that did not change since they were graded are "
            "skipped."
        ),
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--course", type=Path, default=Path("."), help="the course folder")
    parser.add_argument(
        "--assignment",
        default=None,
        help="the assignment id (default: the course's only assignment)",
    )
    parser.add_argument(
        "--jobs", type=positive_int, default=1, help="submissions graded in parallel"
    )
    parser.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="grade on the Dask cluster of this scheduler (e.g. tcp://host:8786) instead "
        "of local processes; the course folder and CIFAR-10 must be at the same paths on "
        "every worker",
    )
    parser.add_argument(
        "--student",
        action="append",
        default=None,
        metavar="ID",
        help="grade only this student (repeat for several)",
    )
    parser.add_argument(
        "--checks", type=Path, default=None, help="the hidden checks (default: <course>/grader)"
    )
    parser.add_argument("--force", action="store_true", help="grade unchanged submissions again")
    parser.add_argument(
        "--data-root",
        default=None,
        help="folder holding CIFAR-10 for the accuracy checks (default: $EDU_DATA_ROOT, "
        "then the per-user cache folder)",
    )
    limits = parser.add_argument_group("limits (per submission)")
    limits.add_argument(
        "--cell-timeout",
        type=positive_int,
        default=defaults.cell_timeout_s,
        help="seconds one notebook cell may run",
    )
    limits.add_argument(
        "--submission-timeout",
        type=positive_int,
        default=defaults.submission_timeout_s,
        help="seconds for everything of one submission",
    )
    limits.add_argument(
        "--call-timeout",
        type=positive_float,
        default=defaults.call_timeout_s,
        help="seconds one call into the student's functions may run",
    )
    limits.add_argument(
        "--memory-mb",
        type=positive_int,
        default=defaults.memory_bytes // _MIB,
        help="memory (data segment) of one sandboxed process, MiB",
    )
    limits.add_argument(
        "--output-mb",
        type=positive_int,
        default=defaults.output_bytes // _MIB,
        help="output one notebook may produce, MiB",
    )
    sandbox = parser.add_argument_group("sandbox")
    sandbox.add_argument(
        "--sandbox-user",
        default="nobody",
        help="user the sandboxes run as when grading as root",
    )
    sandbox.add_argument(
        "--no-namespaces",
        action="store_true",
        help="do not use mount/network/PID namespaces (limits and the user still apply)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def _only_assignment(course) -> str:
    from nbgrader.api import Gradebook

    names = set()
    source = course.folder("source")
    if source.is_dir():
        names |= {p.name for p in source.iterdir() if p.is_dir()}
    if course.db_path is not None and course.db_path.exists():
        with Gradebook(course.db_url) as gradebook:
            names |= {a.name for a in gradebook.assignments}
    if len(names) != 1:
        found = ", ".join(sorted(names)) or "none"
        raise ValueError(f"say which assignment to grade with --assignment (found: {found})")
    return names.pop()


def run(args: argparse.Namespace) -> int:
    """Grade the course and print where the results are."""
    from edu.grading import Course, Limits, grade_course

    limits = dataclasses.replace(
        Limits(),
        cell_timeout_s=args.cell_timeout,
        submission_timeout_s=args.submission_timeout,
        call_timeout_s=args.call_timeout,
        memory_bytes=args.memory_mb * _MIB,
        output_bytes=args.output_mb * _MIB,
    )
    assignment = args.assignment or _only_assignment(Course(args.course))
    with contextlib.ExitStack() as stack:
        executor = None
        if args.scheduler is not None:
            try:
                executor = stack.enter_context(cluster_executor(args.scheduler))
            except ModuleNotFoundError as error:
                raise ValueError(str(error)) from error
        grades = grade_course(
            args.course,
            assignment,
            students=args.student,
            jobs=args.jobs,
            executor=executor,
            checks_dir=args.checks,
            limits=limits,
            sandbox_user=args.sandbox_user,
            namespaces=not args.no_namespaces,
            data_root=args.data_root,
            force=args.force,
            progress=not args.no_progress,
        )
    print(f"\ngraded {len(grades.graded)}, unchanged {len(grades.skipped)}")
    print(f"grades: {grades.csv_path}")
    print(f"similar solutions: {grades.csv_path.with_name('similarity.html')}")
    if grades.feedback:
        folder = next(iter(grades.feedback.values())).parent.parent.parent
        print(f"checks' pages: {folder}/<student>/{assignment}/checks.html")
        print(
            "nbgrader's feedback (manual grades included): "
            f"nbgrader generate_feedback {assignment}, then nbgrader release_feedback {assignment}"
        )
    return 0
