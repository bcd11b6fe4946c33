"""The limits every submission is graded under, and the words that explain each one.

One frozen dataclass holds them all, so that the command line, the Python API, the
kernel's sandbox and the functions' sandbox read the same values. When a process of
the student's stops, :func:`describe_exit` turns how it stopped (a signal, an exit
code, a timeout) into the sentence the feedback shows.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass

__all__ = ["Limits", "describe_exit"]

_MIB = 1 << 20


@dataclass(frozen=True)
class Limits:
    """Resource and time limits of one submission.

    Attributes
    ----------
    cell_timeout_s : int
        Wall-clock seconds one notebook cell may run when nbgrader executes it
        (nbgrader's ``Execute.timeout``); the cell is then interrupted.
    submission_timeout_s : int
        Wall-clock seconds for everything of one submission: the checks of the
        student's functions, of the checkpoints, and nbgrader's execution.
    call_timeout_s : float
        Wall-clock seconds for one call into the student's functions.
    start_timeout_s : float
        Wall-clock seconds a sandboxed process that runs the student's functions or
        reads the checkpoints may take to start (Python, ``edu`` and torch imported),
        counted apart from its calls so that a busy grading machine costs no points.
    cpu_s : int
        CPU seconds of one sandboxed process (``RLIMIT_CPU``): a kernel, or the
        process that runs the student's functions (shared by the submission's
        notebooks, and fresh again whenever that process is started again).
    memory_bytes : int
        Heap and private mappings of one sandboxed process (``RLIMIT_DATA``).
        ``RLIMIT_AS`` would count the ~3 GB of shared libraries that ``import torch``
        maps, so the data segment is what is limited.
    file_size_bytes : int
        Largest file a sandboxed process may write (``RLIMIT_FSIZE``), its captured
        stdout and stderr included.
    processes : int
        Processes and threads of one sandbox (``RLIMIT_NPROC``, counted per sandbox
        when a user namespace is available, else per sandbox user).
    open_files : int
        File descriptors of one sandboxed process (``RLIMIT_NOFILE``).
    output_bytes : int
        Output one notebook may send to nbgrader (text, images, errors); what comes
        after is dropped and the kernel is stopped.
    checkpoint_bytes : int
        Largest checkpoint file read; a bigger one is refused unread.
    notebook_bytes : int
        Largest notebook file read; a bigger one is refused unread.
    """

    cell_timeout_s: int = 60
    submission_timeout_s: int = 900
    call_timeout_s: float = 30.0
    start_timeout_s: float = 120.0
    cpu_s: int = 300
    memory_bytes: int = 2048 * _MIB
    file_size_bytes: int = 64 * _MIB
    processes: int = 64
    open_files: int = 1024
    output_bytes: int = 4 * _MIB
    checkpoint_bytes: int = 64 * _MIB
    notebook_bytes: int = 32 * _MIB

    def rlimits(self) -> dict[str, int]:
        """The ``resource`` limits of a sandboxed process, by ``RLIMIT_*`` name."""
        return {
            "RLIMIT_CPU": self.cpu_s,
            "RLIMIT_DATA": self.memory_bytes,
            "RLIMIT_FSIZE": self.file_size_bytes,
            "RLIMIT_NPROC": self.processes,
            "RLIMIT_NOFILE": self.open_files,
        }


def describe_exit(returncode: int | None, limits: Limits, what: str) -> str:
    """Say in words why a sandboxed process stopped.

    Parameters
    ----------
    returncode : int or None
        ``Popen.returncode`` (negative: killed by that signal); ``None`` when it was
        stopped for running past its wall-clock time.
    limits : Limits
        The limits it ran under, quoted in the message.
    what : str
        What was running, e.g. ``"soft_threshold(v, threshold)"``.

    Returns
    -------
    str
        One sentence that names the limit reached, or the crash.

    Examples
    --------
    >>> describe_exit(-11, Limits(), "gradient(X, y, w)")
    'the process running gradient(X, y, w) crashed (segmentation fault)'
    >>> describe_exit(None, Limits(call_timeout_s=5), "hard_threshold(v, k)")
    'hard_threshold(v, k) did not finish within the time limit of 5 s'
    """
    if returncode is None:
        return f"{what} did not finish within the time limit of {limits.call_timeout_s:g} s"
    if returncode == -signal.SIGXCPU:
        return f"{what} reached the CPU time limit of {limits.cpu_s} s"
    if returncode == -signal.SIGXFSZ:
        return (
            f"{what} wrote more than the output limit of "
            f"{limits.file_size_bytes // _MIB} MiB (file size limit)"
        )
    if returncode == -signal.SIGSEGV:
        return f"the process running {what} crashed (segmentation fault)"
    if returncode == -signal.SIGKILL:
        return f"the process running {what} was killed (SIGKILL)"
    if returncode < 0:
        name = signal.Signals(-returncode).name
        return f"the process running {what} was killed by signal {name}"
    return f"the process running {what} exited with status {returncode} (os._exit or sys.exit)"
