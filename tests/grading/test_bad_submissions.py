"""A class of fixture submissions, one per kind of bad input, graded by ``grade_course``.

Each entry of :data:`SUBMISSIONS` builds one student's submission from the course's
own notebooks (the solutions, or nbgrader's student release) and states its expected
outcome: the score of the cells it is about, and a fragment of the message the
student reads. The whole class is graded once, with real nbgrader and ``--jobs 2``,
under small limits; every test then checks one student. Nothing one student does may
change another's grade: the students with a correct notebook next to the broken one
get their points.

CIFAR-10 here is a tiny synthetic image folder, so the accuracy checks (9 points)
fail for everyone; their passing path is tested in ``test_checkpoints.py``.
"""

import copy
import io
import os
import shutil
import subprocess
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch
from PIL import Image

from edu.data import CIFAR10_CLASSES
from edu.experiments import REFERENCE_FOLDER, reference_checkpoints
from edu.grading import Limits, grade_course
from edu.grading._assignment import put_tools_on_path
from edu.models import ResNetCIFAR, pretrained_resnet20, resnet_from_state_dict
from edu.notebook import SUBMISSION_CHECKPOINTS
from edu.prune import prune_model
from edu.quant import quantize_weights, quantized_layers

pytestmark = pytest.mark.slow

LIMITS = Limits(
    cell_timeout_s=30,  # Lab 1's plotting cells need a few seconds on a busy machine
    submission_timeout_s=400,
    call_timeout_s=4.0,
    cpu_s=40,
    memory_bytes=1536 << 20,
    file_size_bytes=4 << 20,
    processes=64,
    output_bytes=4 << 20,  # Lab 1's figures are about 1 MB
)
DATA_POINTS = 11
"""Points that fail on synthetic data: the accuracy checks (2 + 2 + 3 + 2) and the two
Lab 3 level checks (1 + 1), which need the quantization gain measured on CIFAR-10."""
LAB1 = ["gradient", "hard_threshold", "l1_subgradient", "soft_threshold", "trimmed_soft_threshold"]


def _saved(obj) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


class _Exit42:
    def __reduce__(self):
        return (os._exit, (42,))


def _quantized(state: dict) -> dict:
    """``state`` with its quantized layers' weights moved to their 4-bit levels: they
    differ from the start, as finetuning's do. Weights stored on their grid show no
    evidence of quantization-aware training, so the Lab 3 level checks refuse them, as on
    synthetic data they would anyway (:data:`DATA_POINTS`)."""
    net = resnet_from_state_dict(state, Nbits=4)
    with torch.no_grad():
        for _, layer in quantized_layers(net):
            layer.weight.copy_(quantize_weights(layer.weight, 4))
    return net.state_dict()


def _pruned_checkpoints():
    per_layer = pretrained_resnet20()
    prune_model(per_layer, 70)
    overall = pretrained_resnet20()
    prune_model(overall, 70, "global")
    return per_layer.state_dict(), overall.state_dict()


def _good_checkpoints() -> dict[str, bytes]:
    per_layer, overall = _pruned_checkpoints()
    return {
        "lab2_finetune_70.pt": _saved(per_layer),
        "lab2_global_iterative_70.pt": _saved(overall),
        "lab3_qat_4bit.pt": _saved(_quantized(pretrained_resnet20().state_dict())),
        "lab3_sparse_qat_4bit.pt": _saved(_quantized(per_layer)),
    }


def _cell(notebook, grade_id):
    return next(
        c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id
    )


def _with(notebook, grade_id, source):
    notebook = copy.deepcopy(notebook)
    _cell(notebook, grade_id).source = source
    return notebook


def _append_code(notebook, source):
    notebook = copy.deepcopy(notebook)
    notebook.cells.append(nbformat.v4.new_code_cell(source))
    return notebook


# -- the submissions: name -> (notebooks, files) from (solutions, release, course) -------


def solution(sol, rel, course):
    """The full solution with checkpoints of the right kind (not finetuned)."""
    return dict(sol), {**_good_checkpoints(), "timestamp.txt": b"2024-10-01 12:00:00 UTC"}


def stub(sol, rel, course):
    """The untouched student release, with a timestamp.txt that is not a time."""
    return dict(rel), {"timestamp.txt": b"yesterday, I think"}


def invalid_json(sol, rel, course):
    """Lab 1's file is truncated JSON; Part 0 is fine."""
    text = nbformat.writes(sol["lab1_sparse_regression"]).encode()[:4000]
    return {"lab1_sparse_regression": text, "part0_true_false": sol["part0_true_false"]}, {}


