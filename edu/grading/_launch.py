"""Start one command inside the grading sandbox (a script: standard library only).

Usage::

    python -I -S _launch.py CONFIG.json -- COMMAND [ARG ...]

It is run as a script, before anything of the student's is loaded, so it imports
nothing but the standard library. ``CONFIG.json`` (written by
:mod:`edu.grading._sandbox`) says what to apply; the steps, in the order that makes
them work:

1. New mount, network and PID namespaces (with a user namespace first when not
   root). Whatever the kernel refuses is skipped and written to the report.
2. The file-system view, from an allow-list: an empty root (``tmpfs``) into which
   only the ``readonly`` paths (the Python environment, the system's libraries, the
   code the command runs) are bound read-only, the ``writable`` ones (its working
   folder) read-write, with private ``/tmp``, ``/var/tmp`` and ``/dev/shm``; then
   ``pivot_root`` into it. If the view cannot be built, the command does not run.
3. A fork: the child is PID 1 of the new PID namespace, so that every process the
   command starts dies with it (a fork bomb included); it mounts the namespace's own
   ``/proc``.
4. In the child, when started as root: ``chown`` of the writable folders, then
   ``setgid``/``setuid`` to the sandbox user, then a user namespace of its own, so that
   ``RLIMIT_NPROC`` counts this sandbox's processes only. When started unprivileged:
   a nested user namespace in which the command is ``nobody``, without power over the
   view's mounts.
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
import functools
import glob
import json
import os
import resource
import signal
import sys

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_REMOUNT = 0x20
MS_NOATIME = 0x400
MS_NODIRATIME = 0x800
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 0x40000
MS_RELATIME = 0x200000
MNT_DETACH = 0x2
_ST_RELATIME = 0x1000
PR_SET_NO_NEW_PRIVS = 38
OUTPUTS = ("stdout", "stderr", "report")
_NOBODY = 65534
_SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}
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


def _enter_user_namespace(uid: int, gid: int) -> None:
    """A new user namespace in which the caller's uid and gid are ``uid`` and ``gid``."""
    outside_uid, outside_gid = os.geteuid(), os.getegid()
    _unshare(CLONE_NEWUSER)
    with open("/proc/self/setgroups", "w") as file:
        file.write("deny")
    with open("/proc/self/uid_map", "w") as file:
        file.write(f"{uid} {outside_uid} 1")
    with open("/proc/self/gid_map", "w") as file:
        file.write(f"{gid} {outside_gid} 1")


def _enter_namespaces(report: dict) -> set[str]:
    """Unshare mount, network and PID namespaces (as root, or inside a user namespace)."""
    if os.geteuid() != 0:
        try:
            _enter_user_namespace(os.geteuid(), os.getegid())
        except OSError as error:
            report["warnings"].append(f"user namespace refused: {error}")
            return set()
        report["namespaces"].append("user")
    wanted = ["mount", "network", "pid"]
    while wanted:
        try:
            _unshare(sum(_NAMESPACES[name] for name in wanted))
        except OSError as error:
            report["warnings"].append(f"namespaces {'+'.join(wanted)} refused: {error}")
            wanted.pop()  # pid first, then network: the mount namespace matters most
            continue
        report["namespaces"].extend(wanted)
        return set(wanted)
    return set()


def _bind(source: str, target: str, readonly: bool) -> None:
    """Bind ``source`` onto ``target`` (created like it), read-only if asked.

    A read-only remount keeps the flags of the mount it comes from (``nosuid``,
    ``nodev``, ...): inside a user namespace the kernel refuses to clear them.
    """
    if not os.path.lexists(target):
        _make_like(source, target)
    _mount(source, target, None, MS_BIND | MS_REC)
    if readonly:
        _mount(None, target, None, MS_BIND | MS_REMOUNT | MS_RDONLY | _locked_flags(source))


