"""``edu validate``: the check students run on their folder before they submit it."""

from __future__ import annotations

import argparse
from pathlib import Path

import edu
from edu.notebook.release import ASSIGNMENT, RELEASE_DIRECTORY


def default_release() -> Path:
    """The student release beside the package's source (``assignments/homework``)."""
    return Path(edu.__file__).resolve().parents[1] / RELEASE_DIRECTORY / ASSIGNMENT


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``validate`` subcommand."""
    parser = subparsers.add_parser(
        "validate",
        help="check a homework folder before submitting it",
        description=(
            "Check the folder you will submit, as the grader will read it: every notebook "
            "is there, valid and of this assignment; every function you write is defined "
            "with the release's signature and passes the visible tests, run in the "
            "grading sandbox; every checkpoint is there, loads safely, fits its model and "
            "has the sparsity and weight levels its part asks for. Prints what to fix; "
            "exit status 0 only when nothing needs fixing. Accuracy and the hidden tests "
            "are checked when the homework is graded."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("folder", type=Path, help="the folder you will submit")
    parser.add_argument(
        "--release",
        type=Path,
        default=default_release(),
        help="the student release of the assignment (its notebooks)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Validate ``args.folder``; return 0 when it is ready to submit, else 1."""
    from edu.grading import validate

    if not args.folder.is_dir():
        raise FileNotFoundError(f"{args.folder} is not a folder")
    if not args.release.is_dir():
        raise FileNotFoundError(
            f"no student release in {args.release}: pass --release (the assignment's folder)"
        )
    validation = validate(args.folder, args.release)
    print(validation.report())
    return 0 if validation.ok else 1