def wrong_notebooks(sol, rel, course):
    """Lab 1 is another course's notebook; Lab 2's file holds Lab 1."""
    other = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("def gradient(X, y, w):\n    return 0")
    cell.metadata["nbgrader"] = {
        "grade_id": "q1",
        "solution": True,
        "grade": False,
        "locked": False,
        "schema_version": 3,
    }
    other.cells.append(cell)
    return {"lab1_sparse_regression": other, "lab2_pruning": sol["lab1_sparse_regression"]}, {}


def missing(sol, rel, course):
    """Only Part 0: three notebooks and every checkpoint are missing."""
    return {"part0_true_false": sol["part0_true_false"]}, {}


def edited_cells(sol, rel, course):
    """Deleted, retyped, duplicated and rewritten cells (nbgrader repairs the test cells)."""
    notebook = copy.deepcopy(sol["lab1_sparse_regression"])
    notebook.cells.remove(_cell(notebook, "test_gradient"))
    _cell(notebook, "test_l1_subgradient").source = "pass  # the test, rewritten"
    retyped = _cell(notebook, "hard_threshold")
    retyped.cell_type = "markdown"
    retyped.pop("outputs", None)
    retyped.pop("execution_count", None)
    test = _cell(notebook, "test_trimmed_soft_threshold")
    test.cell_type = "markdown"
    test.pop("outputs", None)
    test.pop("execution_count", None)
    original = _cell(notebook, "soft_threshold")
    duplicate = copy.deepcopy(original)
    duplicate.id = "soft-threshold-copy"
    duplicate.source = "def soft_threshold(v, threshold):\n    return np.asarray(v) * 0"
    notebook.cells.insert(notebook.cells.index(original) + 1, duplicate)
    return {"lab1_sparse_regression": notebook}, {}


def infinite_loop(sol, rel, course):
    """soft_threshold never returns; a free cell loops forever in the kernel."""
    notebook = _with(
        sol["lab1_sparse_regression"],
        "soft_threshold",
        "def soft_threshold(v, threshold):\n    while True:\n        pass",
    )
    return {"lab1_sparse_regression": _append_code(notebook, "while True:\n    pass")}, {}


def kernel_crash(sol, rel, course):
    """gradient calls os._exit, hard_threshold segfaults (ctypes)."""
    notebook = _with(
        sol["lab1_sparse_regression"],
        "gradient",
        "def gradient(X, y, w):\n    import os\n    os._exit(1)",
    )
    notebook = _with(
        notebook,
        "hard_threshold",
        "def hard_threshold(v, k):\n    import ctypes\n    return ctypes.string_at(0)",
    )
    return {"lab1_sparse_regression": notebook}, {}


def huge_output(sol, rel, course):
    """l1_subgradient prints without end; a free cell floods the notebook's output."""
    notebook = _with(
        sol["lab1_sparse_regression"],
        "l1_subgradient",
        "def l1_subgradient(w):\n    while True:\n        print('x' * 10000)",
    )
    notebook = _append_code(notebook, "while True:\n    print('y' * 10000)")
    return {"lab1_sparse_regression": notebook}, {}


def big_allocation(sol, rel, course):
    """trimmed_soft_threshold allocates 2 GB; so does a free cell in the kernel."""
    notebook = _with(
        sol["lab1_sparse_regression"],
        "trimmed_soft_threshold",
        "def trimmed_soft_threshold(v, threshold, num_free):\n    return np.ones(2**28)",
    )
    return {"lab1_sparse_regression": _append_code(notebook, "big = np.ones(2**28)")}, {}


FORK_BOMB_NAME = "edu-fork-bomb"
"""The name the fork bomb gives its processes (``prctl(PR_SET_NAME)``, their ``comm``), so
that a test can look for the ones left behind among every process, other tests' sandboxes
included (``scripts/dev.py test`` runs test files in parallel), whatever user the
sandbox runs as."""


def fork_bomb(sol, rel, course):
    """l1_subgradient names itself, then forks until it cannot, forever; it raises at once
    if it could not take the name, so that its time-limit message vouches for it."""
    name = FORK_BOMB_NAME.encode()
    notebook = _with(
        sol["lab1_sparse_regression"],
        "l1_subgradient",
        "def l1_subgradient(w):\n    import ctypes, os\n"
        "    libc = ctypes.CDLL(None)\n"
        f"    libc.prctl(15, {name!r}, 0, 0, 0)  # PR_SET_NAME\n"
        "    taken = ctypes.create_string_buffer(16)\n"
        "    libc.prctl(16, taken, 0, 0, 0)  # PR_GET_NAME\n"
        f"    assert taken.value == {name!r}\n"
        "    while True:\n        try:\n"
        "            os.fork()\n        except OSError:\n            pass",
    )
    return {"lab1_sparse_regression": notebook}, {}


