"""The homework's outline: notebooks in homework order, their exercises, their graded cells.

nbgrader's gradebook knows an assignment's notebooks and cells but not their order, so
the feedback pages take it from the source notebooks: notebooks in homework order (by
the number in their name, ``part0`` before ``lab1``; then by name), and within each
notebook its graded cells in cell order, grouped by exercise, the ``##`` heading above
them. A notebook or cell the source folder lacks keeps the gradebook's name order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from edu.grading._assignment import AssignmentLayout

__all__ = ["Exercise", "NotebookOutline", "Outline", "homework_order", "read_outline"]

_POINTS = re.compile(r"\s*\([^()]*\bpoints?\b[^()]*\)\s*$")
"""A heading's trailing "(30 points)" or "(5 points, graded by hand)": pages show points."""


@dataclass(frozen=True)
class Exercise:
    """One exercise of a notebook: its heading and its graded cells (grade ids), in order."""

    title: str
    grade_ids: tuple[str, ...]


@dataclass(frozen=True)
class NotebookOutline:
    """One notebook: its name, its title (first ``#`` heading) and its exercises."""

    name: str
    title: str
    exercises: tuple[Exercise, ...]


@dataclass(frozen=True)
class Outline:
    """The assignment's notebooks in homework order, and the points of every graded cell."""

    notebooks: tuple[NotebookOutline, ...]
    points: dict[str, float]


def homework_order(name: str) -> tuple[int, str]:
    """Sort key of a notebook name: the first number in it, then the name itself."""
    number = re.search(r"\d+", name)
    return (int(number.group()) if number else 1 << 30, name)


def _heading(source: str, level: int) -> str | None:
    prefix = "#" * level + " "
    for line in source.splitlines():
        if line.startswith(prefix):
            return _POINTS.sub("", line[len(prefix) :].strip())
    return None


def _notebook_outline(name: str, graded: list[str], source: Path | None) -> NotebookOutline:
    """The outline of one notebook from its source, or one exercise when there is none."""
    if source is None or not source.is_file():
        return NotebookOutline(name, name, (Exercise(name, tuple(graded)),))
    notebook = nbformat.read(source, as_version=4)
    title, current, groups = None, name, {}
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            title = title or _heading(cell.source, 1)
            current = _heading(cell.source, 2) or current
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in graded:
            groups.setdefault(current, []).append(grade_id)
    placed = {g for ids in groups.values() for g in ids}
    rest = [g for g in graded if g not in placed]
    if rest:
        groups.setdefault("Other cells", []).extend(rest)
    exercises = tuple(Exercise(head, tuple(ids)) for head, ids in groups.items())
    return NotebookOutline(name, title or name, exercises)


def read_outline(layout: AssignmentLayout, source_folder: Path | None) -> Outline:
    """The outline of ``layout``'s graded cells (autograded and manual), ordered as in
    the source notebooks of ``source_folder`` (``source/<assignment>/``) where found."""
    notebooks = []
    for notebook in sorted(layout.notebooks, key=lambda n: homework_order(n.name)):
        graded = [cell.grade_id for cell in notebook.cells if cell.points is not None]
        path = Path(source_folder) / f"{notebook.name}.ipynb" if source_folder else None
        notebooks.append(_notebook_outline(notebook.name, graded, path))
    points = {
        c.grade_id: c.points for n in layout.notebooks for c in n.cells if c.points is not None
    }
    return Outline(tuple(notebooks), points)
