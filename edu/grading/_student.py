"""The grader's handle on a notebook's functions: calls that run in the sandbox.

A :class:`StudentCode` names one notebook of a submission and forwards calls of its
functions to the submission's :class:`edu.grading._worker_process.WorkerProcess`,
where the notebook's setup imports and solution cells are loaded in a namespace of
their own. What comes back is a plain-array message; the checks compare it with the
reference in the grader's own process.
"""

from __future__ import annotations

import time

import numpy as np

from edu.grading._checks import CheckFailed, LimitReached, ReferenceUsed, StudentError
from edu.grading._worker_process import SolutionCell, WorkerProcess

__all__ = ["Deadline", "SolutionCell", "StudentCode"]


class Deadline:
    """The wall-clock end of a submission's time (``time.monotonic`` based)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def remaining(self) -> float:
        """Seconds left, at least 0."""
        return max(0.0, self.end - time.monotonic())

    def expired(self) -> bool:
        """Whether no time is left."""
        return self.remaining() <= 0.0


def describe_args(args: tuple) -> str:
    """Short description of call arguments for messages: shapes, not contents.

    Examples
    --------
    >>> describe_args((np.zeros((3, 5)), 0.5, 2))
    'array of shape (3, 5), 0.5, 2'
    """
    parts = []
    for arg in args:
        if isinstance(arg, np.ndarray):
            parts.append(f"array of shape {arg.shape}")
        else:
            parts.append(repr(arg))
    return ", ".join(parts)


class StudentCode:
    """The functions one notebook defines, living in the submission's sandboxed worker.

    Parameters
    ----------
    notebook : str
        The notebook's name: its namespace in the worker, and for messages.
    cells : list of SolutionCell
        The solution cells, in notebook order; each defines one function.
    prelude : list of str
        Import statements run first (the notebook's setup cell's imports).
    worker : WorkerProcess
        The submission's worker; it loads the notebook before the next request.
    flags : dict of str to str
        Functions that earn nothing whatever they compute (the static check's
        findings), with the reason.
    """

    def __init__(
        self,
        notebook: str,
        cells: list[SolutionCell],
        prelude: list[str],
        worker: WorkerProcess,
        flags: dict[str, str] | None = None,
    ) -> None:
        self.notebook = notebook
        self.worker = worker
        self.flags = dict(flags or {})
        worker.add_notebook(notebook, cells, prelude)

    @property
    def cell_errors(self) -> dict[str, str]:
        """What went wrong while loading the notebook's cells, by ``grade_id``."""
        return self.worker.cell_errors(self.notebook)

    def request(self, op: str, function: str, header: dict, arrays: dict, what: str):
        """Run operation ``op`` of the worker on the student's ``function``.

        Returns
        -------
        dict, dict
            The reply's header and arrays.

        Raises
        ------
        ReferenceUsed
            The function is flagged by the static check, or called the reference.
        StudentError
            The student's code raised.
        LimitReached
            The process crashed, or a limit was reached.
        """
        if function in self.flags:
            raise ReferenceUsed(self.flags[function])
        deadline = self.worker.deadline
        if deadline.expired():
            raise LimitReached(
                f"{what} was not run: the submission's time limit of "
                f"{deadline.seconds:g} s was reached"
            )
        request = {"op": op, "namespace": self.notebook, "function": function, **header}
        try:
            return self.worker.request(request, arrays, what=what)
        except StudentError:
            if function in self.cell_errors:
                raise StudentError(
                    f"{function} could not be defined: {self.cell_errors[function]}"
                ) from None
            raise

    def call(self, function: str, *args, tensors: bool = False) -> np.ndarray:
        """``function(*args)`` in the sandbox; arrays and JSON values only.

        With ``tensors``, the array arguments reach the function as torch tensors (for
        the functions of the labs that take a tensor, ``weight``).

        Returns
        -------
        ndarray
            The result as an array (a tensor is converted).

        Raises
        ------
        CheckFailed
            When the function returns nothing usable, or any of :meth:`request`'s
            errors.
        """
        return self.call_and_arguments(function, *args, tensors=tensors)[0]

    def call_and_arguments(
        self, function: str, *args, tensors: bool = False
    ) -> tuple[np.ndarray, list]:
        """Like :meth:`call`, plus the array arguments as they were after the call.

        Returns
        -------
        ndarray, list
            The result, and for each argument its value after the call (``None``
            for non-array arguments), to check that inputs are left unchanged.

        Raises
        ------
        CheckFailed
            When the function returns nothing usable, or any of :meth:`request`'s
            errors.
        """
        specs, arrays = [], {}
        for index, arg in enumerate(args):
            if isinstance(arg, np.ndarray):
                arrays[f"a{index}"] = arg
                specs.append({"array": f"a{index}"})
            else:
                specs.append({"value": arg})
        what = f"{function}({describe_args(args)})"
        header = {"args": specs, "tensors": tensors}
        reply, out = self.request("call", function, header, arrays, what)
        if "result" not in out:
            raise CheckFailed(f"{what} returned {reply.get('returned')}, not an array")
        return out["result"], [out.get(f"arg{i}") for i in range(len(args))]

    def value(self, name: str) -> tuple[object, str]:
        """The variable ``name`` after the notebook's cells ran: ``(value, type name)``.

        Only booleans and numbers come back as values; anything else as ``None``
        with its type's name, which is what a message needs.
        """
        reply, out = self.request("value", name, {"name": name}, {}, f"the variable {name}")
        value = out["value"].item() if "value" in out else None
        return value, reply.get("type", "?")