def bad_checkpoints(sol, rel, course):
    """A pickle with code in it, a ResNet-32, a ResNet-20 with a wrong shape, a non-dict."""
    wrong_shape = pretrained_resnet20().state_dict()
    wrong_shape["body_op.0.conv1.0.conv.weight"] = torch.zeros(16, 16, 5, 5)
    files = {
        "lab2_finetune_70.pt": _saved({"weight": _Exit42()}),
        "lab2_global_iterative_70.pt": _saved(ResNetCIFAR(num_layers=32).state_dict()),
        "lab3_qat_4bit.pt": _saved(wrong_shape),
        "lab3_sparse_qat_4bit.pt": _saved([torch.zeros(3)]),
    }
    return {"part0_true_false": sol["part0_true_false"]}, files


def uses_reference(sol, rel, course):
    """gradient star-imports edu.sparse, l1_subgradient reaches its reference with getattr,
    soft_threshold imports it."""
    notebook = _with(
        sol["lab1_sparse_regression"],
        "gradient",
        "from edu.sparse import *\ndef gradient(X, y, w):\n    return 2.0 * X.T @ (X @ w - y)",
    )
    notebook = _with(
        notebook,
        "l1_subgradient",
        "def l1_subgradient(w):\n    import edu.sparse as s\n"
        "    return getattr(s, 'l1_' + 'subgradient')(w)",
    )
    notebook = _with(
        notebook,
        "soft_threshold",
        "from edu.sparse import soft_threshold as _reference\n"
        "def soft_threshold(v, threshold):\n    return _reference(v, threshold)",
    )
    return {"lab1_sparse_regression": notebook}, {}


def hostile(sol, rel, course):
    """Monkeypatches, writes where the grader reads, peeks at the checks, floods stderr.

    gradient returns a wrong result if it can see the hidden checks or the gradebook,
    so its points prove the sandbox hid them.
    """
    checks = str(course / "grader")
    gradebook = str(course / "gradebook.db")
    notebook = _with(
        sol["lab1_sparse_regression"],
        "gradient",
        "def gradient(X, y, w):\n    import os, sys\n"
        "    print('noise' * 1000, file=sys.stderr)\n"
        f"    if os.path.exists({checks!r}) or os.path.exists({gradebook!r}):\n"
        "        return 0 * w\n"
        "    return 2.0 * X.T @ (X @ w - y)",
    )
    notebook = _with(
        notebook,
        "soft_threshold",
        "import numpy, edu.sparse\n"
        "numpy.allclose = lambda *a, **k: True\n"
        "setattr(edu.sparse, 'soft_' + 'threshold', lambda v, t: v)\n"
        "def soft_threshold(v, threshold):\n"
        "    v = np.asarray(v, dtype=float)\n"
        "    return np.sign(v) * np.maximum(np.abs(v) - threshold, 0.0)",
    )
    attack = (
        "import sys, numpy\n"
        "numpy.allclose = lambda *a, **k: True\n"
        "print('x' * 100000, file=sys.stderr)\n"
        f"for target in [{gradebook!r}, {str(course / 'grades.csv')!r}, 'lab2_finetune_70.pt',"
        f" {str(course / 'submitted' / 'solution' / 'homework' / 'lab2_finetune_70.pt')!r}]:\n"
        "    try:\n"
        "        open(target, 'wb').write(b'overwritten')\n"
        "    except OSError as error:\n"
        "        print('refused:', error)\n"
    )
    return {"lab1_sparse_regression": _append_code(notebook, attack)}, {}


REPO = Path(__file__).resolve().parents[2]
LEAK = "edu-leak-"
"""The prefix of the files the hostile submissions try to leave behind."""


