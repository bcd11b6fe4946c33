"""The student's functions in the sandbox: results, and every way a function can fail.

One sandboxed worker holds all the functions below (one per cell, as in a notebook);
a call that crashes it costs only that call: the worker is restarted for the next.
A second notebook in the same worker keeps its own namespace.
"""

import subprocess
import time

import numpy as np
import pytest

from edu.grading import Deadline, LimitReached, ReferenceUsed, StudentCode, StudentError
from edu.grading._sandbox_edu import build_sandbox_edu
from edu.grading._student import SolutionCell
from edu.grading._worker_process import WorkerProcess

CELLS = {
    "good": "def good(v):\n    return np.asarray(v) * 2",
    "inplace": "def inplace(v, t):\n    v[0] = t\n    return v",
    "boom": "import os\nos._exit(5)  # crashes the process while the cell loads",
    "raises": "def raises(v):\n    raise ValueError('negative entries are not allowed')",
    "loop": "def loop(v):\n    while True:\n        pass",
    "exits": "def exits(v):\n    import os\n    os._exit(3)",
    "segfault": "def segfault(v):\n    import ctypes\n    ctypes.string_at(0)",
    "memory": "def memory(v):\n    return np.ones(2**28)",
    "noisy": "def noisy(v):\n    import sys\n    while True:\n        sys.stdout.write('x' * 9999)",
    "stderr": "def stderr(v):\n    import sys\n    print('!' * 99, file=sys.stderr)\n    return v",
    "sneaky": (
        "def sneaky(v):\n    import edu.sparse as s\n"
        "    return getattr(s, 'soft_' + 'threshold')(v, 0.1)"
    ),
    "net": (
        "def net(v):\n    import socket\n    try:\n"
        "        socket.create_connection(('1.1.1.1', 53), timeout=2)\n"
        "        return np.array([1])\n    except OSError:\n        return np.array([0])"
    ),
    "patch": "import numpy\nnumpy.allclose = lambda *a, **k: True\ndef patch(v):\n    return v",
    "flagged": "def flagged(v):\n    return v",
    "answer": "answer = not True",
}


@pytest.fixture(scope="module")
def sandbox_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("student")
    root.chmod(0o711)
    return root


@pytest.fixture(scope="module")
def sandbox_edu(sandbox_root):
    return build_sandbox_edu(sandbox_root / "sandbox-edu")


def _student(sandbox_root, sandbox_edu, make_policy, cells, name, **limits):
    policy = make_policy(*sandbox_edu, **limits)
    worker = WorkerProcess(policy, *sandbox_edu, sandbox_root / name, Deadline(600))
    return StudentCode(
        name,
        [SolutionCell(grade_id, source) for grade_id, source in cells.items()],
        ["import numpy as np"],
        worker,
        {"flagged": "the cell 'flagged' imports soft_threshold from edu.sparse"},
    )


@pytest.fixture(scope="module")
def student(sandbox_root, sandbox_edu, make_policy):
    code = _student(sandbox_root, sandbox_edu, make_policy, CELLS, "lab", call_timeout_s=4.0)
    yield code
    code.worker.close()


def test_does_a_correct_function_return_its_result(student):
    """Does a call come back as the array the function returned?"""
    np.testing.assert_array_equal(student.call("good", np.arange(3.0)), [0.0, 2.0, 4.0])


def test_are_the_arguments_after_the_call_returned(student):
    """Does call_and_arguments give back the inputs as they were after the call?"""
    _, after = student.call_and_arguments("inplace", np.ones(2), 0.5)
    np.testing.assert_array_equal(after[0], [0.5, 1.0])
    assert after[1] is None


def test_does_an_exception_become_a_message_with_the_line(student):
    """Is an exception of the student's reported with its type, text and cell line?"""
    with pytest.raises(StudentError) as error:
        student.call("raises", np.ones(2))
    message = str(error.value)
    assert "ValueError: negative entries are not allowed" in message
    assert "cell raises, line 2" in message


def test_does_a_cell_that_crashes_on_loading_cost_only_itself(student):
    """After a cell that kills the process while loading, do the others still work?"""
    np.testing.assert_array_equal(student.call("good", np.ones(1)), [2.0])
    assert "boom" in student.cell_errors
    assert "exited with status 5" in student.cell_errors["boom"]


