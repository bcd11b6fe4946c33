"""The visible tests of the student release, run on a submission in the grading sandbox.

``edu validate`` runs each test cell of the released notebooks (what the student sees
under an exercise; nbgrader strips the hidden tests from the release) in the namespace
where the grading worker loaded the student's solution cells
(:class:`edu.grading._student.StudentCode`), so the student's code runs in the same
sandbox as when it is graded, with the same minimal ``edu``.

A test cell may use what its notebook's setup cell made besides imports (Lab 1's
``X, y = homework_data()``) and measuring helpers of ``edu`` that the sandbox's ``edu``
refuses (``count_levels``, ``sparsity_report``). :func:`setup_source` rebuilds them as
plain source, from the released setup cell run in the validating process: arrays and
numbers as literals, helpers from their module's source. Each test cell runs in a copy
of the notebook's namespace with them added, so they are the test's alone: the
student's functions still see the sandbox's ``edu``, in which they refuse, as when the
submission is graded. A taught function's counterpart is never sent.

The tests of the checkpoints (``test_<checkpoint>``) are not run here: they read files
with ``edu``'s loader, and :mod:`edu.grading._validate` checks the checkpoints itself.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import importlib
import inspect
import io
from dataclasses import dataclass

import numpy as np

from edu.grading._assignment import NotebookLayout, SourceCell
from edu.grading._checks import CheckFailed
from edu.grading._sandbox_edu import WORKING
from edu.grading._student import StudentCode
from edu.grading._taught import COUNTERPARTS
from edu.notebook import SUBMISSION_CHECKPOINTS

__all__ = [
    "TestOutcome",
    "run_visible_tests",
    "setup_source",
    "visible_tests",
    "without_magics",
]

_CHECKPOINT_TESTS = frozenset(f"test_{name}" for name in SUBMISSION_CHECKPOINTS)


@dataclass(frozen=True)
class TestOutcome:
    """One visible test: its grade id, whether it passed, and what it said if not."""

    grade_id: str
    passed: bool
    message: str = ""


def visible_tests(layout: NotebookLayout) -> list[SourceCell]:
    """The released test cells of a notebook that test code, not checkpoint files."""
    return [c for c in layout.cells if c.autograded and c.grade_id not in _CHECKPOINT_TESTS]


def without_magics(source: str) -> str:
    """A cell's source with its IPython magics and shell lines blanked (line numbers kept)."""
    lines = source.splitlines()
    return "\n".join("" if ln.lstrip().startswith(("%", "!")) else ln for ln in lines)


def _used_names(cells: list[SourceCell]) -> set[str]:
    names = set()
    for cell in cells:
        with contextlib.suppress(SyntaxError):
            names |= {n.id for n in ast.walk(ast.parse(cell.source)) if isinstance(n, ast.Name)}
    return names


@functools.cache
def _reference_modules() -> frozenset[str]:
    """The modules of ``edu`` that define a taught function's counterpart."""
    modules = set()
    for names in COUNTERPARTS.values():
        for name in names:
            module, _, attribute = name.rpartition(".")
            modules.add(getattr(importlib.import_module(module), attribute).__module__)
    return frozenset(modules)


def _working(value: object) -> bool:
    """Whether ``value`` is one of the names the sandbox's ``edu`` runs."""
    package, _, private = (getattr(value, "__module__", "") or "").rpartition(".")
    return getattr(value, "__name__", None) in WORKING.get(package, {}).get(private, ())


def _helper(value: object) -> str | None:
    """An expression that rebuilds a helper of ``edu`` (None if it may not be sent).

    The helper's whole module is run, in a module of its own, so that what it uses
    comes with it; a module that defines a counterpart is never sent.
    """
    module = getattr(value, "__module__", "") or ""
    if not module.startswith("edu.") or _working(value) or module in _reference_modules():
        return None
    source = inspect.getsource(importlib.import_module(module))
    return f"_edu_helper({module + '_validate'!r}, {source!r}, {value.__name__!r})"


def _expression(value: object) -> str | None:
    """Source that rebuilds ``value``: arrays, numbers and edu's helpers; else None."""
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return f"__import__('numpy').array({value.tolist()!r}, dtype={str(value.dtype)!r})"
    if isinstance(value, bool | int | float):
        return repr(value)
    if inspect.isfunction(value) or inspect.isclass(value):
        return _helper(value)
    return None


_RUNNER = """
def _edu_helper(name, source, attribute):
    import sys, types
    module = sys.modules[name] = types.ModuleType(name)  # registered, as dataclasses need
    exec(compile(source, "<" + name + ">", "exec"), vars(module))
    return getattr(module, attribute)


def _visible_test(source, filename, values):
    import linecache
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), {**globals(), **values})
"""
"""Defined in the notebook's namespace: a test cell runs in a copy of it with the setup's
values added, so the student's functions still see the sandbox's ``edu`` alone."""


def setup_source(layout: NotebookLayout) -> str:
    """Source that defines, in the sandbox, what the visible tests take from the setup.

    The released setup cells run here, in the validating process, with the real
    ``edu`` (magics skipped, output discarded); they are the instructor's code, the
    same for every student.
    """
    tests = visible_tests(layout)
    namespace: dict = {"__name__": "__setup__"}
    for cell in layout.setup if tests else ():
        source = without_magics(cell.source)
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(source, f"<setup {cell.grade_id}>", "exec"), namespace)
    entries = [
        f"    {name!r}: {expression},"
        for name in sorted(_used_names(tests) & set(namespace))
        if (expression := _expression(namespace[name])) is not None
    ]
    return "\n".join([_RUNNER, "_visible_setup = {", *entries, "}"])


def run_visible_tests(code: StudentCode, layout: NotebookLayout) -> list[TestOutcome]:
    """Run every visible test of ``layout`` on the student's functions in ``code``.

    A test fails with the message of its assertion (the visible test's own text), the
    error the student's code raised, a refused call to ``edu`` or torch, or a limit.
    """
    tests = visible_tests(layout)
    setup = {"cell": "visible setup", "source": setup_source(layout)}
    try:
        code.request("exec", "visible setup", setup, {}, "the visible tests' setup")
    except CheckFailed as error:
        return [TestOutcome(t.grade_id, False, str(error)) for t in tests]
    outcomes = []
    for test in tests:
        what = f"the visible test {test.grade_id!r}"
        run = f"_visible_test({test.source!r}, {'<cell ' + test.grade_id + '>'!r}, _visible_setup)"
        header = {"cell": f"visible {test.grade_id}", "source": run}
        try:
            code.request("exec", test.grade_id, header, {}, what)
        except CheckFailed as error:
            outcomes.append(TestOutcome(test.grade_id, False, str(error)))
        else:
            outcomes.append(TestOutcome(test.grade_id, True))
    return outcomes
