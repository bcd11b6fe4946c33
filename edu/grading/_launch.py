"""Start one command inside the grading sandbox (a script: standard library only).

Usage::

    python -I -S _launch.py CONFIG.json -- COMMAND [ARG ...]

It is run as a script, before anything of the student's is loaded, so it imports
nothing but the standard library. ``CONFIG.json`` (written by
:mod:`edu.grading._sandbox`) says what to apply; the steps, in the order that makes
them work:

1. New mount, network and PID namespaces (with a user namespace first when not
   root). Whatever the kernel refuses is skipped and written to the report.
2. The file-system view: every ``hide`` path is covered by an empty ``tmpfs`` (a
   file by ``/dev/null``), and every ``visible`` path under it is bound back in place,
   so that, for example, the course folder disappears except the Python environment.
3. A fork: the child is PID 1 of the new PID namespace, so that every process the
   command starts dies with it (a fork bomb included).
4. In the child, when started as root: ``chown`` of the writable folders, then
   ``setgid``/``setuid`` to the sandbox user, then a user namespace of its own, so that
   ``RLIMIT_NPROC`` counts this sandbox's processes only.
5. The resource limits, then a last fork: the command runs in its own process group
   with the given working directory, environment, stdin/stdout/stderr and
   ``PR_SET_PDEATHSIG``; the child stays behind as the namespace's init: it reaps
   orphans and forwards ``SIGINT`` (a kernel interrupt) to the command.

The launcher waits for the init process, forwards ``SIGINT`` to it, kills it if its
own parent dies (``getppid`` changes) or on ``SIGTERM``, and exits the way the
command did: with its exit status, or killed by the same signal, so that the caller
can tell a segfault (``SIGSEGV``), the CPU limit (``SIGXCPU``) and the file-size limit
(``SIGXFSZ``) apart.
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import json
import os
import resource
import signal
import sys
import tempfile

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_BIND = 0x1000
MS_MOVE = 0x2000
MS_REC = 0x4000
MS_PRIVATE = 0x40000
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36

_NAMESPACES = {"mount": CLONE_NEWNS, "network": CLONE_NEWNET, "pid": CLONE_NEWPID}
_FORWARDED = (signal.SIGINT,)
_FATAL = (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
_LIBC = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _unshare(flags: int) -> None:
    _check(_LIBC.unshare(ctypes.c_int(flags)), "unshare")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str = "") -> None:
    def raw(text: str | None) -> bytes | None:
        return None if text is None else os.fsencode(text)

    result = _LIBC.mount(raw(source), raw(target), raw(fstype), ctypes.c_ulong(flags), raw(data))
    _check(result, f"mount {target}")


def _map_own_ids() -> None:
    """Map the caller's uid and gid onto themselves in its new user namespace."""
    uid, gid = os.geteuid(), os.getegid()
    with open("/proc/self/setgroups", "w") as file:
        file.write("deny")
    with open("/proc/self/uid_map", "w") as file:
        file.write(f"{uid} {uid} 1")
    with open("/proc/self/gid_map", "w") as file:
        file.write(f"{gid} {gid} 1")


def _enter_namespaces(report: dict) -> set[str]:
    """Unshare mount, network and PID namespaces (as root, or inside a user namespace)."""
    wanted = ["mount", "network", "pid"]
    as_root = os.geteuid() == 0
    while wanted:
        flags = sum(_NAMESPACES[name] for name in wanted)
        try:
            if as_root:
                _unshare(flags)
            else:
                _unshare(CLONE_NEWUSER | flags)
                _map_own_ids()
                report["namespaces"].append("user")
        except OSError as error:
            report["warnings"].append(f"namespaces {'+'.join(wanted)} refused: {error}")
            wanted.pop()  # pid first, then network: the mount namespace matters most
            continue
        report["namespaces"].extend(wanted)
        return set(wanted)
    return set()


