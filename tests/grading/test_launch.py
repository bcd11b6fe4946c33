"""The sandbox launcher, seen from outside: what a process in it can do and how it ends.

Every test starts a real sandboxed Python process with small limits and checks its
exit status, its output files and what it could reach. Where the machine does not
allow namespaces (a container without them) the tests that need one are skipped,
with the launcher's own report as the reason.
"""

import ast
import dataclasses
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from edu.grading import AssignmentLayout, Limits, describe_exit, probe_isolation

_EMPTY_LAYOUT = AssignmentLayout("homework", ())


@pytest.fixture
def isolation(policy):
    return probe_isolation(policy)


def test_does_a_cpu_bound_loop_end_at_the_cpu_limit(policy, tmp_path, run_sandboxed):
    """Is an infinite loop killed by SIGXCPU, and is that what the message says?"""
    start = time.monotonic()
    returncode, _, _ = run_sandboxed(policy, tmp_path / "s", "while True: pass", cpu_s=1)
    assert returncode == -signal.SIGXCPU
    assert time.monotonic() - start < 30
    assert "CPU time limit of 1 s" in describe_exit(returncode, Limits(cpu_s=1), "f")


def test_is_an_exit_code_passed_through(policy, tmp_path, run_sandboxed):
    """Does os._exit(3) in the sandbox give exit status 3 to the grader?"""
    returncode, _, _ = run_sandboxed(policy, tmp_path / "s", "import os; os._exit(3)")
    assert returncode == 3


def test_is_a_segfault_reported_as_sigsegv(policy, tmp_path, run_sandboxed):
    """Does a segmentation fault (ctypes reading address 0) show as SIGSEGV?"""
    returncode, _, _ = run_sandboxed(policy, tmp_path / "s", "import ctypes; ctypes.string_at(0)")
    assert returncode == -signal.SIGSEGV


def test_is_a_sigkill_reported_as_sigkill(policy, tmp_path, run_sandboxed):
    """Does a command killed by SIGKILL (which no handler can catch) show as SIGKILL,
    with nothing on stderr from the launcher itself?"""
    code = "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"
    returncode, _, err = run_sandboxed(policy, tmp_path / "s", code)
    assert returncode == -signal.SIGKILL
    assert "Traceback" not in err


def test_does_huge_output_stop_at_the_file_size_limit(policy, tmp_path, run_sandboxed):
    """Does printing without end stop at the file size limit, the output file capped?

    Python ignores SIGXFSZ, so the write fails with EFBIG ("File too large") instead.
    """
    code = "import sys\nwhile True: sys.stdout.write('x' * 65536)"
    returncode, out, err = run_sandboxed(policy, tmp_path / "s", code, file_size_bytes=1 << 20)
    assert returncode == 1
    assert "File too large" in err
    assert len(out) <= 1 << 20


def test_does_a_2gb_allocation_fail_under_the_memory_limit(policy, tmp_path, run_sandboxed):
    """Does allocating 2 GB raise MemoryError in the sandbox (1 GiB limit)?"""
    code = "import numpy as np\ntry:\n    np.ones(2**28)\nexcept MemoryError:\n    print('refused')"
    returncode, out, _ = run_sandboxed(policy, tmp_path / "s", code)
    assert returncode == 0
    assert out.strip() == "refused"


def test_is_a_fork_bomb_bounded_and_cleaned_up(policy, tmp_path, isolation, run_sandboxed):
    """Does RLIMIT_NPROC stop a fork bomb, and does nothing of it outlive the sandbox?"""
    code = (
        "import os, time\n"
        "children = 0\n"
        "for _ in range(500):\n"
        "    try:\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(60)\n"
        "            os._exit(0)\n"
        "        children += 1\n"
        "    except OSError:\n"
        "        break\n"
        "print(children)\n"
    )
    returncode, out, _ = run_sandboxed(policy, tmp_path / "s", code, processes=20)
    assert returncode == 0
    assert 0 < int(out) < 20
    if "pid" not in isolation.namespaces:
        pytest.skip(f"no PID namespace here: {isolation.warnings}")
    left = subprocess.run(["pgrep", "-f", "time.sleep\\(60\\)"], capture_output=True, text=True)
    assert left.stdout.strip() == ""


