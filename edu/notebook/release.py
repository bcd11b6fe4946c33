"""Generate the student release ``assignments/`` from the source notebooks ``solutions/``.

``solutions/<assignment>/`` is the single source of an assignment's notebooks (the
course has two: ``homework`` and the bonus ``lab4``); ``assignments/<assignment>/`` is
what nbgrader's ``generate_assignment`` makes of it (solutions replaced by stubs, hidden
tests removed, cells locked, checksums added) and is committed. This module runs the
real nbgrader, with the course's ``nbgrader_config.py`` at the repository root, and
checks that the committed release is exactly what nbgrader generates now::

    python -m edu.notebook.release            # regenerate every assignment's release
    python -m edu.notebook.release --check    # exit 1 if assignments/ is out of date
    python -m edu.notebook.release --assignment lab4   # one assignment only

nbgrader's output is deterministic for notebooks whose cells carry ids (format 4.5):
checksums are MD5 sums of cell contents, and no timestamps are written into the
notebooks, so files are compared byte for byte.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = ["ASSIGNMENT", "ReleaseError", "assignments", "differences", "generate", "main"]

ASSIGNMENT = "homework"
"""The course's main assignment: ``solutions/homework`` -> ``assignments/homework``."""

SOURCE_DIRECTORY = "solutions"
RELEASE_DIRECTORY = "assignments"


class ReleaseError(RuntimeError):
    """nbgrader could not generate the release; the message holds its output."""


def _check_root(root: Path, assignment: str) -> Path:
    root = Path(root).resolve()
    if not (root / "nbgrader_config.py").is_file():
        raise FileNotFoundError(
            f"{root} has no nbgrader_config.py: run this from the repository root or pass --root"
        )
    if not (root / SOURCE_DIRECTORY / assignment).is_dir():
        raise FileNotFoundError(f"no source notebooks in {root / SOURCE_DIRECTORY / assignment}")
    return root


def generate(
    root: str | os.PathLike = ".",
    assignment: str = ASSIGNMENT,
    release_directory: str | os.PathLike | None = None,
) -> Path:
    """Run ``nbgrader generate_assignment`` and return the folder it wrote.

    Parameters
    ----------
    root : str or path-like, default "."
        The repository root: it holds ``nbgrader_config.py`` and ``solutions/``.
    assignment : str, default "homework"
        The folder of ``solutions/`` to release.
    release_directory : str or path-like, optional
        Where to write ``<assignment>/``; default ``<root>/assignments``. Anything
        already in ``<release_directory>/<assignment>`` is replaced.

    Returns
    -------
    Path
        ``<release_directory>/<assignment>``.

    Raises
    ------
    FileNotFoundError
        If ``root`` has no ``nbgrader_config.py`` or no ``solutions/<assignment>``.
    ReleaseError
        If nbgrader fails (its output is in the message).

    Notes
    -----
    nbgrader runs in a child process (its applications are global singletons) with
    ``--no-db``: the release needs no gradebook, and none is written. ``--force``
    replaces an earlier release of the assignment.
    """
    root = _check_root(Path(root), assignment)
    release = Path(release_directory or root / RELEASE_DIRECTORY).resolve()
    command = [
        sys.executable,
        "-m",
        "nbgrader",
        "generate_assignment",
        assignment,
        "--no-db",
        "--force",
        f"--CourseDirectory.root={root}",
        f"--CourseDirectory.release_directory={release}",
    ]
    completed = subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise ReleaseError(
            f"nbgrader generate_assignment {assignment} failed "
            f"(exit {completed.returncode}):\n{completed.stdout}{completed.stderr}"
        )
    return release / assignment


def assignments(root: str | os.PathLike = ".") -> list[str]:
    """The course's assignments: the folders of ``<root>/solutions/``, by name.

    Parameters
    ----------
    root : str or path-like, default "."
        The repository root.

    Returns
    -------
    list of str
        E.g. ``["homework", "lab4"]``; empty when there is no ``solutions/`` folder.
    """
    source = Path(root) / SOURCE_DIRECTORY
    if not source.is_dir():
        return []
    return sorted(p.name for p in source.iterdir() if p.is_dir() and not p.name.startswith("."))


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def differences(root: str | os.PathLike = ".", assignment: str = ASSIGNMENT) -> list[str]:
    """Regenerate the release in a temporary folder and list how the committed one differs.

    Parameters
    ----------
    root : str or path-like, default "."
        The repository root.
    assignment : str, default "homework"

    Returns
    -------
    list of str
        One line per file that is missing from ``assignments/<assignment>``, extra
        there, or different from what nbgrader generates now; empty when the
        committed release is up to date.
    """
    root = _check_root(Path(root), assignment)
    committed = root / RELEASE_DIRECTORY / assignment
    with tempfile.TemporaryDirectory() as folder:
        fresh = generate(root, assignment, folder)
        expected, found = _files(fresh), _files(committed) if committed.is_dir() else set()
        problems = [f"missing from {committed}: {name}" for name in sorted(expected - found)]
        problems += [
            f"not generated from solutions/, extra: {name}" for name in sorted(found - expected)
        ]
        problems += [
            f"differs from what nbgrader generates: {committed / name}"
            for name in sorted(expected & found)
            if not filecmp.cmp(fresh / name, committed / name, shallow=False)
        ]
    return problems


def main(argv: list[str] | None = None) -> int:
    """Command line: regenerate the releases, or ``--check`` that they are up to date."""
    parser = argparse.ArgumentParser(
        prog="python -m edu.notebook.release",
        description="Generate assignments/ from solutions/ with nbgrader generate_assignment.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--root", type=Path, default=Path("."), help="the repository root")
    parser.add_argument(
        "--assignment",
        action="append",
        default=None,
        help="an assignment to release (repeat for several; default: every folder of solutions/)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="do not write; exit 1 if assignments/ differs from a fresh release",
    )
    args = parser.parse_args(argv)
    names = args.assignment or assignments(args.root)
    if not names:
        names = [ASSIGNMENT]  # reported by _check_root: no source notebooks
    if args.check:
        problems = [line for name in names for line in differences(args.root, name)]
        for line in problems:
            print(line, file=sys.stderr)
        if problems:
            print("run `python -m edu.notebook.release` to regenerate", file=sys.stderr)
            return 1
        for name in names:
            print(f"{RELEASE_DIRECTORY}/{name} is up to date with {SOURCE_DIRECTORY}/")
        return 0
    for name in names:
        print(f"wrote {generate(args.root, name)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