def _build_root(config: dict, report: dict) -> None:
    """Make an empty root holding only the allowed paths, and enter it.

    An empty ``tmpfs`` at ``config["root"]`` gets, at their own paths: the ``readonly``
    paths bound read-only (the Python environment, the system's libraries, the code
    the command runs), the ``writable`` ones bound read-write (its working folder), the
    ``symlinks`` (``/dev/fd``), the ``devices`` (``/dev/null``, ...), and first a private
    ``tmpfs`` at each ``scratch`` path (``/tmp``, ``/var/tmp``, ``/dev/shm``) that
    disappears with the sandbox (a folder bound beneath one is bound into it).
    ``pivot_root`` then makes it the root and the old one is detached: nothing else of
    the machine can be reached, by any path.
    """
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    root = os.path.realpath(config["root"])
    _mount("none", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755")
    inside = functools.partial(_inside, root)
    for path in config.get("scratch", []):
        os.makedirs(inside(path), exist_ok=True)
        _mount("none", inside(path), "tmpfs", MS_NOSUID | MS_NODEV, "size=64m,mode=1777")
    binds = [(p, True) for p in config.get("readonly", [])]
    binds += [(p, False) for p in config.get("writable", [])]
    for path, readonly in sorted(binds, key=lambda item: item[0].count("/")):
        if os.path.islink(path):
            os.makedirs(os.path.dirname(inside(path)), exist_ok=True)
            os.symlink(os.readlink(path), inside(path))
        elif os.path.exists(path):
            _bind(path, inside(path), readonly)
    for path in config.get("devices", []):
        if os.path.exists(path):
            _bind(path, inside(path), readonly=False)
    for link, target in config.get("symlinks", {}).items():
        if not os.path.lexists(inside(link)):
            os.makedirs(os.path.dirname(inside(link)), exist_ok=True)
            os.symlink(target, inside(link))
    os.makedirs(inside("/proc"), exist_ok=True)
    os.chdir(root)
    _check(_LIBC.syscall(_SYS_PIVOT_ROOT[os.uname().machine], b".", b"."), "pivot_root")
    _check(_LIBC.umount2(b".", MNT_DETACH), "detach the old root")
    os.chdir("/")
    report["root"] = "allow-list"


def _inside(root: str, path: str) -> str:
    return os.path.join(root, path.lstrip("/"))


def _locked_flags(path: str) -> int:
    """The mount flags of ``path``'s mount that a bind of it must keep."""
    flags = os.statvfs(path).f_flag
    kept = flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME)
    return kept | (MS_RELATIME if flags & _ST_RELATIME else 0)


