"""nbgrader's autograde of one submission, in a process from a preloaded forkserver.

Each test autogrades the course's own Part 0 (five true/false cells and no imports,
so the notebook itself runs in a second) with a last cell of the test's choosing.
nbgrader's scores are checked against the answers the submission gives, the kernel's
user against the sandbox's, and what is left running against ``/proc``.
"""

import json
import multiprocessing
import os
import shutil
import threading
import time
from pathlib import Path

import nbformat
import pytest

import edu
from edu.grading import (
    Course,
    Deadline,
    _autograde,
    _nbgrader_run,
    probe_isolation,
    read_submission,
)
from edu.grading._autograde import _forkserver, autograde

pytestmark = pytest.mark.slow

EDU_SOURCE = Path(edu.__file__).parent  # the kernel reads it: the hidden tests import edu
NOTEBOOK = "part0_true_false"
RIGHT = {"1_1": False, "1_2": False, "1_3": True, "1_4": False, "1_5": False}
WHO = (
    "import os, edu\nprint('kernel uid', os.getuid())\n"
    "print('edu from', os.path.realpath(edu.__file__))\n"
    "print('its PYTHONPATH holds', sorted(os.listdir(os.environ['PYTHONPATH'])))"
)


@pytest.fixture(scope="module")
def course(tmp_path_factory, repo):
    """The homework's layout, recorded in a gradebook, and that gradebook without students."""
    root = tmp_path_factory.mktemp("course")
    shutil.copytree(repo / "solutions" / "homework", root / "source" / "homework")
    course = Course(root)
    return course.layout("homework"), course.template_gradebook()


@pytest.fixture(scope="module")
def sandbox_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("autograde")
    root.chmod(0o711)
    return root


@pytest.fixture(scope="module")
def submit(sandbox_root, course, solution_notebooks, fast_limits):
    """``submit(student, answers, last_cell)`` -> (Submission, empty scratch folder)."""

    def submit(student, answers, last_cell):
        notebook = nbformat.from_dict(json.loads(nbformat.writes(solution_notebooks[NOTEBOOK])))
        for cell in notebook.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
            if grade_id.startswith("tf_"):
                cell.source = f"answer_{grade_id[3:]} = {answers[grade_id[3:]]}"
        notebook.cells.append(nbformat.v4.new_code_cell(last_cell))
        folder = sandbox_root / "submitted" / student
        folder.mkdir(parents=True)
        nbformat.write(notebook, folder / f"{NOTEBOOK}.ipynb")
        scratch = sandbox_root / "scratch" / student
        scratch.mkdir(parents=True)
        scratch.chmod(0o711)
        return read_submission(folder, student, course[0], fast_limits), scratch

    return submit


def _processes() -> dict[int, tuple[int, int, str, str]]:
    """``{pid: (parent pid, session id, working folder, command line)}`` of live processes."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            state, ppid, _, session = (entry / "stat").read_text().rsplit(")", 1)[1].split()[:4]
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            cwd = os.readlink(entry / "cwd")
        except OSError:  # gone meanwhile, or a kernel thread
            continue
        if state != "Z":
            found[int(entry.name)] = (int(ppid), int(session), cwd, command)
    return found


def _running_in(folder: Path, processes=None) -> dict[int, tuple[int, int, str, str]]:
    """The ``processes`` (as :func:`_processes`; default all) working in ``folder`` or naming it."""
    return {
        pid: process
        for pid, process in (_processes() if processes is None else processes).items()
        if str(folder) in process[3] or process[2].startswith(str(folder))
    }


def _gone(pids, seconds=10.0) -> set[int]:
    """Which of ``pids`` still run after waiting up to ``seconds`` for them to end."""
    end = time.monotonic() + seconds
    while (left := set(pids) & set(_processes())) and time.monotonic() < end:
        time.sleep(0.2)
    return left


def test_are_nbgraders_scores_and_notebook_read_back(submit, course, make_policy, sandbox_root):
    """Two students in turn: each one's scores, its kernel sandboxed by its own kernelspec?"""
    policy = make_policy(EDU_SOURCE)
    expected_uid = policy.user[0] if policy.user else os.getuid()
    wrong = {**RIGHT, "1_3": False}
    for student, answers in (("alice", RIGHT), ("bob", wrong)):
        submission, scratch = submit(student, answers, WHO)
        network = probe_isolation(policy).network
        results = autograde(submission, course[1], scratch, policy, Deadline(300), network)
        assert {name: r.status for name, r in results.items() if name != NOTEBOOK} == {
            "lab1_sparse_regression": "not-run",
            "lab2_pruning": "not-run",
            "lab3_quantization": "not-run",
        }
        result = results[NOTEBOOK]
        assert (result.status, result.message) == ("autograded", ""), student
        for key, answer in answers.items():
            grade = result.grades[f"test_tf_{key}"]
            assert grade["max_score"] == 1
            assert grade["auto_score"] == (1 if answer == RIGHT[key] else 0), (student, key)
            assert result.grades[f"why_{key}"]["needs_manual_grade"]
        # the kernel ran from this submission's kernelspec (the sandbox), not the stock one
        assert f"kernel uid {expected_uid}" in result.notebook, student
        # and imported the grader's edu, from a folder that makes nothing else importable
        assert f"edu from {(EDU_SOURCE / '__init__.py').resolve()}" in result.notebook
        assert "its PYTHONPATH holds ['edu']" in result.notebook


