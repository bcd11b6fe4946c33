"""One student's submission, read once into memory and checked for what it holds.

Everything is read before any of the student's code runs, so nothing a notebook does
while it is executed (writing a checkpoint, editing a notebook) changes what is
graded. Only regular files are read (a symbolic link to another student's work is
refused), within size limits. Each notebook is then classified:

- ``ok``: valid JSON, a valid notebook (nbformat 4), holding cells of this notebook;
- ``missing``: not in the submission;
- ``rejected``: too large, not JSON, not a notebook, or the notebook of another
  assignment or another part of this one (none of its graded cells belong here).

For an ``ok`` notebook the solution cells are taken by grade id, the way nbgrader
treats them: a duplicated cell counts once (the last copy, as nbgrader's
``DeduplicateIds`` keeps), a cell whose type was changed is read as the code it
holds (nbgrader's ``OverwriteCells`` turns it back), and a deleted one is reported.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import stat
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.utils import parse_utc

from edu.grading._assignment import AssignmentLayout, NotebookLayout
from edu.grading._limits import Limits

__all__ = [
    "NotebookSubmission",
    "Submission",
    "import_statements",
    "read_notebook",
    "read_submission",
]

_MAX_FILES = 200


@dataclass(frozen=True)
class NotebookSubmission:
    """What one notebook of the submission holds.

    Attributes
    ----------
    name : str
        The notebook's name, without ``.ipynb``.
    status : str
        ``"ok"``, ``"missing"`` or ``"rejected"``.
    message : str
        Why it is missing or rejected (empty when ok).
    solutions : dict of str to str
        Source of each code solution cell by grade id (the written answers, markdown
        solution cells, are graded by hand and not taken).
    imports : tuple of str
        Top-level import statements of the student's other code cells.
    notes : tuple of str
        What nbgrader will repair (duplicated, retyped, deleted cells).
    """

    name: str
    status: str
    message: str = ""
    solutions: dict[str, str] = field(default_factory=dict)
    imports: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Submission:
    """A submission folder's files and notebooks, as read at the start of grading.

    Attributes
    ----------
    student, assignment : str
        Whose and which.
    files : dict of str to bytes
        Every regular file by relative path (``timestamp.txt`` included).
    notebooks : dict of str to NotebookSubmission
        Every notebook of the assignment, by name.
    problems : tuple of str
        What was refused while reading (links, oversized files, ...).
    digest : str
        SHA-256 of the files' names and contents: unchanged submissions are not
        graded again.
    """

    student: str
    assignment: str
    files: dict[str, bytes]
    notebooks: dict[str, NotebookSubmission]
    problems: tuple[str, ...]
    digest: str


def _read_files(folder: Path, limits: Limits) -> tuple[dict[str, bytes], list[str]]:
    """Regular files under ``folder`` (no links followed), within the size limits."""
    files, problems = {}, []
    info = os.lstat(folder)
    if not stat.S_ISDIR(info.st_mode):
        return files, [f"{folder.name} is not a folder"]
    limit = max(limits.checkpoint_bytes, limits.notebook_bytes)
    for root, dirs, names in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
        for name in sorted(names):
            path = Path(root) / name
            relative = path.relative_to(folder).as_posix()
            info = os.lstat(path)
            if not stat.S_ISREG(info.st_mode):
                problems.append(f"{relative} is not a regular file (a link?); it was ignored")
            elif info.st_size > limit:
                problems.append(f"{relative} is larger than {limit >> 20} MiB; it was ignored")
            elif len(files) >= _MAX_FILES:
                problems.append(f"more than {_MAX_FILES} files; {relative} was ignored")
            else:
                files[relative] = path.read_bytes()
    return files, problems


def _digest(files: dict[str, bytes]) -> str:
    sha = hashlib.sha256()
    for name in sorted(files):
        sha.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return sha.hexdigest()


def import_statements(source: str) -> list[str]:
    """The top-level import statements of a code cell (magics and errors skipped)."""
    lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return []
    return [
        ast.unparse(node) for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)
    ]


def _grade_id(cell: dict) -> str | None:
    grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
    return grade_id if isinstance(grade_id, str) else None


def read_notebook(
    data: bytes | None, layout: NotebookLayout, assignment: AssignmentLayout, limits: Limits
) -> NotebookSubmission:
    """Classify one notebook file and take its solution cells (see the module docstring).

    Parameters
    ----------
    data : bytes or None
        The file's contents; ``None`` when it was not submitted.
    layout : NotebookLayout
        The notebook as released.
    assignment : AssignmentLayout
        The whole assignment, to recognise a notebook of another part.
    limits : Limits
        ``notebook_bytes`` is the largest file accepted.
    """
    name = layout.name
    if data is None:
        return NotebookSubmission(name, "missing", f"{name}.ipynb is not in the submission")
    if len(data) > limits.notebook_bytes:
        return NotebookSubmission(
            name, "rejected", f"{name}.ipynb is larger than {limits.notebook_bytes >> 20} MiB"
        )
    try:
        text = data.decode("utf-8")
        json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        return NotebookSubmission(
            name, "rejected", f"{name}.ipynb is not valid JSON ({error}); it cannot be graded"
        )
    try:
        notebook = nbformat.reads(text, as_version=4)
        nbformat.validate(notebook)
    except Exception as error:  # nbformat raises many types for a malformed notebook
        first = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
        return NotebookSubmission(
            name, "rejected", f"{name}.ipynb is not a valid Jupyter notebook ({first})"
        )
    cells = notebook.cells
    found = [grade_id for cell in cells if (grade_id := _grade_id(cell))]
    if not set(found) & layout.grade_ids:
        others = [n.name for n in assignment.notebooks if set(found) & n.grade_ids]
        where = (
            f"its cells are those of {others[0]}.ipynb"
            if others
            else f"none of its cells belong to assignment {assignment.name!r}"
        )
        return NotebookSubmission(name, "rejected", f"{name}.ipynb is not this notebook: {where}")
    notes = [
        f"the cell {grade_id!r} appears {count} times; the last copy is graded"
        for grade_id, count in sorted(Counter(found).items())
        if count > 1 and grade_id in layout.grade_ids
    ]
    solutions, imports = {}, []
    for cell in cells:
        grade_id = _grade_id(cell)
        source = cell.get("source", "")
        tracked = layout.cell(grade_id) if grade_id in layout.grade_ids else None
        if tracked is not None and tracked.solution and tracked.cell_type == "code":
            expected = tracked.cell_type
            if cell.cell_type != expected:
                notes.append(
                    f"the cell {grade_id!r} was changed to {cell.cell_type}; read as {expected}"
                )
            solutions[grade_id] = source  # the last copy wins
        elif cell.cell_type == "code" and grade_id is None:
            imports += import_statements(source)
    for cell in layout.cells:
        if cell.grade_id not in found:
            notes.append(f"the cell {cell.grade_id!r} was deleted; nbgrader restores it")
    return NotebookSubmission(name, "ok", "", solutions, tuple(imports), tuple(notes))


def _check_timestamp(files: dict[str, bytes], problems: list[str]) -> None:
    """Drop a ``timestamp.txt`` that is not a time: nbgrader would abort the submission."""
    data = files.get("timestamp.txt")
    if data is None:
        return
    try:
        parse_utc(data.decode().strip())
    except (ValueError, TypeError, OverflowError, UnicodeDecodeError):
        del files["timestamp.txt"]
        problems.append("timestamp.txt does not hold a date and time; it was ignored")


def read_submission(
    folder: Path, student: str, assignment: AssignmentLayout, limits: Limits
) -> Submission:
    """Read ``folder`` (``submitted/<student>/<assignment>``) into a :class:`Submission`.

    The digest covers every file read, an ignored ``timestamp.txt`` included.
    """
    files, problems = _read_files(Path(folder), limits)
    digest = _digest(files)
    _check_timestamp(files, problems)
    notebooks = {
        layout.name: read_notebook(files.get(f"{layout.name}.ipynb"), layout, assignment, limits)
        for layout in assignment.notebooks
    }
    return Submission(student, assignment.name, files, notebooks, tuple(problems), digest)
