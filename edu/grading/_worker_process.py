"""The one sandboxed process that runs a submission's code for the hidden checks.

:class:`WorkerProcess` starts :mod:`edu.grading._worker` through the launcher and
loads into it, each in a namespace of its own, the setup imports and solution cells
of every notebook the checks ask for (one cell per request), then exchanges requests
and plain-array replies (:mod:`edu.grading._protocol`).

All the notebooks of a submission share the process because starting one costs about
a second and a half, most of it ``import torch``: on the 2-core reference machine a
process per notebook took 4.9 s of an untouched stub's 6.3 s of checks. What one
notebook could otherwise pass on to another is kept apart: each has its own namespace
and its own process-wide settings (gradient mode, default dtype, numpy's error
handling; :mod:`edu.grading._worker`), and every notebook is loaded when the process
starts, before any call, so no cell is loaded into a process that earlier calls have
used. What stays shared is what one process has: modules a cell patches, and the
process's limits (CPU time, memory, output) over its life. Either can only cost the
same student, never raise a score: the grader trusts nothing that comes back and
compares every array with the reference in its own process.

A request that crashes the process, or runs past its time, fails with a message that
says which limit; the process is started again for the next request and every
notebook is loaded again, without an import or cell that crashed it while loading, so
one bad function costs only its own checks.
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

from edu.grading._checks import LimitReached, ReferenceUsed, StudentError
from edu.grading._limits import describe_exit
from edu.grading._protocol import MessageError, decode, encode, write_message
from edu.grading._sandbox import SandboxPolicy

__all__ = ["SolutionCell", "WorkerProcess"]

_MAX_RESPONSE = 256 << 20


@dataclass(frozen=True)
class SolutionCell:
    """The source of one solution cell, by its nbgrader ``grade_id``."""

    grade_id: str
    source: str


def _exec(namespace: str, cell: str, source: str) -> dict:
    """The request that runs ``source`` in the notebook's namespace."""
    return {"op": "exec", "namespace": namespace, "cell": cell, "source": source}


class _CellCrashed(Exception):
    """A cell stopped the process while it was being loaded (the process is closed)."""


@dataclass
class _Notebook:
    """What is loaded for one notebook, and what went wrong while loading it."""

    cells: list[SolutionCell]
    prelude: list[str]
    errors: dict[str, str]
    crashing: set[str]