def reads_the_solution(sol, rel, course):
    """Reads the instructor's notebooks, the hidden checks and edu's source, by paths the
    static check cannot see; leaves files in every writable place it may find.

    gradient and hard_threshold are right only if one of those files could be read, so
    their points would prove a leak; l1_subgradient and a free cell write files that
    must not outlive the sandbox (in /tmp, /var/tmp, /dev/shm, its home, edu's source
    and the CIFAR-10 cache the accuracy checks read).
    """
    secrets = [
        str(REPO / "solutions" / "homework" / "lab1_sparse_regression.ipynb"),
        str(course / "source" / "homework" / "lab1_sparse_regression.ipynb"),
        str(course / "grader" / "test_lab1.py"),
        str(REPO / "edu" / "sparse" / "_prox.py"),
    ]
    read_any = (
        "import pathlib\n"
        "def _peek():\n"
        f"    for path in {secrets!r}:\n"
        "        try:\n"
        "            return getattr(pathlib.Path(path), 'read_' + 'text')()\n"
        "        except OSError:\n"
        "            continue\n"
        "    return None\n"
    )
    places = ["/tmp", "/var/tmp", "/dev/shm", "~", str(REPO / "edu"), os.environ["EDU_CACHE_DIR"]]
    leave = (
        "import os, pathlib\n"
        "def _leave(tag):\n"
        f"    for place in {places!r}:\n"
        "        try:\n"
        f"            target = pathlib.Path(os.path.expanduser(place)) / ({LEAK!r} + tag)\n"
        "            getattr(target, 'write_' + 'text')('left behind')\n"
        "        except OSError:\n"
        "            pass\n"
    )
    notebook = _with(
        sol["lab1_sparse_regression"],
        "gradient",
        read_any
        + "def gradient(X, y, w):\n    return 2.0 * X.T @ (X @ w - y) if _peek() else 0 * w",
    )
    notebook = _with(
        notebook,
        "hard_threshold",
        read_any + "def hard_threshold(v, k):\n"
        "    v = np.asarray(v, dtype=float)\n"
        "    if not _peek():\n        return v\n"
        "    keep = np.argsort(-np.abs(v), kind='stable')[:k]\n"
        "    out = np.zeros_like(v)\n    out[keep] = v[keep]\n    return out",
    )
    notebook = _with(
        notebook,
        "l1_subgradient",
        leave + "def l1_subgradient(w):\n    _leave('worker')\n    return np.sign(w)",
    )
    return {"lab1_sparse_regression": _append_code(notebook, leave + "_leave('kernel')")}, {}


def hands_over_the_work(sol, rel, course):
    """Hands each function's work to what computes it: edu's other functions and torch's
    own routines, by names the static check cannot see; clears the old record of
    refusals and falls back on its own code when refused."""
    lab1 = _with(
        sol["lab1_sparse_regression"],
        "soft_threshold",
        "import torch\n"
        "def soft_threshold(v, threshold):\n"
        "    shrink = getattr(torch.nn.functional, 'soft' + 'shrink')\n"
        "    return shrink(torch.as_tensor(np.asarray(v, dtype=float)), threshold).numpy()",
    )
    lab1 = _with(
        lab1,
        "trimmed_soft_threshold",
        "import edu.sparse\n"
        "def trimmed_soft_threshold(v, threshold, num_free):\n"
        "    v = np.asarray(v, dtype=float)\n"
        "    free = set(np.argsort(-np.abs(v), kind='stable')[:num_free].tolist())\n"
        "    groups = [[i] for i in range(len(v)) if i not in free]\n"
        "    prox = getattr(edu.sparse, 'group_soft_' + 'threshold')\n"
        "    return prox(v, threshold, groups)",
    )
    lab1 = _with(
        lab1,
        "gradient",
        "import edu, edu.sparse\n"
        "def gradient(X, y, w):\n"
        "    try:\n"
        "        return getattr(edu.sparse, 'gradi' + 'ent')(X, y, w)\n"
        "    except Exception:\n"
        "        setattr(edu, '_REFUSED' + '_CALLS', [])\n"
        "        return 2.0 * X.T @ (X @ w - y)",
    )
    lab2 = _with(
        sol["lab2_pruning"],
        "finetune_after_prune",
        "import edu.prune, edu.train\n"
        "def finetune_after_prune(net, trainloader, criterion, optimizer, prune=True):\n"
        "    masks = getattr(edu.prune, 'masks_from_' + 'nonzeros')(net) if prune else None\n"
        "    def after(n):\n"
        "        if prune:\n"
        "            getattr(edu.prune, 'apply_' + 'masks')(n, masks)\n"
        "    train = getattr(edu.train, 'train_one_' + 'epoch')\n"
        "    train(net, trainloader, criterion, optimizer, after_step=after)",
    )
    lab2 = _with(
        lab2,
        "global_prune_by_percentage",
        "import torch\n"
        "def global_prune_by_percentage(net, q):\n"
        "    pruning = getattr(torch.nn.utils, 'pru' + 'ne')\n"
        "    layers = [(layer, 'weight') for _, layer in prunable_layers(net)]\n"
        "    method = getattr(pruning, 'L1' + 'Unstructured')\n"
        "    getattr(pruning, 'global_' + 'unstructured')(layers, method, amount=q / 100)",
    )
    return {"lab1_sparse_regression": lab1, "lab2_pruning": lab2}, {}