def test_is_there_no_network(policy, tmp_path, isolation, run_sandboxed):
    """Can the sandbox open a connection? (It must not, with a network namespace.)"""
    if not isolation.network:
        pytest.skip(f"no network namespace here: {isolation.warnings}")
    code = (
        "import socket\n"
        "try:\n"
        "    socket.create_connection(('1.1.1.1', 53), timeout=3)\n"
        "    print('connected')\n"
        "except OSError as error:\n"
        "    print('refused', error.errno)\n"
    )
    _, out, _ = run_sandboxed(policy, tmp_path / "s", code)
    assert out.startswith("refused")


def test_are_hidden_folders_empty_and_python_still_works(
    policy, tmp_path, isolation, run_sandboxed, repo
):
    """Is the repository (course, checks) empty in the sandbox, while numpy imports?"""
    if "mount" not in isolation.namespaces:
        pytest.skip(f"no mount namespace here: {isolation.warnings}")
    secret = tmp_path / "other-student.txt"
    secret.write_text("answers")
    code = (
        "import os, numpy\n"
        f"checks = {str(repo / 'grader')!r}\n"
        "print(os.path.isdir(checks) and bool(os.listdir(checks)))\n"
        f"print(os.path.exists({str(secret)!r}))\n"
    )
    returncode, out, _ = run_sandboxed(policy, tmp_path / "s", code)
    assert returncode == 0
    assert out.split("\n")[:2] == ["False", "False"]


def test_does_the_sandbox_run_as_the_sandbox_user(policy, tmp_path, as_root, run_sandboxed):
    """When the grader is root, does the sandboxed process run as an unprivileged user?"""
    if not as_root:
        pytest.skip("the grader is not root: the sandbox keeps its user")
    _, out, _ = run_sandboxed(policy, tmp_path / "s", "import os; print(os.getuid())")
    assert int(out) == policy.user[0] != 0


def test_does_the_sandbox_die_with_its_parent(policy, tmp_path, isolation):
    """If the grader's process is killed, does the sandboxed command stop too?"""
    if "pid" not in isolation.namespaces:
        pytest.skip(f"no PID namespace here: {isolation.warnings}")
    folder = tmp_path / "s"
    folder.mkdir()
    folder.chmod(0o711)
    command = policy.command(
        folder, [sys.executable, "-I", "-c", "import time; time.sleep(300)  # orphan-test"], env={}
    )
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import subprocess, sys; subprocess.Popen(sys.argv[1:]).wait()",
            *command,
        ]
    )
    time.sleep(2)
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = subprocess.run(["pgrep", "-f", "orphan-test"], capture_output=True, text=True)
        if not found.stdout.strip():
            break
        time.sleep(0.25)
    assert found.stdout.strip() == "", "the sandboxed command outlived its parent"


def test_does_the_probe_report_what_was_applied(isolation):
    """Does probe_isolation give a readable summary of the namespaces and the user?"""
    assert "namespaces:" in isolation.summary()
    assert os.geteuid() != 0 or isolation.user is not None or isolation.warnings


def test_do_limits_and_user_still_apply_without_namespaces(policy, run_sandboxed):
    """With namespaces turned off (a container that forbids them), are the CPU limit and
    the user change still applied, or, where the sandbox user cannot even start Python
    without a mount namespace to show it the installation, does the probe say so?"""
    plain = dataclasses.replace(policy, namespaces=False)
    isolation = probe_isolation(plain)
    assert isolation.namespaces == ()
    if isolation.error:
        assert "could not run in the sandbox" in isolation.error
        pytest.skip(f"Python cannot run as the sandbox user here: {isolation.error}")
    # no mount namespace: the folders must be reachable by the sandbox user as they are
    with tempfile.TemporaryDirectory(prefix="edu-plain-") as folder:
        Path(folder).chmod(0o711)
        returncode, _, _ = run_sandboxed(plain, Path(folder, "loop"), "while 1: pass", cpu_s=1)
        assert returncode == -signal.SIGXCPU
        _, out, _ = run_sandboxed(plain, Path(folder, "who"), "import os; print(os.getuid())")
    if os.geteuid() == 0:
        assert int(out) == policy.user[0]


def test_does_grading_refuse_to_start_when_python_cannot_run(tmp_path, monkeypatch):
    """If the probe finds that Python cannot start in the sandbox, is that a clear error?"""
    from edu.grading import Isolation, _pipeline, _runner

    failed = Isolation((), 65534, (), "python could not run in the sandbox (status 127): denied")
    monkeypatch.setattr(_pipeline, "probe_isolation", lambda policy: failed)
    monkeypatch.setattr(_runner, "collect_checks", lambda folder: [])
    monkeypatch.setattr(_runner.Course, "layout", lambda self, name: _EMPTY_LAYOUT)
    monkeypatch.setattr(_runner.Course, "template_gradebook", lambda self: b"")
    with pytest.raises(ValueError, match="the sandbox cannot start"):
        _runner.grade_course(tmp_path, "homework", progress=False, stream=None)