class WorkerProcess:
    """A submission's sandboxed worker, holding each notebook's functions apart.

    Parameters
    ----------
    policy : SandboxPolicy
        Limits and isolation of the process; it must let the process read
        ``library`` and ``scripts``.
    library, scripts : Path
        The minimal ``edu`` the worker imports, and the folder of its scripts
        (:func:`edu.grading._sandbox_edu.build_sandbox_edu`).
    folder : Path
        A fresh folder for the worker's files.
    deadline : edu.grading.Deadline
        The submission's remaining time; every request also stops there.
    """

    def __init__(
        self, policy: SandboxPolicy, library: Path, scripts: Path, folder: Path, deadline
    ) -> None:
        self.policy = policy
        self.library = library
        self.scripts = scripts
        self.folder = folder
        self.deadline = deadline
        self._notebooks: dict[str, _Notebook] = {}
        self._loaded: set[str] = set()
        self._process: subprocess.Popen | None = None
        self._pipes: tuple[int, int] | None = None
        self._refusals: int | None = None
        self._starts = 0
        self._grace_s = 2.0

    def add_notebook(self, name: str, cells: list[SolutionCell], prelude: list[str]) -> None:
        """Have the notebook ``name`` loaded (``prelude`` imports, then ``cells``) in its
        own namespace before the next request; a name already added is kept as it is."""
        if name not in self._notebooks:
            self._notebooks[name] = _Notebook(list(cells), list(prelude), {}, set())

    def cell_errors(self, name: str) -> dict[str, str]:
        """The errors of the notebook's cells while loading, by ``grade_id``."""
        return self._notebooks[name].errors

    # -- process management -------------------------------------------------------

    def _launch(self) -> None:
        request_read, request_write = os.pipe()
        response_read, response_write = os.pipe()
        refusals_read, refusals_write = os.pipe()
        os.set_blocking(refusals_read, False)
        self._starts += 1
        folder = self.folder / f"run{self._starts}"
        folder.mkdir(parents=True)
        folder.chmod(0o711)
        command = self.policy.command(
            folder,
            [
                sys.executable,
                "-I",
                str(self.scripts / "_worker.py"),
                str(request_read),
                str(response_write),
                str(self.library),
            ],
            env={
                "OMP_NUM_THREADS": "1",
                "MPLBACKEND": "Agg",
                "PYTHONHASHSEED": "0",
                "EDU_REFUSALS_FD": str(refusals_write),
            },
            name="worker",
        )
        self._process = subprocess.Popen(
            command,
            pass_fds=(request_read, response_write, refusals_write),
            start_new_session=True,
        )
        for fd in (request_read, response_write, refusals_write):
            os.close(fd)
        self._pipes = (request_write, response_read)
        self._refusals = refusals_read
        self._loaded = set()
        self._await_start()

    def _await_start(self) -> None:
        """Wait for the process's ``started`` message, within ``start_timeout_s``.

        The start-up (Python, ``edu``, torch) is timed apart from the requests, so that
        a busy machine's slow start never counts against a student's call.
        """
        limits = self.policy.limits
        timeout = min(limits.start_timeout_s, self.deadline.remaining())
        try:
            payload = self._receive(timeout)
            started = payload is not None and decode(payload)[0].get("status") == "started"
        except (EOFError, MessageError):
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(self._grace_s)
            returncode = self._process.poll()
            self.close()
            if returncode is None:
                raise LimitReached("the sandboxed process failed to start") from None
            raise LimitReached(describe_exit(returncode, limits, "the start-up")) from None
        if not started:
            self.close()
            if self.deadline.expired():
                raise LimitReached(
                    "the sandboxed process did not start: the submission's time limit of "
                    f"{self.deadline.seconds:g} s was reached"
                )
            raise LimitReached(
                f"the sandboxed process did not start within {limits.start_timeout_s:g} s"
            )

    def _refused(self) -> list[str]:
        """What the process reported refused since the last time it was asked."""
        chunks = []
        with contextlib.suppress(BlockingIOError):
            while chunk := os.read(self._refusals, 1 << 16):
                chunks.append(chunk)
        return b"".join(chunks).decode(errors="replace").split()

    def _ready(self) -> None:
        """Start the process if needed and load every notebook not loaded yet."""
        while True:
            if self.deadline.expired():
                raise LimitReached(
                    f"the notebooks were not loaded: the submission's time limit of "
                    f"{self.deadline.seconds:g} s was reached"
                )
            if self._process is None:
                self._launch()
            try:
                for name in self._notebooks:
                    if name not in self._loaded:
                        self._load(name)
                        self._loaded.add(name)
                return
            except _CellCrashed:
                continue  # started again, without the cell that crashed it

    def _load(self, name: str) -> None:
        """Run the notebook's prelude, then each cell; note errors; skip crashing ones.

        A statement or cell that stops the process is noted and skipped from then on:
        the process is closed and :meth:`_ready` starts it again (``_CellCrashed``).
        """
        notebook = self._notebooks[name]
        sources = [
            (f"setup import {index}", statement, f"{name}'s import {statement!r}")
            for index, statement in enumerate(notebook.prelude)
        ]
        sources += [(c.grade_id, c.source, f"the cell {c.grade_id!r}") for c in notebook.cells]
        for cell, source, what in sources:
            if cell in notebook.crashing:
                continue
            try:
                reply, _ = self._send(_exec(name, cell, source), {}, what=what)
            except LimitReached as error:
                notebook.crashing.add(cell)
                notebook.errors[cell] = str(error)
                self.close()
                raise _CellCrashed from None
            if reply.get("status") == "error":
                notebook.errors[cell] = error_text(reply)
            else:
                notebook.errors.pop(cell, None)

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
            for fd in (*self._pipes, self._refusals):
                os.close(fd)
            self._pipes = self._refusals = None
        self._stop()

    def __enter__(self) -> WorkerProcess:
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

    def _receive(self, timeout: float) -> bytes | None:
        """One message's payload from the process, or None on timeout; EOFError if the
        pipe closes, MessageError if the announced length is over the limit."""
        response_fd = self._pipes[1]
        prefix = self._read(response_fd, 8, timeout)
        if prefix is None:
            return None
        length = int.from_bytes(prefix, "little")
        if length > _MAX_RESPONSE:
            raise MessageError(f"a reply of {length} bytes is over the limit")
        return self._read(response_fd, length, timeout)

    def _send(self, header: dict, arrays: dict, *, what: str) -> tuple[dict, dict]:
        """One request and its reply, on the running process; limits become LimitReached."""
        timeout = min(self.policy.limits.call_timeout_s, self.deadline.remaining())
        try:
            with os.fdopen(os.dup(self._pipes[0]), "wb") as stream:
                write_message(stream, encode(header, arrays))
            payload = self._receive(timeout)
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
        return decode(payload)

    def request(self, header: dict, arrays: dict, *, what: str) -> tuple[dict, dict]:
        """Send one request (after loading what is not loaded yet) and return the reply.

        Parameters
        ----------
        header : dict
            The operation (``op``), the notebook's ``namespace`` and its arguments.
        arrays : dict of str to ndarray
            The array arguments.
        what : str
            What the request does, for messages (``soft_threshold(array of shape (5,))``).

        Returns
        -------
        dict, dict
            The reply's header and arrays.

        Raises
        ------
        ReferenceUsed
            The code called something that does a taught function's work (refused).
        StudentError
            The student's code raised.
        LimitReached
            The process crashed, a limit was reached, or the time is up.
        """
        self._ready()
        self._refused()  # reported while loading: the function's own call decides
        reply, out = self._send(header, arrays, what=what)
        refused = self._refused()
        if refused:
            raise ReferenceUsed(
                f"{what} called {', '.join(sorted(set(refused)))}, which does the work of "
                "a function you write: it does not run while grading, and a function that "
                "uses it earns nothing"
            )
        if reply.get("status") == "error":
            if reply.get("errno") == errno.EFBIG:
                raise LimitReached(
                    f"{what} wrote more than the output limit of "
                    f"{self.policy.limits.file_size_bytes >> 20} MiB (file size limit)"
                )
            if reply.get("type") == "MemoryError":
                raise LimitReached(
                    f"{what} ran out of memory (limit {self.policy.limits.memory_bytes >> 20} MiB)"
                )
            raise StudentError(f"{what} raised {error_text(reply)}")
        return reply, out


def error_text(reply: dict) -> str:
    """An error reply as ``Type: message (at cell X, line N: code)``."""
    text = f"{reply.get('type', 'an error')}: {reply.get('message', '')}".rstrip(": ")
    lines = reply.get("traceback") or []
    if lines:
        text += f" (at {lines[-1]})"
    return text