def _make_like(model: str, path: str) -> None:
    """Create ``path`` (and its parents) as an empty folder or file, as ``model`` is."""
    if os.path.isdir(model):
        os.makedirs(path, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        open(path, "a").close()


def _mount_proc(report: dict) -> None:
    """A ``/proc`` of the sandbox's own PID namespace (its processes only)."""
    try:
        _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    except OSError as error:
        report["warnings"].append(f"no /proc in the sandbox: {error}")


def _drop_privileges(config: dict, report: dict) -> None:
    """Become an unprivileged user, in a user namespace of the sandbox's own.

    As root: hand the writable folders to the sandbox user, become that user, then
    enter a user namespace, so that ``RLIMIT_NPROC`` counts this sandbox's processes
    only. Started unprivileged (already in the user namespace the view was built in):
    a nested user namespace in which the command is ``nobody`` (65534) and holds no
    power over the mounts of the view, which the kernel then locks.
    """
    if os.geteuid() != 0:
        if "user" in report["namespaces"]:
            try:
                _enter_user_namespace(_NOBODY, _NOBODY)
                report["user"] = _NOBODY
            except OSError as error:
                report["warnings"].append(f"nested user namespace refused: {error}")
        return
    if not config.get("user"):
        return
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
        _enter_user_namespace(uid, gid)
        report["namespaces"].append("user")
    except OSError as error:
        report["warnings"].append(f"user namespace refused, RLIMIT_NPROC is per uid: {error}")


def _apply_limits(limits: dict) -> None:
    for name, value in limits.items():
        kind = getattr(resource, name)
        hard = value + 1 if kind == resource.RLIMIT_CPU else value  # SIGXCPU before SIGKILL
        resource.setrlimit(kind, (value, hard))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _open_outputs(config: dict) -> dict[str, int]:
    """The files the config names for stdout, stderr and the report, opened for writing.

    Opened before the view is built: they are outside it.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC
    return {key: os.open(config[key], flags, 0o600) for key in OUTPUTS if config.get(key)}


def _redirect(outputs: dict[str, int]) -> None:
    """stdin from /dev/null; stdout and stderr to the opened files (or /dev/null)."""
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    for fd, key in ((1, "stdout"), (2, "stderr")):
        os.dup2(outputs.get(key, null), fd)


def _exec_command(config: dict, command: list[str], outputs: dict[str, int]) -> None:
    """The command's process: own process group, limits, redirections, then ``execve``.

    ``PR_SET_NO_NEW_PRIVS``: no program it runs gains privileges (set-user-ID files).
    """
    os.setpgid(0, 0)
    _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    _LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    for number in (*_FORWARDED, *_FATAL):
        signal.signal(number, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    os.chdir(config["cwd"])
    _redirect(outputs)
    _apply_limits(config.get("rlimits", {}))
    env = {name: os.environ[name] for name in config.get("keep_env", []) if name in os.environ}
    env.update(config.get("env", {}))
    os.execvpe(command[0], command, env)


def _encode_status(status: int) -> int:
    """``waitpid`` status -> ``-signal`` or the exit code."""
    if os.WIFSIGNALED(status):
        return -os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


def _run_init(
    config: dict, command: list[str], report: dict, status_fd: int, outputs: dict[str, int]
) -> None:
    """PID 1 of the sandbox: mount its ``/proc``, drop privileges, start the command, reap,
    report its status.

    Writes two lines to ``status_fd``: the isolation report (JSON), then the command's
    status as :func:`_encode_status` gives it.
    """
    _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    _LIBC.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    if report.get("root"):
        _mount_proc(report)
    _drop_privileges(config, report)
    os.write(status_fd, (json.dumps(report) + "\n").encode())
    child = os.fork()
    if child == 0:
        try:
            _exec_command(config, command, outputs)
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


def _supervise(init: int, status_read: int, report_fd: int | None) -> int:
    """Wait for the init process; forward SIGINT; stop it if our parent goes away.

    Returns the command's status (``-signal`` or exit code) and writes the isolation
    report to ``report_fd``.
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
    if report_fd is not None and lines:
        os.write(report_fd, lines[0].encode())
    if len(lines) < 2:  # init itself was killed before the command ended
        return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else 127
    return int(lines[1])


def _exit_like(result: int) -> None:
    """Exit with ``result`` (an exit code), or die by signal ``-result``."""
    if result >= 0:
        os._exit(result)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if -result not in (signal.SIGKILL, signal.SIGSTOP):  # those two have no handler to reset
        signal.signal(-result, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [-result])
    os.kill(os.getpid(), -result)
    os._exit(128 - result)


def _close_all_but(*kept: int) -> None:
    """Close every descriptor from 3 up, except ``kept`` (the command's pipes must close
    when it exits)."""
    low = 3
    for fd in sorted(kept):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, 1 << 16)


def main(argv: list[str]) -> None:
    """Parse ``CONFIG -- COMMAND...``, build the sandbox, run the command in it.

    When the view cannot be built in a mount namespace the kernel gave, the command
    does not run (status 127, the reason on stderr): the sandbox never falls back to
    the whole file system.
    """
    if len(argv) < 3 or argv[1] != "--":
        sys.exit("usage: _launch.py CONFIG.json -- COMMAND [ARG ...]")
    with open(argv[0]) as file:
        config = json.load(file)
    command = argv[2:]
    report = {"namespaces": [], "root": None, "user": None, "warnings": []}
    outputs = _open_outputs(config)
    if config.get("namespaces", True) and "mount" in _enter_namespaces(report):
        try:
            _build_root(config, report)
        except OSError as error:
            message = f"sandbox: the file-system view could not be built: {error}\n"
            os.write(outputs.get("stderr", 2), message.encode())
            os._exit(127)
    status_read, status_write = os.pipe()
    init = os.fork()
    if init == 0:
        os.close(status_read)
        _run_init(config, command, report, status_write, outputs)
    os.close(status_write)
    report_fd = outputs.get("report")
    _close_all_but(status_read, *([] if report_fd is None else [report_fd]))
    _exit_like(_supervise(init, status_read, report_fd))


if __name__ == "__main__":
    main(sys.argv[1:])
