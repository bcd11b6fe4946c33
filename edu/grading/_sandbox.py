"""How a sandboxed process is started: the policy, and the launcher's command line.

The isolation itself is applied by the script :mod:`edu.grading._launch` (standard
library only) in the new process, before anything of the student's runs. This module
writes its configuration and returns the command that starts it:

- resource limits (:class:`edu.grading.Limits`: CPU time, data segment, file size,
  processes, open files);
- a fresh working directory, the only folder the sandbox may write to, and a clean
  environment (``HOME`` and the temporary folder inside it);
- new mount, network and PID namespaces where the kernel allows them: no network
  at all (only the loopback device, down), every process dies with the sandbox,
  and a file-system view built from an allow-list: the Python environment and the
  system's libraries read-only (:data:`SYSTEM_PATHS`), the policy's ``readable``
  paths read-only, the working folder read-write, private ``/tmp``, ``/var/tmp`` and
  ``/dev/shm``; nothing else of the machine exists there;
- an unprivileged user: ``nobody`` by default when the grader runs as root, and
  ``nobody`` in a user namespace of its own otherwise.

It protects the grader and the other students from a submission; it is not a
defence against a kernel exploit, and without namespaces (a container that forbids
them) the process sees the file system with the sandbox user's rights:
:func:`edu.grading.grade_course` then refuses to grade from a folder whose
instructor's notebooks or hidden checks that user can read.
"""

from __future__ import annotations

import functools
import json
import os
import pwd
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from edu.grading._limits import Limits

__all__ = ["Isolation", "SandboxPolicy", "exposed_to", "probe_isolation", "resolve_user"]

LAUNCHER = Path(__file__).with_name("_launch.py")

SYSTEM_PATHS = (
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/passwd",
    "/etc/group",
    "/etc/nsswitch.conf",
    "/etc/localtime",
    "/etc/fonts",
)
"""Read-only in every sandbox: the system's programs and libraries (``/lib`` and the
like are often links into ``/usr``, and are made as links), the dynamic linker's cache
and the name-service files a C library reads."""

DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")
DEVICE_LINKS = {
    "/dev/fd": "/proc/self/fd",
    "/dev/stdin": "/proc/self/fd/0",
    "/dev/stdout": "/proc/self/fd/1",
    "/dev/stderr": "/proc/self/fd/2",
}
SCRATCH = ("/tmp", "/var/tmp", "/dev/shm")
"""Private, empty ``tmpfs`` folders: what the sandbox writes there dies with it."""


def resolve_user(name: str | None) -> tuple[int, int] | None:
    """The ``(uid, gid)`` the sandbox runs as: ``name``'s when the grader is root.

    Parameters
    ----------
    name : str or None
        A user name (default ``"nobody"`` in :class:`SandboxPolicy`), or ``None``
        to keep the grader's user.

    Returns
    -------
    tuple of int or None
        ``None`` when the grader is not root (it cannot change user) or ``name`` is
        ``None``.

    Raises
    ------
    ValueError
        If the user does not exist.
    """
    if name is None or os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        raise ValueError(f"sandbox user {name!r} does not exist") from None
    return entry.pw_uid, entry.pw_gid


def exposed_to(user: tuple[int, int] | None, paths) -> list[Path]:
    """Those of ``paths`` (existing) that ``user`` could read without a mount namespace.

    ``user`` is the sandbox's ``(uid, gid)``, or ``None`` when the sandbox keeps the
    grader's own user, who reads everything the grader reads. A path counts as
    readable when the user may enter every folder above it and read it (owner, group
    or others' bits).
    """
    exposed = []
    for path in map(Path, paths):
        if not path.exists():
            continue
        entered = all(_may(user, parent, 0o1) for parent in path.parents) if user else True
        if user is None or (entered and _may(user, path, 0o4)):
            exposed.append(path)
    return sorted(set(exposed))


def _may(user: tuple[int, int], path: Path, bits: int) -> bool:
    info = path.stat()
    if info.st_uid == user[0]:
        return info.st_mode >> 6 & bits == bits
    if info.st_gid == user[1]:
        return info.st_mode >> 3 & bits == bits
    return info.st_mode & bits == bits


def _real(path: str) -> str:
    return os.path.realpath(path)


def _python_paths() -> list[str]:
    """The folders the interpreter and its packages are read from."""
    paths = {sys.base_prefix, sys.prefix, sys.exec_prefix, os.path.dirname(sys.executable)}
    return sorted(os.path.realpath(path) for path in paths)


def _system_paths() -> list[str]:
    """What every program needs to start: the system's libraries and a few ``/etc`` files."""
    return [path for path in SYSTEM_PATHS if os.path.lexists(path)]