def does_nothing(sol, rel, course):
    """Functions that leave their inputs (nearly) alone, and checkpoints submitted under
    other names: each would pass a check that counts zeros, levels or what is untouched."""
    lab2 = _with(
        sol["lab2_pruning"],
        "finetune_after_prune",
        "def finetune_after_prune(net, trainloader, criterion, optimizer, prune=True):\n"
        "    with torch.no_grad():\n"
        "        for _, layer in prunable_layers(net):\n"
        "            layer.weight.mul_(0.99)",
    )
    lab2 = _with(
        lab2, "global_prune_by_percentage", "def global_prune_by_percentage(net, q):\n    pass"
    )
    lab2 = _with(
        lab2,
        "prune_by_percentage",
        "def prune_by_percentage(layer, q):\n    return layer.weight.detach() != 0",
    )
    lab3 = _with(
        sol["lab3_quantization"],
        "STE",
        "class STE(torch.autograd.Function):\n"
        "    @staticmethod\n    def forward(ctx, w, bit, symmetric=False):\n"
        "        return torch.zeros_like(w)\n"
        "    @staticmethod\n    def backward(ctx, grad_output):\n"
        "        return grad_output, None, None",
    )
    per_layer, _ = _pruned_checkpoints()
    files = {
        "lab2_finetune_70.pt": _saved(per_layer),
        "lab2_global_iterative_70.pt": _saved(per_layer),
        "lab3_qat_4bit.pt": _saved(pretrained_resnet20().state_dict()),
        "lab3_sparse_qat_4bit.pt": _saved(per_layer),
    }
    return {"lab2_pruning": lab2, "lab3_quantization": lab3}, files


def copies_the_reference(sol, rel, course):
    """The untouched release and the course's reference checkpoints, copied from the
    instructor's files (as a student holding an earlier release of the package could)."""
    folder = Path(__file__).resolve().parents[2] / REFERENCE_FOLDER
    copied = reference_checkpoints(folder)
    return dict(rel), {f"{name}.pt": path.read_bytes() for name, path in copied.items()}


SUBMISSIONS = {
    "solution": solution,
    "stub": stub,
    "invalid_json": invalid_json,
    "wrong_notebooks": wrong_notebooks,
    "missing": missing,
    "edited_cells": edited_cells,
    "infinite_loop": infinite_loop,
    "kernel_crash": kernel_crash,
    "huge_output": huge_output,
    "big_allocation": big_allocation,
    "fork_bomb": fork_bomb,
    "bad_checkpoints": bad_checkpoints,
    "uses_reference": uses_reference,
    "hostile": hostile,
    "reads_the_solution": reads_the_solution,
    "hands_over_the_work": hands_over_the_work,
    "does_nothing": does_nothing,
    "copies_the_reference": copies_the_reference,
}


# -- the course ---------------------------------------------------------------------------


def _synthetic_cifar10(root):
    """A CIFAR-10 image folder with 4 random test images per class."""
    rng = np.random.default_rng(0)
    for name in CIFAR10_CLASSES:
        folder = root / "test" / name
        folder.mkdir(parents=True)
        for index in range(4):
            pixels = rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(folder / f"{index}.png")
    return root


def make_course(root, repo, solution_notebooks, students):
    """A course folder: the homework's source, its release, the students' submissions."""
    from nbgrader.apps.api import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    put_tools_on_path()
    shutil.copytree(repo / "solutions" / "homework", root / "source" / "homework")
    config = Config()
    config.CourseDirectory.root = str(root)
    api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
    assert api.generate_assignment("homework", force=True, create=True)["success"]
    release = {
        p.stem: nbformat.read(p, as_version=4)
        for p in sorted((root / "release" / "homework").glob("*.ipynb"))
    }
    for name in students:
        notebooks, files = SUBMISSIONS[name](solution_notebooks, release, root)
        folder = root / "submitted" / name / "homework"
        folder.mkdir(parents=True)
        for stem, content in notebooks.items():
            path = folder / f"{stem}.ipynb"
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                nbformat.write(content, path)
        for filename, data in files.items():
            (folder / filename).write_bytes(data)
    shutil.copytree(repo / "grader", root / "grader", ignore=shutil.ignore_patterns("__pycache__"))
    thresholds = root / "grader" / "thresholds.toml"
    thresholds.write_text(thresholds.read_text().replace("eval_images = 2000", "eval_images = 0"))
    return root


