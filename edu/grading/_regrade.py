"""When a grade is stale: the grader's fingerprint, and the cached result of each student.

``edu grade`` keeps each student's last result in ``<course>/.grading/<assignment>/``
with a fingerprint of everything the grade depends on besides the submission: the
hidden checks, all of ``edu`` (the grading code, and the reference the checks compare
with, the checkpoints' specifications, the sandbox's ``edu``), the limits, the
assignment's layout, and the versions of Python and of the libraries that run the
checks and the notebooks. A submission is graded again when its files or this
fingerprint change. Files are hashed with their path relative to their root, so that
moving a file, or two files of the same name, change it.

A cache entry that cannot be read (truncated, edited, an older format) is a miss: the
submission is graded again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import json
import sys
from pathlib import Path

import edu
from edu.grading._autograde import NotebookAutograde
from edu.grading._checks import CheckResult
from edu.grading._pipeline import GradingSettings, SubmissionResult
from edu.notebook import SUBMISSION_CHECKPOINTS

__all__ = ["fingerprint", "load_result", "save_result"]

DEPENDENCIES = ("numpy", "torch", "nbgrader", "nbconvert", "nbformat", "ipykernel")
"""The libraries whose versions are part of the fingerprint."""


def _versions() -> str:
    found = []
    for name in DEPENDENCIES:
        try:
            found.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            found.append(f"{name} missing")
    return f"python {sys.version}; " + ", ".join(found)


def _hash_tree(sha, root: Path, label: str) -> None:
    """Every file under ``root`` (caches left out), by its path relative to ``root``."""
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            relative = path.relative_to(root).as_posix()
            sha.update(f"{label}/{relative}\0".encode())
            sha.update(hashlib.sha256(path.read_bytes()).digest())


def fingerprint(checks_dir: Path, settings: GradingSettings) -> str:
    """The SHA-256 of what a grade depends on besides the submission (module docstring)."""
    sha = hashlib.sha256()
    for part in (
        edu.__version__,
        settings.limits,
        settings.layout,
        sorted(SUBMISSION_CHECKPOINTS.items()),
        _versions(),
    ):
        sha.update(f"{part!r}\0".encode())
    _hash_tree(sha, Path(checks_dir), "checks")
    _hash_tree(sha, Path(edu.__file__).parent, "edu")
    return sha.hexdigest()


def save_result(path: Path, result: SubmissionResult, fingerprint: str) -> None:
    """Write ``result`` and the fingerprint it was graded under to ``path``."""
    plain = dataclasses.asdict(result)
    for outcome in plain["notebooks"].values():
        outcome["notebook"] = None  # written to autograded/, not kept twice
    path.write_text(json.dumps({"fingerprint": fingerprint, "result": plain}, indent=1))


def load_result(path: Path) -> tuple[str, SubmissionResult] | None:
    """``(fingerprint, result)`` from ``path``; ``None`` when it is missing or unreadable."""
    try:
        data = json.loads(path.read_text())
        plain = data["result"]
        plain["checks"] = tuple(CheckResult(**c) for c in plain["checks"])
        plain["problems"] = tuple(plain["problems"])
        plain["notebooks"] = {k: NotebookAutograde(**v) for k, v in plain["notebooks"].items()}
        return str(data["fingerprint"]), SubmissionResult(**plain)
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None