def _no_mount_namespace(monkeypatch):
    from edu.grading import Isolation, _pipeline

    plain = Isolation(("pid",), 65534, ("no mount namespace (test)",), None, False)
    monkeypatch.setattr(_pipeline, "probe_isolation", lambda policy: plain)


def test_without_namespaces_is_the_editable_checkout_protected(tmp_path, monkeypatch, repo):
    """Without a mount namespace, does grading refuse when the sandbox user can read the
    solutions and checks of the repository the editable edu runs from (not only those of
    the course folder), naming them?"""
    from edu.grading import _runner

    _no_mount_namespace(monkeypatch)
    monkeypatch.setattr(_runner, "collect_checks", lambda folder: [])
    monkeypatch.setattr(_runner.Course, "layout", lambda self, name: _EMPTY_LAYOUT)
    monkeypatch.setattr(_runner.Course, "template_gradebook", lambda self: b"")
    (tmp_path / "grader").mkdir()  # the course's own checks: made unreadable below
    (tmp_path / "grader").chmod(0o700)
    with pytest.raises(ValueError, match="cannot hide the file system") as caught:
        _runner.grade_course(tmp_path, "homework", progress=False, stream=None)
    assert str(repo / "solutions") in str(caught.value)
    assert str(tmp_path / "grader") not in str(caught.value)


def test_does_every_job_check_its_own_machine(tmp_path, monkeypatch, repo):
    """Does a job refuse to grade where its machine cannot hide the instructor's material
    (a cluster worker without namespaces), whatever the machine that started the run saw?"""
    from edu.grading import GradingJob, GradingSettings, grade_submission

    _no_mount_namespace(monkeypatch)
    settings = GradingSettings(
        layout=_EMPTY_LAYOUT,
        template_db=b"",
        checks_dir=str(repo / "grader"),
        protected=(str(repo / "grader"),),
        scratch_root=str(tmp_path / "scratch"),
    )
    with pytest.raises(ValueError, match="cannot hide the file system"):
        grade_submission(GradingJob("alice", str(tmp_path), settings))
    assert not (tmp_path / "scratch").exists()


def test_does_the_sandbox_see_only_its_allow_list(policy, tmp_path, isolation, run_sandboxed, repo):
    """Is the root an allow-list: no repository but the Python environment, no home?"""
    if not isolation.allow_list:
        pytest.skip(f"no mount namespace here: {isolation.warnings}")
    code = (
        "import os\n"
        f"print(os.path.exists({str(repo / 'solutions')!r}), os.path.exists('/root/.bashrc'))\n"
        f"print(sorted(os.listdir({str(repo)!r})))\n"
    )
    returncode, out, _ = run_sandboxed(policy, tmp_path / "s", code)
    assert returncode == 0
    lines = out.splitlines()
    assert lines[0] == "False False"
    assert set(ast.literal_eval(lines[1])) <= {".venv"}


def test_does_nothing_written_outlive_the_sandbox(policy, tmp_path, isolation, run_sandboxed):
    """Are files written to /tmp, /var/tmp and /dev/shm gone, and the environment read-only?"""
    if not isolation.allow_list:
        pytest.skip(f"no mount namespace here: {isolation.warnings}")
    name = f"edu-launch-test-{os.getpid()}"
    code = (
        "import os, sys\n"
        "for folder in ('/tmp', '/var/tmp', '/dev/shm'):\n"
        f"    open(os.path.join(folder, {name!r}), 'w').write('x')\n"
        "try:\n"
        f"    open(os.path.join(sys.prefix, {name!r}), 'w')\n"
        "except OSError as error:\n"
        "    print(error.errno)\n"
    )
    returncode, out, err = run_sandboxed(policy, tmp_path / "s", code)
    assert returncode == 0, err
    assert int(out) in (13, 30)  # EACCES (nobody) or EROFS (read-only bind)
    for folder in ("/tmp", "/var/tmp", "/dev/shm", sys.prefix):
        assert not os.path.exists(os.path.join(folder, name)), folder