def test_is_an_infinite_loop_stopped_at_the_call_time_limit(student):
    """Does a function that never returns fail with the time limit, in seconds?"""
    start = time.monotonic()
    with pytest.raises(LimitReached, match="did not finish within the time limit of 4 s"):
        student.call("loop", np.ones(1))
    assert time.monotonic() - start < 15
    np.testing.assert_array_equal(student.call("good", np.ones(1)), [2.0])


def test_is_os_exit_reported(student):
    """Does os._exit in a function say the process exited, with its status?"""
    with pytest.raises(LimitReached, match="exited with status 3"):
        student.call("exits", np.ones(1))


def test_is_a_segfault_reported(student):
    """Does a segfault (ctypes) in a function say the process crashed?"""
    with pytest.raises(LimitReached, match="segmentation fault"):
        student.call("segfault", np.ones(1))


def test_is_a_2gb_allocation_reported_as_the_memory_limit(student):
    """Does allocating 2 GB fail with the memory limit named?"""
    with pytest.raises(LimitReached, match="ran out of memory"):
        student.call("memory", np.ones(1))


def test_is_endless_printing_stopped_at_the_output_limit(student):
    """Does printing without end fail with the output (file size) limit?"""
    with pytest.raises(LimitReached, match="output limit"):
        student.call("noisy", np.ones(1))


def test_does_printing_to_stderr_change_nothing(student):
    """Is the result of a function that writes to stderr what it returns?"""
    np.testing.assert_array_equal(student.call("stderr", np.ones(2)), [1.0, 1.0])


def test_is_a_dynamic_call_of_the_reference_caught(student):
    """Is a call of edu's reference that the static check cannot see refused at run time?"""
    with pytest.raises(ReferenceUsed, match=r"called edu\.sparse\.soft_threshold"):
        student.call("sneaky", np.ones(3))


def test_does_a_static_flag_cost_the_function(student):
    """Does a function the static check flagged earn nothing, with the reason?"""
    with pytest.raises(ReferenceUsed, match="imports soft_threshold"):
        student.call("flagged", np.ones(1))


def test_is_there_no_network_for_the_functions(student):
    """Can a function open a connection from the sandbox? (No.)"""
    np.testing.assert_array_equal(student.call("net", np.ones(1)), [0])


def test_does_monkeypatching_in_the_sandbox_stay_there(student):
    """A cell replaced numpy.allclose in the sandbox: is the grader's numpy untouched?"""
    student.call("patch", np.ones(1))
    assert not np.allclose(np.zeros(2), np.ones(2))


def test_is_a_variable_read_with_its_type(student):
    """Does value() give a variable's value and its type's name (Part 0 answers)?"""
    assert student.value("answer") == (False, "bool")


def test_is_a_missing_function_a_clear_error(student):
    """Is calling a function the notebook never defined a StudentError saying so?"""
    with pytest.raises(StudentError, match="not_there is not defined"):
        student.call("not_there", np.ones(1))


def test_is_a_fork_bomb_contained(sandbox_root, sandbox_edu, make_policy):
    """Does a fork bomb stop at the process limit and leave nothing behind?"""
    cells = {
        "bomb": (
            "def bomb(v):\n    import ctypes, os, time\n    libc = ctypes.CDLL(None)\n"
            "    libc.prctl(15, b'edu-bomb-test', 0, 0, 0)  # PR_SET_NAME, kept by the children\n"
            "    taken = ctypes.create_string_buffer(16)\n"
            "    libc.prctl(16, taken, 0, 0, 0)  # PR_GET_NAME\n"
            "    if taken.value != b'edu-bomb-test':\n        return np.array([-1])\n"
            "    n = 0\n    for _ in range(1000):\n"
            "        try:\n            if os.fork() == 0:\n"
            "                time.sleep(30)\n                os._exit(0)\n"
            "            n += 1\n        except OSError:\n            break\n"
            "    return np.array([n])"
        )
    }
    code = _student(sandbox_root, sandbox_edu, make_policy, cells, "bomb", processes=24)
    with code.worker:
        forked = int(code.call("bomb", np.ones(1))[0])
    assert 0 < forked < 24
    time.sleep(1)
    left = subprocess.run(["pgrep", "-x", "edu-bomb-test"], capture_output=True, text=True)
    assert left.stdout.strip() == ""