def _is_under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _build_view(hide: list[str], visible: list[str], report: dict) -> None:
    """Cover every ``hide`` path, then bind back the ``visible`` paths beneath it.

    A visible path is first bound to a staging folder, the hidden root is covered
    (``tmpfs`` for a folder, ``/dev/null`` for a file), the path is re-created inside
    the cover and the staged mount is moved onto it. Roots are processed outermost
    first; a root that no longer exists (it was under an earlier one) is skipped.
    """
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    stage = tempfile.mkdtemp(prefix="edu-sandbox-stage-")
    visible = sorted({os.path.realpath(path) for path in visible})
    try:
        for number, root in enumerate(sorted({os.path.realpath(p) for p in hide}, key=len)):
            if _is_under(stage, root):
                report["warnings"].append(f"not hidden (it holds the staging folder): {root}")
                continue
            if not os.path.lexists(root):
                continue
            keep = [v for v in visible if _is_under(v, root) and v != root and os.path.exists(v)]
            keep = [v for v in keep if not any(_is_under(v, o) and v != o for o in keep)]
            staged = []
            for index, path in enumerate(keep):
                target = os.path.join(stage, f"{number}-{index}")
                _make_like(path, target)
                _mount(path, target, None, MS_BIND | MS_REC)
                staged.append((path, target))
            if os.path.isdir(root):
                _mount("none", root, "tmpfs", 0, "size=1m,mode=0755")
            else:
                _mount("/dev/null", root, None, MS_BIND)
            for path, target in staged:
                _make_like(target, path)
                _mount(target, path, None, MS_MOVE)
            report["hidden"].append(root)
    finally:
        for name in os.listdir(stage):
            entry = os.path.join(stage, name)
            os.rmdir(entry) if os.path.isdir(entry) else os.unlink(entry)
        os.rmdir(stage)


def _make_like(model: str, path: str) -> None:
    """Create ``path`` (and its parents) as an empty folder or file, as ``model`` is."""
    if os.path.isdir(model):
        os.makedirs(path, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        open(path, "a").close()


def _drop_privileges(config: dict, report: dict) -> None:
    """As root: hand the writable folders to the sandbox user and become that user."""
    uid, gid = config["user"]
    for pattern in config.get("chown", []):
        for path in glob.glob(pattern):
            os.chown(path, uid, gid)
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    _LIBC.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)  # setuid cleared it; /proc/self needs it
    report["user"] = uid
    if not config.get("namespaces", True):
        return
    try:  # RLIMIT_NPROC then counts the processes of this user namespace only
        _unshare(CLONE_NEWUSER)
        _map_own_ids()
        report["namespaces"].append("user")
    except OSError as error:
        report["warnings"].append(f"user namespace refused, RLIMIT_NPROC is per uid: {error}")


def _apply_limits(limits: dict) -> None:
    for name, value in limits.items():
        kind = getattr(resource, name)
        hard = value + 1 if kind == resource.RLIMIT_CPU else value  # SIGXCPU before SIGKILL
        resource.setrlimit(kind, (value, hard))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _redirect(config: dict) -> None:
    """stdin from /dev/null; stdout and stderr to the files the config names (or null)."""
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    for fd, key in ((1, "stdout"), (2, "stderr")):
        path = config.get(key)
        target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600) if path else null
        os.dup2(target, fd)


