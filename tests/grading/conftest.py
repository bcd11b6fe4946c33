"""Fixtures of the grading tests: limits small enough to hit quickly, the real assignment.

The assignment is the course's own (``solutions/homework``): the tests build their
submissions from its solution and release notebooks, so they break when the notebooks
and the grader drift apart.
"""

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

from edu.grading import AssignmentLayout, Limits, SandboxPolicy, resolve_user

REPO = Path(__file__).resolve().parents[2]
SOURCE = REPO / "solutions" / "homework"
CHECKS = REPO / "grader"

FAST_LIMITS = Limits(
    cell_timeout_s=20,
    submission_timeout_s=300,
    call_timeout_s=8.0,
    cpu_s=20,
    memory_bytes=1024 << 20,
    file_size_bytes=4 << 20,
    processes=32,
    output_bytes=1 << 20,
)


@pytest.fixture(scope="session")
def layout():
    """The homework as its source notebooks define it."""
    return AssignmentLayout.from_notebooks(SOURCE)


@pytest.fixture
def policy(tmp_path):
    """A sandbox policy with small limits that reads nothing but the Python environment."""
    tmp_path.chmod(0o711)
    return SandboxPolicy(FAST_LIMITS, resolve_user("nobody"), True)


def _run_sandboxed(policy, folder: Path, code: str, **replace) -> tuple[int, str, str]:
    """Run ``python -c code`` in the sandbox; return (returncode, stdout, stderr)."""
    if replace:
        policy = dataclasses.replace(policy, limits=dataclasses.replace(policy.limits, **replace))
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o711)
    command = policy.command(folder, [sys.executable, "-I", "-c", code], env={})
    completed = subprocess.run(command, timeout=120, check=False)
    out = (folder / "sandbox.stdout").read_text(errors="replace")
    err = (folder / "sandbox.stderr").read_text(errors="replace")
    return completed.returncode, out, err


@pytest.fixture(scope="session")
def as_root():
    """Whether the tests run as root (then the sandbox changes user)."""
    return os.geteuid() == 0


@pytest.fixture
def run_sandboxed():
    """``run(policy, folder, code, **limits)``: ``python -c code`` in the sandbox."""
    return _run_sandboxed


@pytest.fixture(scope="session")
def repo():
    """The repository's root folder."""
    return REPO


@pytest.fixture(scope="session")
def solution_notebooks():
    """The instructor's notebooks (with solutions), by name; copy before editing."""
    import nbformat

    return {path.stem: nbformat.read(path, as_version=4) for path in sorted(SOURCE.glob("*.ipynb"))}


def _replace_cell(notebook, grade_id: str, source: str | None = None, **changes):
    """A copy of ``notebook`` whose cell ``grade_id`` gets a new source (None: deleted)."""
    import copy

    notebook = copy.deepcopy(notebook)
    for index, cell in enumerate(notebook.cells):
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            if source is None and not changes:
                del notebook.cells[index]
            else:
                if source is not None:
                    cell.source = source
                for key, value in changes.items():
                    cell[key] = value
            return notebook
    raise KeyError(grade_id)


@pytest.fixture(scope="session")
def replace_cell():
    """``replace_cell(notebook, grade_id, source=None, **changes)`` -> edited copy."""
    return _replace_cell


def _write_submission(folder: Path, notebooks: dict, files: dict | None = None) -> Path:
    """Write notebooks (NotebookNode, raw bytes, or None to leave out) and files."""
    import nbformat

    folder.mkdir(parents=True, exist_ok=True)
    for name, content in notebooks.items():
        path = folder / f"{name}.ipynb"
        if content is None:
            continue
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            nbformat.write(content, path)
    for name, data in (files or {}).items():
        (folder / name).write_bytes(data)
    return folder


@pytest.fixture(scope="session")
def write_submission():
    """``write_submission(folder, {name: notebook | bytes | None}, {file: bytes})``."""
    return _write_submission


@pytest.fixture(scope="session")
def fast_limits():
    """Limits small enough for the tests to reach them quickly."""
    return FAST_LIMITS


@pytest.fixture(scope="session")
def make_policy(fast_limits):
    """``make_policy(*readable, **limits)``: a sandbox policy for the tests."""

    def make(*readable, **limits):
        return SandboxPolicy(
            dataclasses.replace(fast_limits, **limits),
            resolve_user("nobody"),
            True,
            tuple(map(str, readable)),
        )

    return make


@pytest.fixture(scope="session")
def bad_submissions():
    """``test_bad_submissions.py`` as a module: its fixture submissions, course builder,
    synthetic CIFAR-10 and limits, for the tests that grade a few of them in a class."""
    import importlib.util

    path = Path(__file__).with_name("test_bad_submissions.py")
    spec = importlib.util.spec_from_file_location("_bad_submissions", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def disguises():
    """``_disguises.py`` as a module: edits that change a checkpoint's weights and not
    what its network computes, for the tests of the copy refusal."""
    import importlib.util

    path = Path(__file__).with_name("_disguises.py")
    spec = importlib.util.spec_from_file_location("_disguises", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
