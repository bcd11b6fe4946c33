"""Run the course demo: build the sample class, grade both assignments, check the promises."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from edu.demo._course import ASSIGNMENT, ASSIGNMENTS, build_course, course_repository
from edu.demo._samples import LAB4_SAMPLE_SUBMISSIONS, SAMPLE_SUBMISSIONS, SampleSubmission

__all__ = ["AssignmentGrades", "DemoOutcome", "prepare_demo_folder", "run_demo"]

_MARKER = ".edu-demo"
"""A file in every demo folder, so that running the demo again may replace it."""


@dataclass(frozen=True)
class AssignmentGrades:
    """What the demo graded of one assignment.

    Attributes
    ----------
    scores : dict of str to (float, float)
        Student -> (autograded score, autograded points available).
    feedback : dict of str to Path
        Student -> their feedback page.
    table : str
        The summary table ``edu grade`` prints.
    """

    scores: dict[str, tuple[float, float]]
    feedback: dict[str, Path]
    table: str


@dataclass(frozen=True)
class DemoOutcome:
    """What the demo graded, and whether the full solutions and the stubs scored as promised.

    Attributes
    ----------
    course : Path
        The course folder (``source/``, ``release/``, ``submitted/``, ``gradebook.db``,
        ``grades.csv``, ``feedback/``).
    assignments : dict of str to AssignmentGrades
        Each assignment graded (``homework``, ``lab4``), in order.
    failures : tuple of str
        The promises that did not hold (a full solution short of full marks, a stub
        above zero), each with the assignment and the checks that decided it; empty
        when the demo worked.
    """

    course: Path
    assignments: dict[str, AssignmentGrades]
    failures: tuple[str, ...]

    @property
    def scores(self) -> dict[str, tuple[float, float]]:
        """The homework's scores: student -> (autograded score, points available)."""
        return self.assignments[ASSIGNMENT].scores

    @property
    def feedback(self) -> dict[str, Path]:
        """The homework's feedback pages, by student."""
        return self.assignments[ASSIGNMENT].feedback

    @property
    def table(self) -> str:
        """The homework's summary table."""
        return self.assignments[ASSIGNMENT].table


def prepare_demo_folder(course: Path) -> Path:
    """Empty ``course`` for a new demo; refuse a non-empty folder the demo did not make.

    Raises
    ------
    FileExistsError
        If ``course`` exists, is not empty, and holds no earlier demo: nothing of it is
        touched.
    """
    course = Path(course)
    if course.exists():
        if not course.is_dir():
            raise FileExistsError(f"{course} exists and is not a folder")
        if any(course.iterdir()) and not (course / _MARKER).is_file():
            raise FileExistsError(
                f"{course} is not empty and was not made by `edu demo`; choose another --out folder"
            )
        shutil.rmtree(course)
    course.mkdir(parents=True)
    (course / _MARKER).write_text("made by `edu demo`; running the demo again replaces it\n")
    return course


def _failures(grades, assignment: str) -> tuple[str, ...]:
    failures = []
    solution = grades.results["full_solution"]
    if solution.score != solution.max_score:
        missed = ", ".join(
            f"{c.name}: {c.message}" for c in solution.checks if not c.passed
        ) or "; ".join(solution.problems)
        failures.append(
            f"{assignment}: the full solution scored {solution.score:g} of "
            f"{solution.max_score:g} ({missed})"
        )
    stub = grades.results["untouched_stub"]
    if stub.score != 0:
        passed = ", ".join(c.name for c in stub.checks if c.passed)
        failures.append(
            f"{assignment}: the untouched stub scored {stub.score:g}, expected 0 ({passed})"
        )
    return tuple(failures)


def run_demo(
    out: str | Path,
    *,
    checkpoints: Mapping[str, Path] | None = None,
    students: Mapping[str, SampleSubmission] | None = None,
    lab4_students: Mapping[str, SampleSubmission] | None = None,
    jobs: int = 2,
    data_root: str | None = None,
    limits=None,
    progress: bool = True,
    stream: TextIO | None = sys.stdout,
) -> DemoOutcome:
    """Build the sample class in ``out``, grade both assignments with ``edu grade``, report.

    Parameters
    ----------
    out : path-like
        The course folder to create (replaced if an earlier demo made it).
    checkpoints : mapping of str to Path, optional
        The checkpoints the full solution submits; default those of an independent
        run of the reference rows (:func:`edu.experiments.reference_checkpoints` of the
        course repository's ``grader/demo/``): the reference ones themselves are refused
        as copies.
    students : mapping of str to SampleSubmission, optional
        The class's homework; default :data:`SAMPLE_SUBMISSIONS`. It must hold
        ``full_solution`` and ``untouched_stub``, whose scores the demo checks.
    lab4_students : mapping of str to SampleSubmission, optional
        The class's submissions of the bonus Lab 4 (no checkpoint is given to them);
        default :data:`LAB4_SAMPLE_SUBMISSIONS`; empty: Lab 4 is left out. When not
        empty, it must hold ``full_solution`` and ``untouched_stub`` too.
    jobs : int, default 2
        Submissions graded in parallel.
    data_root : str, optional
        Where CIFAR-10 is, for the accuracy checks (default as in :mod:`edu.data`).
    limits : edu.grading.Limits, optional
        The grading limits (default ``edu grade``'s).
    progress : bool, default True
        Show the grading progress bar.
    stream : text file or None, default sys.stdout
        Where the grade tables go, each after its assignment's name.

    Returns
    -------
    DemoOutcome
    """
    from edu.experiments import DEMO_FOLDER, reference_checkpoints
    from edu.grading import grade_course

    classes = {
        ASSIGNMENTS[0]: dict(SAMPLE_SUBMISSIONS if students is None else students),
        ASSIGNMENTS[1]: dict(LAB4_SAMPLE_SUBMISSIONS if lab4_students is None else lab4_students),
    }
    if checkpoints is None:
        checkpoints = reference_checkpoints(course_repository() / DEMO_FOLDER)
    given = {ASSIGNMENT: dict(checkpoints)}  # Lab 4 has no checkpoint
    course = prepare_demo_folder(Path(out))
    classes = {name: class_ for name, class_ in classes.items() if class_ or name == ASSIGNMENT}
    for assignment, class_ in classes.items():
        build_course(course, class_, given.get(assignment, {}), assignment=assignment)
    graded, failures = {}, []
    for assignment in classes:
        if stream is not None:
            print(f"\n{assignment}:", file=stream)
        grades = grade_course(
            course,
            assignment,
            jobs=jobs,
            limits=limits,
            data_root=data_root,
            progress=progress,
            stream=stream,
        )
        graded[assignment] = AssignmentGrades(
            scores={s: (r.score, r.max_score) for s, r in sorted(grades.results.items())},
            feedback=dict(grades.feedback),
            table=grades.table,
        )
        failures += _failures(grades, assignment)
    return DemoOutcome(course=course, assignments=graded, failures=tuple(failures))