@pytest.fixture(scope="session")
def synthetic_data(tmp_path_factory):
    root = _synthetic_cifar10(tmp_path_factory.mktemp("cifar10"))
    previous = os.environ.get("EDU_CACHE_DIR")
    os.environ["EDU_CACHE_DIR"] = str(tmp_path_factory.mktemp("cifar10-cache"))
    yield root
    if previous is None:
        os.environ.pop("EDU_CACHE_DIR")
    else:
        os.environ["EDU_CACHE_DIR"] = previous


@pytest.fixture(scope="session")
def graded_class(tmp_path_factory, repo, solution_notebooks, synthetic_data):
    root = tmp_path_factory.mktemp("course")
    make_course(root, repo, solution_notebooks, SUBMISSIONS)
    before = {p: p.stat().st_mtime_ns for p in (root / "submitted").rglob("*") if p.is_file()}
    start = time.monotonic()
    grades = grade_course(
        root,
        "homework",
        jobs=2,
        limits=LIMITS,
        data_root=str(synthetic_data),
        progress=False,
        stream=None,
    )
    return root, grades, before, time.monotonic() - start


def _result(graded_class, student):
    return graded_class[1].results[student]


def _check(result, name):
    return next(c for c in result.checks if c.name == name)


def _messages(result, grade_id):
    return " | ".join(c.message for c in result.checks if c.grade_id == grade_id)


# -- expected outcomes ----------------------------------------------------------------------


def test_does_the_solution_get_every_point_but_accuracy(graded_class):
    """Does the full solution earn all autograded points the synthetic data allows?"""
    result = _result(graded_class, "solution")
    failed = [c.name for c in result.checks if not c.passed]
    data = ("test_lab3_qat_4bit_levels", "test_lab3_sparse_qat_4bit_levels")
    assert all(name.endswith("_accuracy") or name in data for name in failed), failed
    assert result.score == result.max_score - DATA_POINTS == 58


def test_does_the_stub_get_zero(graded_class):
    """Does the untouched release earn no autograded point?"""
    result = _result(graded_class, "stub")
    assert result.score == 0
    assert "raised NotImplementedError" in _messages(result, "test_gradient")
    assert any("timestamp.txt does not hold a date" in p for p in result.problems)
    assert result.notebooks["lab1_sparse_regression"].status == "autograded"


def test_is_invalid_json_rejected_and_the_rest_graded(graded_class):
    """Is a notebook that is not JSON scored 0 with the reason, Part 0 still graded?"""
    result = _result(graded_class, "invalid_json")
    assert "not valid JSON" in _messages(result, "test_gradient")
    assert sum(result.scores[g] for g in result.scores if g.startswith("test_tf_")) == 5
    assert any("not valid JSON" in p for p in result.problems)


def test_are_notebooks_of_other_assignments_rejected(graded_class):
    """Are another course's notebook and Lab 1 under Lab 2's name rejected, saying why?"""
    result = _result(graded_class, "wrong_notebooks")
    assert "none of its cells belong to assignment 'homework'" in _messages(result, "test_gradient")
    assert "its cells are those of lab1_sparse_regression.ipynb" in _messages(
        result, "test_prune_by_percentage"
    )
    assert result.score == 0


def test_are_missing_notebooks_and_checkpoints_named(graded_class):
    """Do missing notebooks and checkpoints score 0 with messages naming them?"""
    result = _result(graded_class, "missing")
    assert "lab3_quantization.ipynb is not in the submission" in _messages(
        result, "test_ste_gradient"
    )
    assert "lab2_finetune_70.pt is not in the submission" in _messages(
        result, "test_lab2_finetune_70"
    )
    assert result.score == 5


def test_are_edited_cells_graded_the_nbgrader_way(graded_class):
    """Deleted/rewritten test cells change nothing; a retyped solution is still graded;
    the last copy of a duplicated solution cell is the one graded."""
    result = _result(graded_class, "edited_cells")
    for grade_id in (
        "test_gradient",
        "test_hard_threshold",
        "test_l1_subgradient",
        "test_trimmed_soft_threshold",
    ):
        assert result.scores[grade_id] == 4, grade_id
    assert result.scores["test_soft_threshold"] < 4
    problems = " ".join(result.problems)
    assert "'test_gradient' was deleted" in problems
    assert "'hard_threshold' was changed to markdown" in problems
    assert "'soft_threshold' appears 2 times" in problems
    autograded = nbformat.read(
        graded_class[0]
        / "autograded"
        / "edited_cells"
        / "homework"
        / "lab1_sparse_regression.ipynb",
        as_version=4,
    )
    restored = _cell(autograded, "test_l1_subgradient").source
    assert "l1_subgradient(np.array([0.3, -2.0, 0.0]))" in restored


