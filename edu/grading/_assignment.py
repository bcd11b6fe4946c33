"""The course folder and the assignment as nbgrader's gradebook records it.

:class:`Course` reads the course folder's ``nbgrader_config.py`` (where the source,
submitted, autograded and feedback folders are, and the gradebook) the way nbgrader's
commands do. :class:`AssignmentLayout` is what grading needs to know of an
assignment: its notebooks, and of each the cells nbgrader tracks (grade id, type,
locked, points and the instructor's source, which is what a locked cell is restored
to). It is read from the gradebook, so it is the assignment as it was released, and
is a plain frozen value that travels to the worker processes.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.apps.api import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
from traitlets.config import Config, PyFileConfigLoader

__all__ = ["AssignmentLayout", "Course", "NotebookLayout", "SourceCell", "put_tools_on_path"]


def put_tools_on_path() -> None:
    """Put this interpreter's ``bin`` folder on ``PATH`` (for this process and its children).

    nbgrader's gradebook runs the ``alembic`` command of its environment; a virtual
    environment used without being activated does not have it on ``PATH``.
    """
    tools = os.path.dirname(sys.executable)
    path = os.environ.get("PATH", "")
    if tools not in path.split(os.pathsep):
        os.environ["PATH"] = os.pathsep.join([tools, path]) if path else tools


@dataclass(frozen=True)
class SourceCell:
    """One cell nbgrader tracks, as the instructor wrote it."""

    grade_id: str
    cell_type: str
    source: str
    locked: bool
    solution: bool
    points: float | None

    @property
    def autograded(self) -> bool:
        """A test cell: graded code whose score nbgrader computes automatically."""
        return self.points is not None and self.cell_type == "code" and not self.solution


@dataclass(frozen=True)
class NotebookLayout:
    """The tracked cells of one notebook of the assignment."""

    name: str
    cells: tuple[SourceCell, ...]

    def cell(self, grade_id: str) -> SourceCell:
        """The cell with this grade id (``KeyError`` if there is none)."""
        for cell in self.cells:
            if cell.grade_id == grade_id:
                return cell
        raise KeyError(grade_id)

    @property
    def grade_ids(self) -> frozenset[str]:
        """Every tracked grade id."""
        return frozenset(cell.grade_id for cell in self.cells)

    @property
    def setup(self) -> tuple[SourceCell, ...]:
        """Locked cells that are neither graded nor solutions (imports and data)."""
        return tuple(c for c in self.cells if c.locked and c.points is None and not c.solution)


@dataclass(frozen=True)
class AssignmentLayout:
    """An assignment's notebooks and their tracked cells.

    Attributes
    ----------
    name : str
        The assignment id.
    notebooks : tuple of NotebookLayout
        In name order.
    """

    name: str
    notebooks: tuple[NotebookLayout, ...]

    def notebook(self, name: str) -> NotebookLayout:
        """The notebook of this name (without ``.ipynb``)."""
        for notebook in self.notebooks:
            if notebook.name == name:
                return notebook
        raise KeyError(name)

    @property
    def autograded(self) -> dict[str, float]:
        """Points of every autograded cell, by grade id, in notebook order."""
        return {
            cell.grade_id: cell.points
            for notebook in self.notebooks
            for cell in notebook.cells
            if cell.autograded
        }

    @property
    def max_score(self) -> float:
        """Total points of the assignment, manual cells included."""
        return sum(c.points or 0.0 for n in self.notebooks for c in n.cells)

    @classmethod
    def from_gradebook(cls, db_url: str, assignment: str) -> AssignmentLayout:
        """Read the layout of ``assignment`` from the gradebook at ``db_url``.

        Raises
        ------
        KeyError
            If the gradebook has no such assignment.
        """
        put_tools_on_path()
        with Gradebook(db_url) as gradebook:
            try:
                record = gradebook.find_assignment(assignment)
            except MissingEntry:
                raise KeyError(f"assignment {assignment!r} is not in the gradebook") from None
            notebooks = []
            for notebook in sorted(record.notebooks, key=lambda n: n.name):
                points = {cell.name: float(cell.max_score) for cell in notebook.grade_cells}
                solutions = {cell.name for cell in notebook.solution_cells}
                cells = tuple(
                    SourceCell(
                        cell.name,
                        cell.cell_type,
                        cell.source or "",
                        bool(cell.locked),
                        cell.name in solutions,
                        points.get(cell.name),
                    )
                    for cell in sorted(notebook.source_cells, key=lambda c: c.name)
                )
                notebooks.append(NotebookLayout(notebook.name, cells))
        return cls(assignment, tuple(notebooks))

    @classmethod
    def from_notebooks(cls, folder: str | os.PathLike) -> AssignmentLayout:
        """Read the layout from the source notebooks in ``folder`` (no gradebook).

        The assignment is named after the folder. Used to run the hidden checks on
        one submission without a course's gradebook (``pytest grader/``).
        """
        folder = Path(folder)
        notebooks = []
        for path in sorted(folder.glob("*.ipynb")):
            cells = []
            for cell in nbformat.read(path, as_version=4).cells:
                meta = cell.metadata.get("nbgrader", {})
                if "grade_id" not in meta:
                    continue
                cells.append(
                    SourceCell(
                        meta["grade_id"],
                        cell.cell_type,
                        cell.source,
                        bool(meta.get("locked")),
                        bool(meta.get("solution")),
                        float(meta["points"]) if meta.get("grade") else None,
                    )
                )
            notebooks.append(
                NotebookLayout(path.stem, tuple(sorted(cells, key=lambda c: c.grade_id)))
            )
        if not notebooks:
            raise FileNotFoundError(f"no notebooks in {folder}")
        return cls(folder.name, tuple(notebooks))


class Course:
    """A course folder in nbgrader's layout, configured by its ``nbgrader_config.py``.

    Parameters
    ----------
    root : path-like
        The course folder; its ``nbgrader_config.py`` is read if there is one.
    """

    def __init__(self, root: str | os.PathLike) -> None:
        put_tools_on_path()
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise FileNotFoundError(f"course folder {self.root} does not exist")
        self.config = Config()
        if (self.root / "nbgrader_config.py").is_file():
            loader = PyFileConfigLoader("nbgrader_config.py", path=str(self.root))
            self.config.merge(loader.load_config())
        self.config.CourseDirectory.root = str(self.root)
        self.coursedir = CourseDirectory(config=self.config)

    def folder(self, step: str) -> Path:
        """The folder of an nbgrader step: ``"source"``, ``"submitted"``, ...."""
        return self.root / getattr(self.coursedir, f"{step}_directory")

    @property
    def db_url(self) -> str:
        """The gradebook's SQLAlchemy URL."""
        return self.coursedir.db_url

    @property
    def db_path(self) -> Path | None:
        """The gradebook file, when it is SQLite."""
        prefix = "sqlite:///"
        return Path(self.db_url[len(prefix) :]) if self.db_url.startswith(prefix) else None

    def submissions(self, assignment: str) -> dict[str, Path]:
        """``{student: folder}`` of every ``submitted/<student>/<assignment>/``, by name."""
        submitted = self.folder("submitted")
        if not submitted.is_dir():
            return {}
        return {
            student.name: student / assignment
            for student in sorted(submitted.iterdir())
            if student.is_dir() and not student.is_symlink() and (student / assignment).exists()
        }

    def layout(self, assignment: str) -> AssignmentLayout:
        """The assignment's layout, recorded from its source first if the gradebook lacks it.

        Recording runs nbgrader's ``generate_assignment`` with the release written to
        a temporary folder, so the course's own release is left as it is.
        """
        try:
            return AssignmentLayout.from_gradebook(self.db_url, assignment)
        except KeyError:
            pass
        source = self.folder("source") / assignment
        if not source.is_dir():
            raise FileNotFoundError(
                f"assignment {assignment!r} is neither in the gradebook nor in {source}"
            )
        with tempfile.TemporaryDirectory(prefix="edu-grade-release-") as release:
            config = Config(self.config)
            config.CourseDirectory.release_directory = release
            config.CourseDirectory.root = str(self.root)
            api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
            result = api.generate_assignment(assignment, force=True, create=True)
        if not result["success"]:
            raise RuntimeError(f"nbgrader could not record {assignment!r}: {result['error']}")
        return AssignmentLayout.from_gradebook(self.db_url, assignment)

    def template_gradebook(self) -> bytes:
        """A copy of the gradebook with every student removed (assignments kept).

        Each submission is autograded against its own copy of this, so no worker
        writes the course's gradebook and no sandbox could read another student's
        grades from it.
        """
        if self.db_path is None:
            raise ValueError(f"grading needs a SQLite gradebook, got {self.db_url}")
        with tempfile.TemporaryDirectory(prefix="edu-grade-db-") as folder:
            copy = Path(folder) / "gradebook.db"
            with sqlite3.connect(self.db_path) as source, sqlite3.connect(copy) as target:
                source.backup(target)
            source.close()
            target.close()
            with Gradebook(f"sqlite:///{copy}") as gradebook:
                for student in list(gradebook.students):
                    gradebook.remove_student(student.id)
            return copy.read_bytes()
