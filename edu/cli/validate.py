"""``edu validate``: the check students run on their folder before they submit it."""

from __future__ import annotations

import argparse
from pathlib import Path

import edu
from edu.cli._common import HelpFormatter
from edu.notebook.release import ASSIGNMENT, RELEASE_DIRECTORY


def default_release(folder: Path | None = None) -> Path:
    """The student release beside the package's source that ``folder`` is a copy of.

    Of the assignments in ``assignments/`` (``homework``, the bonus ``lab4``), the one
    that has the most notebooks of the same names as ``folder``'s; ``assignments/homework``
    when there is no folder or no notebook in common.
    """
    releases = Path(edu.__file__).resolve().parents[1] / RELEASE_DIRECTORY
    fallback = releases / ASSIGNMENT
    if folder is None or not releases.is_dir():
        return fallback
    held = {path.name for path in Path(folder).glob("*.ipynb")}
    shared = {
        release: len(held & {path.name for path in release.glob("*.ipynb")})
        for release in sorted(releases.iterdir())
        if release.is_dir()
    }
    best = max(shared, key=lambda release: (shared[release], release == fallback), default=None)
    return best if best is not None and shared[best] else fallback


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``validate`` subcommand."""
    parser = subparsers.add_parser(
        "validate",
        help="check a homework or lab4 folder before submitting it",
        description=(
            "Check the folder you will submit, as the grader will read it: every notebook "
            "is there, valid and of this assignment; every function you write is defined "
            "with the release's signature and passes the visible tests, run in the "
            "grading sandbox; every checkpoint is there, loads safely, fits its model and "
            "has the sparsity and weight levels its part asks for. Prints what to fix; "
            "exit status 0 only when nothing needs fixing. Accuracy and the hidden tests "
            "are checked when the assignment is graded."
        ),
        formatter_class=HelpFormatter,
    )
    parser.add_argument("folder", type=Path, help="the folder you will submit")
    parser.add_argument(
        "--release",
        type=Path,
        default=None,
        help="the student release of the assignment (its notebooks); default: the one of "
        f"{RELEASE_DIRECTORY}/ whose notebooks the folder holds, else {default_release()}",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Validate ``args.folder``; return 0 when it is ready to submit, else 1."""
    from edu.grading import validate

    if not args.folder.is_dir():
        raise FileNotFoundError(f"{args.folder} is not a folder")
    release = args.release or default_release(args.folder)
    if not release.is_dir():
        raise FileNotFoundError(
            f"no student release in {release}: pass --release (the assignment's folder)"
        )
    validation = validate(args.folder, release)
    print(validation.report())
    return 0 if validation.ok else 1