@dataclass(frozen=True)
class SandboxPolicy:
    """What a sandboxed process may see and use.

    Attributes
    ----------
    limits : Limits
        The resource limits applied (:meth:`Limits.rlimits`).
    user : tuple of int or None
        ``(uid, gid)`` to run as (from :func:`resolve_user`); ``None`` keeps the
        grader's user.
    namespaces : bool
        Try new mount, network and PID namespaces.
    readable : tuple of str
        Folders and files the sandbox may read, besides the Python environment and the
        system's libraries (:data:`SYSTEM_PATHS`), which it always reads. Nothing else
        of the machine is in its view (with a mount namespace).
    """

    limits: Limits = field(default_factory=Limits)
    user: tuple[int, int] | None = None
    namespaces: bool = True
    readable: tuple[str, ...] = ()

    def command(
        self,
        folder: Path,
        command: list[str],
        *,
        env: dict[str, str],
        keep_env: tuple[str, ...] = (),
        writable: tuple[str, ...] = (),
        name: str = "sandbox",
        cwd: str | None = None,
    ) -> list[str]:
        """Write the launcher's configuration into ``folder`` and return its command.

        Parameters
        ----------
        folder : Path
            The sandbox's own folder: its working directory is ``folder/work`` (the
            only place it may write, with ``HOME`` and ``TMPDIR``), its stdout and
            stderr go to ``folder/<name>.stdout`` / ``.stderr`` (capped by the file
            size limit), and the configuration and isolation report are written
            beside them, where the sandbox cannot write.
        command : list of str
            The program and its arguments.
        env : dict of str to str
            Environment of the command, on top of ``HOME``, ``TMPDIR`` and ``PATH``.
        keep_env : tuple of str
            Names of variables to take from the launcher's own environment (a
            kernel needs the ``NBGRADER_EXECUTION`` that nbgrader sets).
        writable : tuple of str
            More paths the sandbox may write besides its working folder (a kernel's
            runtime folder, where its connection file and sockets are), handed to the
            sandbox user before it starts.
        name : str
            Prefix of the files written in ``folder``.
        cwd : str, optional
            Working directory of the command; default ``folder/work``.

        Returns
        -------
        list of str
            ``[python, -I, -S, _launch.py, config, --, *command]``.
        """
        work = folder / "work"
        work.mkdir(parents=True, exist_ok=True)
        (folder / "root").mkdir(exist_ok=True)
        writable = (str(work), *writable)
        config = {
            "user": list(self.user) if self.user else None,
            "namespaces": self.namespaces,
            "root": str(folder / "root"),
            "readonly": sorted(
                {*_system_paths(), *_python_paths(), *map(_real, self.readable)} - {"/"}
            ),
            "writable": [_real(path) for path in writable],
            "devices": list(DEVICES),
            "symlinks": dict(DEVICE_LINKS),
            "scratch": list(SCRATCH),
            "chown": list(writable),
            "rlimits": self.limits.rlimits(),
            "cwd": cwd or str(work),
            "env": {
                "PATH": os.path.dirname(sys.executable) + ":/usr/bin:/bin",
                "HOME": str(work),
                "TMPDIR": str(work),
                "LANG": "C.UTF-8",
                **env,
            },
            "keep_env": list(keep_env),
            "stdout": str(folder / f"{name}.stdout"),
            "stderr": str(folder / f"{name}.stderr"),
            "report": str(folder / f"{name}.isolation.json"),
        }
        config_path = folder / f"{name}.launch.json"
        config_path.write_text(json.dumps(config, indent=1))
        if self.user is not None:
            folder.chmod(0o711)
        return [sys.executable, "-I", "-S", str(LAUNCHER), str(config_path), "--", *command]


@dataclass(frozen=True)
class Isolation:
    """What the launcher could apply on this machine (its report).

    Attributes
    ----------
    namespaces : tuple of str
        Among ``"mount"``, ``"network"``, ``"pid"``, ``"user"``.
    user : int or None
        The uid the sandbox ran as, if it changed.
    warnings : tuple of str
        What was refused, in the kernel's words.
    error : str or None
        Why Python could not run in the sandbox (for example, the sandbox user cannot
        read the Python installation and there is no mount namespace to show it);
        ``None`` when it ran.
    allow_list : bool
        Whether the sandbox saw only its allow-listed view of the file system.
    """

    namespaces: tuple[str, ...]
    user: int | None
    warnings: tuple[str, ...]
    error: str | None = None
    allow_list: bool = False

    @property
    def network(self) -> bool:
        """Whether the sandbox has a network namespace of its own (no network)."""
        return "network" in self.namespaces

    def summary(self) -> str:
        """One line for logs and the README: what isolates the sandbox here."""
        parts = [f"namespaces: {', '.join(self.namespaces) or 'none'}"]
        parts.append("allow-listed files" if self.allow_list else "the whole file system")
        parts.append(f"uid {self.user}" if self.user is not None else "grader's uid")
        return "; ".join(parts)


@functools.lru_cache(maxsize=8)
def probe_isolation(policy: SandboxPolicy) -> Isolation:
    """Start a trivial sandboxed process under ``policy`` and read what it applied.

    The answer is cached per policy: a kernel's transport (IPC sockets inside a
    network namespace, TCP otherwise) depends on it.
    """
    with tempfile.TemporaryDirectory(prefix="edu-grade-probe-") as folder:
        command = policy.command(Path(folder), [sys.executable, "-I", "-c", "import numpy"], env={})
        completed = subprocess.run(command, check=False, timeout=120)
        report_path = Path(folder) / "sandbox.isolation.json"
        report = json.loads(report_path.read_text()) if report_path.exists() else {}
        error = None
        if completed.returncode != 0:
            stderr = (Path(folder) / "sandbox.stderr").read_text(errors="replace").strip()
            error = (
                f"{sys.executable} could not run in the sandbox (status "
                f"{completed.returncode}): {stderr.splitlines()[-1] if stderr else 'no message'}"
            )
    return Isolation(
        tuple(report.get("namespaces", ())),
        report.get("user"),
        tuple(report.get("warnings", ("the launcher wrote no report",))),
        error,
        bool(report.get("root")),
    )