def _exec_command(config: dict, command: list[str]) -> None:
    """The command's process: own process group, limits, redirections, then ``execve``."""
    os.setpgid(0, 0)
    _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    for number in (*_FORWARDED, *_FATAL):
        signal.signal(number, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    os.chdir(config["cwd"])
    _redirect(config)
    _apply_limits(config.get("rlimits", {}))
    env = {name: os.environ[name] for name in config.get("keep_env", []) if name in os.environ}
    env.update(config.get("env", {}))
    os.execvpe(command[0], command, env)


def _encode_status(status: int) -> int:
    """``waitpid`` status -> ``-signal`` or the exit code."""
    if os.WIFSIGNALED(status):
        return -os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


def _run_init(config: dict, command: list[str], report: dict, status_fd: int) -> None:
    """PID 1 of the sandbox: drop privileges, start the command, reap, report its status.

    Writes two lines to ``status_fd``: the isolation report (JSON), then the command's
    status as :func:`_encode_status` gives it.
    """
    _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    _LIBC.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    if config.get("user") and os.geteuid() == 0:
        _drop_privileges(config, report)
    os.write(status_fd, (json.dumps(report) + "\n").encode())
    child = os.fork()
    if child == 0:
        try:
            _exec_command(config, command)
        except BaseException as error:  # the command could not start: say why, exit 127
            os.write(2, f"sandbox: cannot start {command[0]}: {error}\n".encode())
        os._exit(127)
    os.closerange(3, status_fd)  # the command's pipes must close when it exits
    os.closerange(status_fd + 1, 1 << 16)

    def terminate(_number, _frame):
        os.killpg(child, signal.SIGKILL)
        os._exit(0)

    signal.signal(signal.SIGINT, lambda *_: os.kill(child, signal.SIGINT))
    signal.signal(signal.SIGTERM, terminate)
    result = 127
    while True:
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            break
        if pid == child:
            result = _encode_status(status)
            with contextlib.suppress(OSError):  # what the command left behind, if no PID namespace
                os.killpg(child, signal.SIGKILL)
            break
    os.write(status_fd, f"{result}\n".encode())
    os._exit(0)


def _supervise(init: int, status_read: int, report_path: str | None) -> int:
    """Wait for the init process; forward SIGINT; stop it if our parent goes away.

    Returns the command's status (``-signal`` or exit code) and writes the isolation
    report to ``report_path``.
    """
    parent = os.getppid()

    def forward(number, _frame):
        os.kill(init, number)

    def stop(_number, _frame):
        os.kill(init, signal.SIGTERM)  # init kills the command's process group, then exits
        signal.alarm(2)

    def kill(_number, _frame):
        os.kill(init, signal.SIGKILL)

    signal.signal(signal.SIGALRM, kill)
    for number in _FORWARDED:
        signal.signal(number, forward)
    for number in _FATAL:
        signal.signal(number, stop)
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGCHLD])
    while True:
        pid, status = os.waitpid(init, os.WNOHANG)
        if pid:
            break
        if os.getppid() != parent:
            os.kill(init, signal.SIGKILL)
        signal.sigtimedwait([signal.SIGCHLD], 0.25)
    chunks = []
    while chunk := os.read(status_read, 1 << 16):
        chunks.append(chunk)
    lines = b"".join(chunks).decode().splitlines()
    if report_path and lines:
        with open(report_path, "w") as file:
            file.write(lines[0])
    if len(lines) < 2:  # init itself was killed before the command ended
        return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else 127
    return int(lines[1])


def _exit_like(result: int) -> None:
    """Exit with ``result`` (an exit code), or die by signal ``-result``."""
    if result >= 0:
        os._exit(result)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    signal.signal(-result, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [-result])
    os.kill(os.getpid(), -result)
    os._exit(128 - result)


def main(argv: list[str]) -> None:
    """Parse ``CONFIG -- COMMAND...``, build the sandbox, run the command in it."""
    if len(argv) < 3 or argv[1] != "--":
        sys.exit("usage: _launch.py CONFIG.json -- COMMAND [ARG ...]")
    with open(argv[0]) as file:
        config = json.load(file)
    command = argv[2:]
    report = {"namespaces": [], "hidden": [], "user": None, "warnings": []}
    if config.get("namespaces", True):
        entered = _enter_namespaces(report)
        if "mount" in entered:
            try:
                _build_view(config.get("hide", []), config.get("visible", []), report)
            except OSError as error:
                report["warnings"].append(f"file-system view not built: {error}")
    status_read, status_write = os.pipe()
    init = os.fork()
    if init == 0:
        os.close(status_read)
        _run_init(config, command, report, status_write)
    os.close(status_write)
    os.closerange(3, status_read)  # the command's pipes must close when it exits
    os.closerange(status_read + 1, 1 << 16)
    _exit_like(_supervise(init, status_read, config.get("report")))


if __name__ == "__main__":
    main(sys.argv[1:])
