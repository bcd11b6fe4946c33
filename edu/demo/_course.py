"""A course folder in nbgrader's layout, built from the repository's assignments.

For each assignment (the homework, and the bonus Lab 4, ``lab4``),
``<course>/source/<assignment>`` is a copy of the instructor's notebooks,
``release/<assignment>`` what nbgrader's ``generate_assignment`` makes of them (with the
gradebook entries it records), ``submitted/<student>/<assignment>`` the students' files
as ``nbgrader collect`` leaves them (with ``timestamp.txt`` and
``submission_secret.txt``), and ``grader/`` the hidden checks of both: exactly what
``edu grade --course`` expects. Its ``nbgrader_config.py`` names the course, its
gradebook and an exchange folder of its own, so that nbgrader's commands
(``generate_feedback``, ``release_feedback``, ``export``, formgrader) work in it as they
are.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Mapping
from pathlib import Path

import nbformat

from edu.demo._samples import SampleSubmission
from edu.grading._assignment import put_tools_on_path

__all__ = ["ASSIGNMENT", "ASSIGNMENTS", "COURSE_ID", "build_course", "course_repository"]

ASSIGNMENT = "homework"
"""The demo's main assignment: ``solutions/homework``."""

ASSIGNMENTS = (ASSIGNMENT, "lab4")
"""The assignments the demo grades, in order: the homework, then the bonus Lab 4."""

COURSE_ID = "edu-demo"
"""The demo course's nbgrader course id."""

_CONFIG = f'''"""nbgrader configuration of the course demo (written by `edu demo`).

Paths are relative to this file, so the folder can be moved. The exchange, where
`nbgrader release_feedback` puts the students' pages, is the course's own
`exchange/` folder; a real course shares one exchange (`/srv/nbgrader/exchange` by
default) with its students. `nbgrader export` writes `nbgrader_export.csv`: its
default, `grades.csv`, is the table `edu grade` writes.
"""

import os

c = get_config()  # noqa: F821 - provided by traitlets when it loads this file

here = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "{COURSE_ID}"
c.CourseDirectory.root = here
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(here, "gradebook.db")
c.Exchange.root = os.path.join(here, "exchange")
c.CsvExportPlugin.to = os.path.join(here, "nbgrader_export.csv")
'''


def course_repository() -> Path:
    """The repository this ``edu`` runs from: it holds ``solutions/`` and ``grader/``.

    Raises
    ------
    FileNotFoundError
        When ``edu`` is installed without its repository (a wheel): the demo needs the
        instructor's notebooks and the hidden checks, which are not package data.
    """
    root = Path(__file__).resolve().parents[2]
    needed = (*(f"solutions/{name}" for name in ASSIGNMENTS), "grader")
    missing = [name for name in needed if not (root / name).is_dir()]
    if missing:
        raise FileNotFoundError(
            f"the course demo needs the course repository, but {root} has no "
            f"{' or '.join(missing)}: clone the repository and install it with "
            "`pip install -e .` to run the demo"
        )
    return root


def _generate_release(course: Path, assignment: str) -> None:
    from nbgrader.apps.api import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    put_tools_on_path()
    config = Config()
    config.CourseDirectory.root = str(course)
    api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
    outcome = api.generate_assignment(assignment, force=True, create=True)
    if not outcome["success"]:
        raise RuntimeError(f"nbgrader generate_assignment failed:\n{outcome.get('log', '')}")


def _secret(student: str) -> bytes:
    """A ``submission_secret.txt`` as ``nbgrader submit`` writes it (128 hex digits)."""
    return hashlib.sha512(f"{COURSE_ID}/{student}".encode()).hexdigest().encode()


def _read_notebooks(folder: Path) -> dict[str, nbformat.NotebookNode]:
    return {p.stem: nbformat.read(p, as_version=4) for p in sorted(folder.glob("*.ipynb"))}


def build_course(
    course: Path,
    students: Mapping[str, SampleSubmission],
    checkpoints: Mapping[str, Path],
    repository: Path | None = None,
    *,
    assignment: str = ASSIGNMENT,
) -> Path:
    """Write an assignment, its release and one submission per student into a course folder.

    Called once per assignment on the same folder, it builds a course of several.

    Parameters
    ----------
    course : Path
        An empty or missing folder.
    students : mapping of str to SampleSubmission
        Student id -> the builder of their submission (:data:`SAMPLE_SUBMISSIONS`).
    checkpoints : mapping of str to Path
        The checkpoints the full solution submits, by checkpoint name. The builders
        run after the hidden checks (with the reference checkpoints) are copied into
        ``course / "grader"``.
    repository : Path, optional
        Where ``solutions/`` and ``grader/`` are; default :func:`course_repository`.
    assignment : str, default "homework"
        The assignment, a folder of ``solutions/`` (one of :data:`ASSIGNMENTS`).

    Returns
    -------
    Path
        ``course``.
    """
    repository = repository or course_repository()
    course.mkdir(parents=True, exist_ok=True)
    (course / "nbgrader_config.py").write_text(_CONFIG)
    (course / "exchange").mkdir(exist_ok=True)
    shutil.copytree(repository / "solutions" / assignment, course / "source" / assignment)
    _generate_release(course, assignment)
    release = _read_notebooks(course / "release" / assignment)
    solutions = _read_notebooks(course / "source" / assignment)
    shutil.copytree(
        repository / "grader",
        course / "grader",
        ignore=shutil.ignore_patterns("__pycache__"),
        dirs_exist_ok=True,
    )
    for student, build in students.items():
        notebooks, files = build(release, solutions, course, checkpoints)
        folder = course / "submitted" / student / assignment
        folder.mkdir(parents=True)
        for stem, notebook in notebooks.items():
            nbformat.write(notebook, folder / f"{stem}.ipynb")
        for name, data in {"submission_secret.txt": _secret(student), **files}.items():
            (folder / name).write_bytes(data)
    return course