def test_does_an_infinite_loop_cost_only_its_function(graded_class):
    """Does a function that never returns score 0 with the time limit named?"""
    result = _result(graded_class, "infinite_loop")
    assert result.scores["test_soft_threshold"] == 0
    assert "did not finish within the time limit of 4 s" in _messages(result, "test_soft_threshold")
    for grade_id in ("test_gradient", "test_hard_threshold", "test_trimmed_soft_threshold"):
        assert result.scores[grade_id] == 4
    assert any("time limit" in p or "CPU" in p for p in result.problems)


def test_does_a_crash_cost_only_its_function(graded_class):
    """Do os._exit and a segfault score 0 with what happened, the rest untouched?"""
    result = _result(graded_class, "kernel_crash")
    assert "exited with status 1" in _messages(result, "test_gradient")
    assert "segmentation fault" in _messages(result, "test_hard_threshold")
    assert result.scores["test_gradient"] == result.scores["test_hard_threshold"] == 0
    for grade_id in ("test_l1_subgradient", "test_soft_threshold", "test_trimmed_soft_threshold"):
        assert result.scores[grade_id] == 4
    outcome = result.notebooks["lab1_sparse_regression"]
    assert outcome.status == "autograded"
    assert "(`test_gradient`) exited with status 1" in outcome.message  # where it died


def test_is_huge_output_stopped_at_the_output_limits(graded_class):
    """Is endless printing stopped, in the function sandbox and in the kernel?"""
    result = _result(graded_class, "huge_output")
    assert "output limit" in _messages(result, "test_l1_subgradient")
    assert result.scores["test_gradient"] == 4
    assert any("output limit" in p for p in result.problems)


def test_is_a_2gb_allocation_stopped_at_the_memory_limit(graded_class):
    """Does allocating 2 GB score 0 with the memory limit named, others unaffected?"""
    result = _result(graded_class, "big_allocation")
    assert "ran out of memory" in _messages(result, "test_trimmed_soft_threshold")
    assert result.scores["test_soft_threshold"] == 4


def test_is_a_fork_bomb_contained(graded_class):
    """Does a fork bomb score 0, stopped by a limit, with no process left behind?"""
    result = _result(graded_class, "fork_bomb")
    assert result.scores["test_l1_subgradient"] == 0
    assert "time limit" in _messages(result, "test_l1_subgradient")
    assert result.scores["test_gradient"] == 4
    left = subprocess.run(["pgrep", "-x", FORK_BOMB_NAME], capture_output=True, text=True)
    assert left.stdout.strip() == ""


def test_are_malicious_and_malformed_checkpoints_refused(graded_class):
    """Is a pickle with code refused unexecuted, and are wrong models named as such?"""
    result = _result(graded_class, "bad_checkpoints")
    pickle_message = _messages(result, "test_lab2_finetune_70")
    assert "was refused" in pickle_message and "weights_only" in pickle_message
    assert "exited with status 42" not in pickle_message
    assert "ResNet-32, not a ResNet-20" in _messages(result, "test_lab2_global_iterative_70")
    assert "size mismatch" in _messages(result, "test_lab3_qat_4bit")
    assert "not a state dict" in _messages(result, "test_lab3_sparse_qat_4bit")
    assert result.score == 5


def test_does_using_the_reference_earn_nothing(graded_class):
    """Do functions that star-import, reach or import edu's counterpart score 0, saying why?"""
    result = _result(graded_class, "uses_reference")
    assert "imports * from edu.sparse" in _messages(result, "test_gradient")
    assert "called edu.sparse.l1_subgradient" in _messages(result, "test_l1_subgradient")
    assert "imports soft_threshold from edu.sparse" in _messages(result, "test_soft_threshold")
    for grade_id in ("test_gradient", "test_l1_subgradient", "test_soft_threshold"):
        assert result.scores[grade_id] == 0
        kinds = {c.kind for c in result.checks if c.grade_id == grade_id}
        assert kinds == {"reference"}, grade_id
    assert result.scores["test_hard_threshold"] == result.scores["test_trimmed_soft_threshold"] == 4


def test_does_a_hostile_notebook_gain_nothing_and_harm_no_one(graded_class):
    """Monkeypatching, writing the grader's files, peeking, stderr: does any of it matter?"""
    root, grades, before, _ = graded_class
    result = _result(graded_class, "hostile")
    assert result.scores["test_gradient"] == 4  # it could not see the checks or gradebook
    assert result.scores["test_soft_threshold"] == 4
    after = {p: p.stat().st_mtime_ns for p in (root / "submitted").rglob("*") if p.is_file()}
    assert after == before  # no submission was touched
    assert (root / "grades.csv").read_text().startswith("student,assignment,")
    solution = grades.results["solution"]
    assert solution.score == 58