def test_does_each_notebook_keep_its_functions_through_a_crash(
    sandbox_root, sandbox_edu, make_policy
):
    """Two notebooks in one worker, both defining ``good``: does each call its own, also
    after a call of one of them crashed the process?"""
    cells = {"good": CELLS["good"], "exits": CELLS["exits"]}
    first = _student(sandbox_root, sandbox_edu, make_policy, cells, "first")
    triple = SolutionCell("good", "def good(v):\n    return np.asarray(v) * 3")
    second = StudentCode("second", [triple], ["import numpy as np"], first.worker)
    with first.worker:
        np.testing.assert_array_equal(second.call("good", np.ones(1)), [3.0])
        np.testing.assert_array_equal(first.call("good", np.ones(1)), [2.0])
        with pytest.raises(LimitReached, match="exited with status 3"):
            first.call("exits", np.ones(1))
        np.testing.assert_array_equal(second.call("good", np.ones(1)), [3.0])
        np.testing.assert_array_equal(first.call("good", np.ones(1)), [2.0])


def test_does_a_crashing_import_cost_only_itself(sandbox_root, sandbox_edu, make_policy):
    """An import statement of one notebook that kills the process while loading: do both
    notebooks' functions still work, and is the import's error noted?"""
    first = _student(sandbox_root, sandbox_edu, make_policy, {"good": CELLS["good"]}, "imp1")
    triple = SolutionCell("good", "def good(v):\n    return np.asarray(v) * 3")
    prelude = ["import numpy as np", "import os; os._exit(7)"]
    second = StudentCode("imp2", [triple], prelude, first.worker)
    with first.worker:
        np.testing.assert_array_equal(first.call("good", np.ones(1)), [2.0])
        np.testing.assert_array_equal(second.call("good", np.ones(1)), [3.0])
    assert "exited with status 7" in second.cell_errors["setup import 1"]
    assert first.cell_errors == {}


def test_are_process_settings_kept_per_notebook(sandbox_root, sandbox_edu, make_policy):
    """One notebook turns off gradients and makes float64 the default: does the other
    notebook, in the same process, still see the settings of a fresh kernel?"""
    report = (
        "def report(v):\n    import torch\n"
        "    return np.array([torch.is_grad_enabled(), torch.ones(1).dtype == torch.float64])"
    )
    changed = "import torch\ntorch.set_grad_enabled(False)\ntorch.set_default_dtype(torch.float64)"
    first = _student(
        sandbox_root, sandbox_edu, make_policy, {"set": changed, "report": report}, "set1"
    )
    second = StudentCode(
        "set2", [SolutionCell("report", report)], ["import numpy as np"], first.worker
    )
    with first.worker:
        np.testing.assert_array_equal(first.call("report", np.ones(1)), [False, True])
        np.testing.assert_array_equal(second.call("report", np.ones(1)), [True, False])
        np.testing.assert_array_equal(first.call("report", np.ones(1)), [False, True])


def _read_checkpoint(worker: WorkerProcess, path) -> dict:
    _, arrays = worker.request(
        {"op": "load_checkpoint", "path": str(path)}, {}, what="reading a checkpoint"
    )
    return arrays


@pytest.fixture(scope="module")
def checkpoint(sandbox_root):
    import torch

    folder = sandbox_root / "checkpoint"
    folder.mkdir()
    folder.chmod(0o755)
    path = folder / "tiny.pt"
    torch.save({"weight": torch.arange(4.0)}, path)
    path.chmod(0o644)
    return path


def test_is_the_start_up_timed_apart_from_the_calls(
    sandbox_root, sandbox_edu, make_policy, checkpoint
):
    """With a call limit shorter than importing torch (about 2 s), does the first call
    of a fresh process still succeed: is the start-up not counted against it?"""
    policy = make_policy(*sandbox_edu, checkpoint.parent, call_timeout_s=1.0)
    with WorkerProcess(policy, *sandbox_edu, sandbox_root / "quick", Deadline(600)) as worker:
        arrays = _read_checkpoint(worker, checkpoint)
    np.testing.assert_array_equal(arrays["state/weight"], [0.0, 1.0, 2.0, 3.0])


def test_is_a_start_up_past_its_limit_reported(sandbox_root, sandbox_edu, make_policy, checkpoint):
    """Does a process that cannot start within start_timeout_s fail with that limit?"""
    policy = make_policy(*sandbox_edu, checkpoint.parent, start_timeout_s=0.05)
    with (
        WorkerProcess(policy, *sandbox_edu, sandbox_root / "slow", Deadline(600)) as worker,
        pytest.raises(LimitReached, match=r"did not start within 0\.05 s"),
    ):
        _read_checkpoint(worker, checkpoint)
