"""``edu demo``: the course's autograding, end to end, on a small sample class."""

from __future__ import annotations

import argparse
from pathlib import Path

from edu.cli._common import HelpFormatter, positive_int


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``demo`` subcommand."""
    parser = subparsers.add_parser(
        "demo",
        help="grade a sample class: full solution, untouched stub, partly wrong, hostile",
        description=(
            "Generate the student releases of the homework and of the bonus Lab 4 with "
            "nbgrader, create a course folder with four sample submissions of each "
            "(full_solution, with the reference checkpoints for the homework, "
            "untouched_stub, partly_wrong, hostile), grade each assignment as "
            "`edu grade --course OUT --assignment A --jobs N` does, and print the grade "
            "tables and where the feedback pages are. Exit status 1 if a full solution "
            "misses an autograded point or a stub earns one."
        ),
        formatter_class=HelpFormatter,
    )
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        help="the course folder to create (an earlier demo there is replaced)",
    )
    parser.add_argument(
        "--jobs", type=positive_int, default=2, help="submissions graded in parallel"
    )
    parser.add_argument(
        "--data-root",
        default=None,
        help="folder holding CIFAR-10 for the accuracy checks (default: $EDU_DATA_ROOT, "
        "then the per-user cache folder)",
    )
    parser.add_argument(
        "--download",
        action="store_true",
        help="download the original CIFAR-10 through torchvision if none is found",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the demo; return 0 when the full solution and the stub scored as promised."""
    from edu.data import load_cifar10
    from edu.demo import prepare_demo_folder, run_demo

    prepare_demo_folder(args.out)  # refuses a folder it did not make before any work
    test = load_cifar10("test", args.data_root, download=args.download)
    print(f"CIFAR-10 test split: {test.source}")
    outcome = run_demo(
        args.out, jobs=args.jobs, data_root=args.data_root, progress=not args.no_progress
    )
    print(f"\ncourse folder: {outcome.course}")
    print(f"gradebook:     {outcome.course / 'gradebook.db'}")
    print(f"grades:        {outcome.course / 'grades.csv'}")
    for assignment, graded in outcome.assignments.items():
        for student, page in sorted(graded.feedback.items()):
            print(f"feedback of {student} ({assignment}): {page}")
    for failure in outcome.failures:
        print(f"edu demo: unexpected: {failure}")
    return 1 if outcome.failures else 0