def test_is_the_process_killed_at_the_deadline_with_its_kernel(
    submit, course, make_policy, sandbox_root, monkeypatch
):
    """A notebook that sleeps forever: stopped at the submission's deadline, nothing left?"""
    submission, scratch = submit("sleeper", RIGHT, "import time\ntime.sleep(10**6)")
    policy = make_policy(EDU_SOURCE, cell_timeout_s=600)
    network = probe_isolation(policy).network
    seconds = 25
    outcome = {}
    started = []  # the autograde process, known by its pid, not by what /proc shows of it
    start = _autograde._start

    def start_and_record(process):
        start(process)
        started.append(process.pid)

    monkeypatch.setattr(_autograde, "_start", start_and_record)

    def grade():
        started = time.monotonic()
        outcome["results"] = autograde(
            submission, course[1], scratch, policy, Deadline(seconds), network
        )
        outcome["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=grade)
    thread.start()
    seen = {}
    while thread.is_alive():
        running = _processes()
        seen.update(_running_in(scratch, running))
        seen.update({pid: running[pid] for pid in started if pid in running})
        time.sleep(0.2)
    thread.join()
    kernels = [pid for pid, process in seen.items() if "ipykernel_launcher" in process[3]]
    assert kernels, f"no kernel started within {seconds} s: {seen}"
    (nbgrader,) = started
    assert nbgrader in seen, f"the autograde process {nbgrader} was never seen running: {seen}"
    assert seen[nbgrader][1] == nbgrader  # it leads its own session
    assert _gone(seen) == set()
    assert _running_in(scratch) == {}
    result = outcome["results"][NOTEBOOK]
    assert result.status == "failed"
    assert result.message == (
        f"not autograded: the submission's time limit of {seconds} s was reached"
    )
    assert seconds <= outcome["seconds"] < seconds + 15  # the deadline, not the cell's 600 s


def test_does_it_work_in_a_daemonic_process(submit, course, make_policy, sandbox_root):
    """Called in a daemonic process (a Dask worker's kind): graded, and its forkserver ends?"""
    submission, scratch = submit("daemonic", RIGHT, WHO)
    policy = make_policy(EDU_SOURCE)
    network = probe_isolation(policy).network
    worker = multiprocessing.get_context("spawn").Process(
        target=autograde,
        args=(submission, course[1], scratch, policy, Deadline(300), network),
        daemon=True,
    )
    worker.start()
    forkservers = set()
    while worker.is_alive():
        forkservers |= {
            pid
            for pid, (ppid, _, _, command) in _processes().items()
            if ppid == worker.pid and "multiprocessing.forkserver" in command
        }
        time.sleep(0.2)
    assert worker.exitcode == 0
    outcome = json.loads((scratch / "autograde-outcome.json").read_text())
    assert outcome[NOTEBOOK]["success"]
    autograded = scratch / "course" / "autograded" / "daemonic" / "homework" / f"{NOTEBOOK}.ipynb"
    assert "kernel uid" in autograded.read_text()
    assert len(forkservers) == 1
    assert _gone(forkservers) == set()  # it ends with the process that started it


def test_does_the_log_get_the_processs_output(tmp_path):
    """Does what the autograde process writes on stderr (here a traceback) go to its log?"""
    log = tmp_path / "nbgrader.log"
    process = _forkserver().Process(
        target=_nbgrader_run.main, args=({}, dict(os.environ), str(tmp_path), str(log))
    )
    process.start()
    process.join(60)
    assert process.exitcode == 1
    assert "KeyError: 'limits'" in log.read_text()


def test_are_timed_out_cells_named_as_a_student_finds_them():
    """Does a cell stopped at the cell time limit come out as its position from 1 with
    its nbgrader id, or its first line?"""
    from edu.grading._autograde import _timed_out_cells

    timeout = nbformat.v4.new_output("error", ename="CellTimeoutError", evalue="", traceback=[])
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# Lab"),
        nbformat.v4.new_code_cell("while True:\n    pass", outputs=[timeout]),
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_code_cell(
            "check()", outputs=[timeout], metadata={"nbgrader": {"grade_id": "test_x"}}
        ),
    ]
    assert _timed_out_cells(nbformat.writes(notebook)) == [
        "cell 2 (`while True:`)",
        "cell 4 (`test_x`)",
    ]
