"""The grader's handle on a student's functions: calls that run in the sandbox.

:class:`StudentCode` starts :mod:`edu.grading._worker` through the launcher, loads
the notebook's setup imports and solution cells into it one at a time, then forwards
calls. What comes back is a plain-array message; the checks compare it with the
reference in the grader's own process.

A call that crashes the process, or runs past its time, fails with a message that
says which limit; the process is restarted (without a cell that crashed it while
loading) for the next call, so one bad function costs only its own checks.
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edu.grading._checks import CheckFailed, LimitReached, ReferenceUsed, StudentError
from edu.grading._limits import describe_exit
from edu.grading._protocol import MessageError, decode, encode, write_message
from edu.grading._sandbox import SandboxPolicy

__all__ = ["Deadline", "SolutionCell", "StudentCode"]

_MAX_RESPONSE = 256 << 20


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


@dataclass(frozen=True)
class SolutionCell:
    """The source of one solution cell, by its nbgrader ``grade_id``."""

    grade_id: str
    source: str


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
    """The functions a notebook defines, living in a sandboxed worker process.

    Parameters
    ----------
    notebook : str
        The notebook's name, for messages.
    cells : list of SolutionCell
        The solution cells, in notebook order; each defines one function.
    prelude : list of str
        Import statements run first (the notebook's setup cell's imports).
    policy : SandboxPolicy
        Limits and isolation of the worker.
    refusing_copy : Path
        The copy of ``edu`` the worker imports (:func:`build_refusing_copy`).
    folder : Path
        A fresh folder for the worker's files.
    deadline : Deadline
        The submission's remaining time; every call also stops there.
    flags : dict of str to str
        Functions that earn nothing whatever they compute (the static check's
        findings), with the reason.
    """

    def __init__(
        self,
        notebook: str,
        cells: list[SolutionCell],
        prelude: list[str],
        policy: SandboxPolicy,
        refusing_copy: Path,
        folder: Path,
        deadline: Deadline,
        flags: dict[str, str] | None = None,
    ) -> None:
        self.notebook = notebook
        self.cells = cells
        self.prelude = prelude
        self.policy = policy
        self.refusing_copy = refusing_copy
        self.folder = folder
        self.deadline = deadline
        self.flags = dict(flags or {})
        self.cell_errors: dict[str, str] = {}
        self._crashing_cells: set[str] = set()
        self._process: subprocess.Popen | None = None
        self._pipes: tuple[int, int] | None = None
        self._starts = 0
        self._grace_s = 2.0

    # -- process management -------------------------------------------------------

    def _start(self) -> None:
        request_read, request_write = os.pipe()
        response_read, response_write = os.pipe()
        self._starts += 1
        folder = self.folder / f"run{self._starts}"
        folder.mkdir(parents=True)
        folder.chmod(0o711)
        worker = self.refusing_copy / "edu" / "grading" / "_worker.py"
        command = self.policy.command(
            folder,
            [
                sys.executable,
                "-I",
                str(worker),
                str(request_read),
                str(response_write),
                str(self.refusing_copy),
            ],
            env={"OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0"},
            name="worker",
        )
        self._process = subprocess.Popen(
            command, pass_fds=(request_read, response_write), start_new_session=True
        )
        os.close(request_read)
        os.close(response_write)
        self._pipes = (request_write, response_read)
        self._load()

    def _load(self) -> None:
        """Run the prelude, then each cell; note errors; skip cells that crashed before."""
        for index, statement in enumerate(self.prelude):
            self._exchange(
                {"op": "exec", "cell": f"setup import {index}", "source": statement},
                {},
                what="the notebook's imports",
                raise_errors=False,
            )
        for cell in self.cells:
            if cell.grade_id in self._crashing_cells:
                continue
            try:
                header, _ = self._exchange(
                    {"op": "exec", "cell": cell.grade_id, "source": cell.source},
                    {},
                    what=f"the cell {cell.grade_id!r}",
                    raise_errors=False,
                )
            except LimitReached as error:
                self._crashing_cells.add(cell.grade_id)
                self.cell_errors[cell.grade_id] = str(error)
                self.close()
                self._start()
                return
            if header.get("status") == "error":
                self.cell_errors[cell.grade_id] = _error_text(header)

    def _stop(self) -> int | None:
        """Stop the worker (its whole sandbox); return its exit status if it had one."""
        process, self._process = self._process, None
        if process is None:
            return None
        returncode = process.poll()
        if returncode is None:
            process.terminate()  # the launcher kills the sandbox's init, which kills the rest
            try:
                process.wait(self._grace_s)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        return returncode

    def close(self) -> None:
        """Stop the worker and close the pipes."""
        if self._pipes:
            for fd in self._pipes:
                os.close(fd)
            self._pipes = None
        self._stop()

    def __enter__(self) -> StudentCode:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- requests -------------------------------------------------------------------

    def _read(self, fd: int, size: int, timeout: float) -> bytes | None:
        """``size`` bytes from ``fd``, or None on timeout; EOFError if it closes."""
        end = time.monotonic() + timeout
        chunks, remaining = [], size
        while remaining:
            ready, _, _ = select.select([fd], [], [], max(0.0, end - time.monotonic()))
            if not ready:
                return None
            chunk = os.read(fd, min(remaining, 1 << 20))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    def _exchange(self, header: dict, arrays: dict, *, what: str, raise_errors: bool = True):
        if self._process is None:
            self._start()
        timeout = min(self.policy.limits.call_timeout_s, self.deadline.remaining())
        request_fd, response_fd = self._pipes
        try:
            with os.fdopen(os.dup(request_fd), "wb") as stream:
                write_message(stream, encode(header, arrays))
            prefix = self._read(response_fd, 8, timeout)
            payload = None
            if prefix is not None:
                length = int.from_bytes(prefix, "little")
                if length > _MAX_RESPONSE:
                    raise MessageError(f"a reply of {length} bytes is over the limit")
                payload = self._read(response_fd, length, timeout)
        except (EOFError, BrokenPipeError):
            with contextlib.suppress(subprocess.TimeoutExpired):  # it is ending: say how
                self._process.wait(self._grace_s)
            returncode = self._process.poll()
            self.close()
            if returncode is None:
                raise LimitReached(f"{what} closed the grader's connection") from None
            raise LimitReached(describe_exit(returncode, self.policy.limits, what)) from None
        except MessageError as error:
            self.close()
            raise LimitReached(
                f"{what} sent back something that is not plain arrays: {error}"
            ) from None
        if payload is None:
            self.close()
            if self.deadline.expired():
                raise LimitReached(
                    f"{what} was not run: the submission's time limit of "
                    f"{self.deadline.seconds:g} s was reached"
                )
            raise LimitReached(describe_exit(None, self.policy.limits, what))
        reply, out = decode(payload)
        if reply.get("refused"):
            raise ReferenceUsed(
                f"{what} called {', '.join(sorted(set(reply['refused'])))} from edu: the "
                "reference does not run while grading, and a function that uses it earns "
                "nothing"
            )
        if raise_errors and reply.get("status") == "error":
            if reply.get("errno") == errno.EFBIG:
                raise LimitReached(
                    f"{what} wrote more than the output limit of "
                    f"{self.policy.limits.file_size_bytes >> 20} MiB (file size limit)"
                )
            if reply.get("type") == "MemoryError":
                raise LimitReached(
                    f"{what} ran out of memory (limit {self.policy.limits.memory_bytes >> 20} MiB)"
                )
            raise StudentError(f"{what} raised {_error_text(reply)}")
        return reply, out

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
        if self.deadline.expired():
            raise LimitReached(
                f"{what} was not run: the submission's time limit of "
                f"{self.deadline.seconds:g} s was reached"
            )
        try:
            return self._exchange({"op": op, "function": function, **header}, arrays, what=what)
        except StudentError:
            if function in self.cell_errors:
                raise StudentError(
                    f"{function} could not be defined: {self.cell_errors[function]}"
                ) from None
            raise

    def call(self, function: str, *args) -> np.ndarray:
        """``function(*args)`` in the sandbox; arrays and JSON values only.

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
        return self.call_and_arguments(function, *args)[0]

    def call_and_arguments(self, function: str, *args) -> tuple[np.ndarray, list]:
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
        reply, out = self.request("call", function, {"args": specs}, arrays, what)
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


def _error_text(reply: dict) -> str:
    text = f"{reply.get('type', 'an error')}: {reply.get('message', '')}".rstrip(": ")
    lines = reply.get("traceback") or []
    if lines:
        text += f" (at {lines[-1]})"
    return text
