"""Hidden checks: how they are declared, found and run, and what a result holds.

A check is a plain pytest-style function in a module of the checks folder
(``grader/``), declared with :func:`check`::

    @check("test_soft_threshold", points=2)
    def test_soft_threshold_on_random_vectors(lab1):
        ...
        assert ..., "soft_threshold(v, 0.3) with v = [...]: expected [...], got [...]"

Its arguments name fixtures (``lab1``, ``checkpoints``, ...), which the grading
pipeline and ``pytest grader/ --submission DIR`` provide from the same
:class:`edu.grading.Submission`. A check passes (full points) unless it raises; an
``AssertionError`` (and :class:`CheckFailed`, its subclass) fails it with its
message, which the student reads in the feedback: it says what was expected and
what came back on which input, never the check's code. Any other exception is a bug
of the check, reported to the instructor as such.
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

__all__ = [
    "Check",
    "CheckFailed",
    "CheckResult",
    "LimitReached",
    "ReferenceUsed",
    "StudentError",
    "check",
    "collect_checks",
    "run_check",
    "select_checks",
]


class CheckFailed(AssertionError):
    """A check's verdict: the submission is wrong, and the message says how."""


class StudentError(CheckFailed):
    """The student's code raised an exception."""


class LimitReached(CheckFailed):
    """The student's code crashed or reached a limit (time, memory, output, ...)."""


class ReferenceUsed(CheckFailed):
    """The student's function calls or imports its counterpart in ``edu``."""


@dataclass(frozen=True)
class Check:
    """One hidden check: a function, its grade cell and its points."""

    function: Callable
    grade_id: str
    points: float
    module: str
    needs_data: bool = False

    @property
    def name(self) -> str:
        """The function's name, ``test_...``."""
        return self.function.__name__

    @property
    def description(self) -> str:
        """The first line of its docstring: what it checks, in words."""
        doc = inspect.getdoc(self.function) or self.name
        return doc.splitlines()[0]

    @property
    def fixtures(self) -> tuple[str, ...]:
        """The names of its arguments."""
        return tuple(inspect.signature(self.function).parameters)


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check on one submission.

    Attributes
    ----------
    grade_id, name, description : str
        Which check (its grade cell, function name and first docstring line).
    points, max_points : float
        Earned and possible.
    message : str
        Why it failed (empty when passed).
    kind : str
        ``"passed"``, ``"failed"``, ``"error"`` (the student's code raised),
        ``"limit"``, ``"reference"`` (used ``edu``'s counterpart), or
        ``"grader-error"`` (a bug of the check itself).
    """

    grade_id: str
    name: str
    description: str
    points: float
    max_points: float
    message: str = ""
    kind: str = "passed"

    @property
    def passed(self) -> bool:
        """Whether it earned its points."""
        return self.kind == "passed"


def check(
    grade_id: str, points: float, *, needs_data: bool = False
) -> Callable[[Callable], Callable]:
    """Declare a hidden check worth ``points`` of the grade cell ``grade_id``.

    The function is returned unchanged (pytest runs it as it is), with attributes
    ``grade_id``, ``points`` and ``needs_data`` (it evaluates on CIFAR-10, so it
    cannot run where the data is not found). The points of the checks of one grade
    cell add up to the cell's points in the gradebook.

    Examples
    --------
    >>> @check("test_gradient", points=2)
    ... def test_gradient_at_zero(lab1):
    ...     '''The gradient at w = 0 is -2 X^T y.'''
    >>> test_gradient_at_zero.grade_id, test_gradient_at_zero.points
    ('test_gradient', 2)
    """
    if not points > 0:
        raise ValueError(f"points must be positive, got {points}")

    def mark(function: Callable) -> Callable:
        function.grade_id = grade_id
        function.points = points
        function.needs_data = needs_data
        return function

    return mark


def _load_module(path: Path) -> ModuleType:
    """Import a checks file by path under a private name (it is not a package)."""
    name = f"_edu_hidden_checks.{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def collect_checks(folder: Path) -> list[Check]:
    """Every check of the ``test_*.py`` modules in ``folder``, in file and line order.

    Raises
    ------
    FileNotFoundError
        If ``folder`` has no ``test_*.py`` file.
    """
    files = sorted(Path(folder).glob("test_*.py"))
    if not files:
        raise FileNotFoundError(f"no hidden checks (test_*.py) in {folder}")
    checks = []
    # Their shared helpers (_common.py) are imported from this folder, never from the
    # cache of an earlier folder: two courses graded in one process keep their own.
    helpers = [path.stem for path in Path(folder).glob("_*.py")]
    for name in helpers:
        sys.modules.pop(name, None)
    sys.path.insert(0, str(Path(folder).resolve()))
    try:
        modules = [_load_module(path) for path in files]
    finally:
        sys.path.remove(str(Path(folder).resolve()))
        for name in helpers:
            sys.modules.pop(name, None)
    for path, module in zip(files, modules, strict=True):
        functions = [
            value
            for value in vars(module).values()
            if callable(value) and hasattr(value, "grade_id") and hasattr(value, "points")
        ]
        functions.sort(key=lambda f: f.__code__.co_firstlineno)
        checks += [
            Check(f, f.grade_id, float(f.points), path.stem, getattr(f, "needs_data", False))
            for f in functions
        ]
    return checks


def select_checks(checks: Sequence[Check], grade_ids: Iterable[str]) -> list[Check]:
    """The checks of one assignment: every check of the modules that grade its cells.

    One checks folder serves every assignment of a course (``test_lab2.py`` grades the
    homework, ``test_lab4.py`` the bonus ``lab4``). A module belongs to the assignment
    whose test cells (``grade_ids``) any of its checks names; all of its checks are
    kept, so that a misspelled grade id among them is still caught by the points
    check (:func:`edu.grading.check_points`).

    Examples
    --------
    >>> a = Check(print, "test_one", 1.0, "test_first")
    >>> b = Check(print, "test_two", 1.0, "test_second")
    >>> [c.grade_id for c in select_checks([a, b], {"test_two"})]
    ['test_two']
    """
    wanted = set(grade_ids)
    modules = {item.module for item in checks if item.grade_id in wanted}
    return [item for item in checks if item.module in modules]


def run_check(item: Check, fixtures: Mapping[str, Callable[[], object]]) -> CheckResult:
    """Run one check with its fixtures (each made on demand by a zero-argument callable).

    Never raises: every outcome is a :class:`CheckResult`.
    """

    def result(kind: str, message: str = "") -> CheckResult:
        points = item.points if kind == "passed" else 0.0
        return CheckResult(
            item.grade_id, item.name, item.description, points, item.points, message, kind
        )

    try:
        arguments = {name: fixtures[name]() for name in item.fixtures}
        item.function(**arguments)
    except ReferenceUsed as error:
        return result("reference", str(error))
    except LimitReached as error:
        return result("limit", str(error))
    except StudentError as error:
        return result("error", str(error))
    except AssertionError as error:
        return result("failed", str(error) or "the check failed")
    except Exception as error:  # a bug of the check or its fixture, not of the submission
        text = f"{type(error).__name__}: {error}"[:300]
        return result("grader-error", f"the grader failed on this check ({text})")
    return result("passed")