def test_does_every_student_appear_in_grades_csv_and_the_gradebook(graded_class):
    """Is every submission a row of grades.csv, and are the checks' scores in the gradebook?"""
    from nbgrader.api import Gradebook

    root, grades, _, _ = graded_class
    rows = (root / "grades.csv").read_text().splitlines()
    assert sorted(line.split(",")[0] for line in rows[2:]) == sorted(SUBMISSIONS)  # header, maxima
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        for student, result in grades.results.items():
            submission = gradebook.find_submission("homework", student)
            auto = sum(
                g.auto_score or 0
                for nb in submission.notebooks
                for g in nb.grades
                if g.name in result.scores
            )
            assert auto == pytest.approx(result.score), student


def test_is_there_a_feedback_page_per_student_with_the_messages(graded_class):
    """Does each student get a feedback page quoting the failed checks' messages?"""
    _, grades, _, _ = graded_class
    page = grades.feedback["kernel_crash"].read_text()
    assert "segmentation fault" in page
    assert set(grades.feedback) == set(SUBMISSIONS)
    for path in grades.feedback.values():
        assert path.exists()


def test_does_reading_the_solution_earn_nothing(graded_class):
    """Can a function read the instructor's notebooks, the checks or edu's source? (No:
    the functions that are right only when they can score what the stub scores.)"""
    result = _result(graded_class, "reads_the_solution")
    assert result.scores["test_gradient"] == result.scores["test_hard_threshold"] == 0


def test_does_nothing_a_submission_writes_survive_its_sandbox(graded_class):
    """Are the files written to /tmp, /var/tmp, /dev/shm, home, edu and the data cache
    gone, or never written, once the class is graded?"""
    places = [Path("/tmp"), Path("/var/tmp"), Path("/dev/shm"), REPO / "edu"]
    places.append(Path(os.environ["EDU_CACHE_DIR"]))
    left = [str(p) for place in places for p in place.glob(f"{LEAK}*")]
    assert left == []


def test_does_handing_the_work_over_earn_nothing(graded_class):
    """Do edu's other functions and torch's softshrink and pruning earn what the stub
    does, with the refused call named, even when the record of refusals is cleared?"""
    result = _result(graded_class, "hands_over_the_work")
    for grade_id in (
        "test_gradient",
        "test_soft_threshold",
        "test_trimmed_soft_threshold",
        "test_finetune_after_prune",
        "test_global_prune_by_percentage",
    ):
        assert result.scores[grade_id] == 0, grade_id
        assert {c.kind for c in result.checks if c.grade_id == grade_id} == {"reference"}
    assert "called edu.sparse.gradient" in _messages(result, "test_gradient")
    assert "called torch.softshrink" in _messages(result, "test_soft_threshold")
    assert "group_soft_threshold" in _messages(result, "test_trimmed_soft_threshold")
    assert "masks_from_nonzeros" in _messages(result, "test_finetune_after_prune")
    assert "torch.nn.utils.prune" in _messages(result, "test_global_prune_by_percentage")
    assert result.scores["test_hard_threshold"] == result.scores["test_prune_by_percentage"] == 4


def test_does_doing_nothing_earn_nothing(graded_class):
    """Do functions that leave their inputs alone, and checkpoints under other names,
    score what the stub scores for the points they aim at?"""
    result = _result(graded_class, "does_nothing")
    for grade_id in (
        "test_prune_by_percentage",
        "test_global_prune_by_percentage",
        "test_finetune_after_prune",
        "test_ste_asymmetric",
        "test_ste_symmetric",
    ):
        assert result.scores[grade_id] == 0, grade_id
    overall = _check(result, "test_lab2_global_iterative_70_is_70_percent_sparse_overall")
    assert not overall.passed and "unevenly" in overall.message
    assert "pretrained model unchanged" in _check(result, "test_lab3_qat_4bit_levels").message
    sparse = _check(result, "test_lab3_sparse_qat_4bit_levels")
    assert "lab2_finetune_70.pt unchanged" in sparse.message


def test_do_copies_of_the_reference_checkpoints_earn_nothing(graded_class):
    """Do the course's reference checkpoints, handed in as a student's own, score what the
    stub scores for every checkpoint check, each saying whose file it is?"""
    result = _result(graded_class, "copies_the_reference")
    assert result.score == 0
    for name in SUBMISSION_CHECKPOINTS:
        message = _messages(result, f"test_{name}")
        assert f"is a copy of the course's reference checkpoint {name}.pt" in message, name
    assert result.moves == {}  # refused as copies of the reference, not paired in the class
