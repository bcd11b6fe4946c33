"""Running the homework notebooks in a real Jupyter kernel: kernel spec, data, checkpoints.

Every notebook runs in a kernel of this test run's own Python (a kernel spec written to a
temporary ``JUPYTER_PATH``, so that no other installed ``python3`` kernel is picked up),
in a temporary folder that holds a copy of the notebook and whatever files the test puts
next to it, exactly as a submission folder would.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient
from nbgrader.utils import determine_grade, is_grade

from edu.data import CIFAR10_CLASSES
from edu.models import pretrained_resnet20
from edu.notebook import save_submission
from edu.prune import prune_model

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENT = "homework"
SOURCE = ROOT / "solutions" / ASSIGNMENT
RELEASE = ROOT / "assignments" / ASSIGNMENT
NOTEBOOKS = (
    "part0_true_false.ipynb",
    "lab1_sparse_regression.ipynb",
    "lab2_pruning.ipynb",
    "lab3_quantization.ipynb",
)
KERNEL_TIMEOUT = 300  # seconds per cell


@pytest.fixture(scope="session", autouse=True)
def isolated_kernel_spec(tmp_path_factory):
    """A ``python3`` kernel spec that runs this interpreter, first on ``JUPYTER_PATH``."""
    folder = tmp_path_factory.mktemp("jupyter")
    spec = folder / "kernels" / "python3"
    spec.mkdir(parents=True)
    kernel = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (tests)",
        "language": "python",
    }
    (spec / "kernel.json").write_text(json.dumps(kernel))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JUPYTER_PATH", str(folder))
        yield folder


@dataclass(frozen=True)
class GradeCell:
    """One autograded test cell after execution: its score and the error it raised."""

    grade_id: str
    score: float
    max_score: float
    error: str


def kernel_env(**changes: str | None) -> dict[str, str]:
    """This process's environment with ``changes`` applied (``None`` removes a variable)."""
    env = dict(os.environ)
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def execute(notebook: Path, folder: Path, env: dict[str, str]) -> nbformat.NotebookNode:
    """Copy ``notebook`` into ``folder`` and run it there top to bottom, errors allowed."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(notebook, folder / notebook.name)
    nb = nbformat.read(folder / notebook.name, as_version=4)
    client = NotebookClient(
        nb,
        timeout=KERNEL_TIMEOUT,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(folder)}},
    )
    client.execute(env=env)
    return nb


def _error_text(cell: nbformat.NotebookNode) -> str:
    for output in cell.outputs:
        if output.output_type == "error":
            return f"{output.ename}: {output.evalue}"
    return ""


def grade_cells(nb: nbformat.NotebookNode) -> dict[str, GradeCell]:
    """The autograded (code) test cells of an executed notebook, scored as nbgrader does."""
    cells = {}
    for cell in nb.cells:
        if cell.cell_type == "code" and is_grade(cell):
            score, max_score = determine_grade(cell)
            grade_id = cell.metadata.nbgrader.grade_id
            cells[grade_id] = GradeCell(grade_id, score, max_score, _error_text(cell))
    return cells


def code_errors(nb: nbformat.NotebookNode) -> dict[str, str]:
    """``{cell id: error}`` for every code cell that raised."""
    return {
        cell.id: _error_text(cell)
        for cell in nb.cells
        if cell.cell_type == "code" and _error_text(cell)
    }


def write_submission_checkpoints(folder: Path) -> None:
    """The four checkpoints of the homework, made without training from the pretrained model.

    Valid for every structural check (architecture, sparsity, weight levels); their
    accuracy is not that of trained models.
    """
    net = pretrained_resnet20()
    prune_model(net, 70)
    save_submission(net, "lab2_finetune_70", folder)
    net = pretrained_resnet20()
    prune_model(net, 70, "global")
    save_submission(net, "lab2_global_iterative_70", folder)
    save_submission(pretrained_resnet20(Nbits=4), "lab3_qat_4bit", folder)
    net = pretrained_resnet20(Nbits=4)
    prune_model(net, 70)
    save_submission(net, "lab3_sparse_qat_4bit", folder)


def write_fake_cifar10(root: Path, train: int = 40, test: int = 20) -> Path:
    """A tiny random CIFAR-10 in torchvision's ``cifar-10-batches-py`` form under ``root``."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    meta = {"label_names": list(CIFAR10_CLASSES)}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))
    rng = np.random.default_rng(0)
    files = {f"data_batch_{i}": train // 5 for i in range(1, 6)} | {"test_batch": test}
    for name, count in files.items():
        batch = {
            "data": rng.integers(0, 256, size=(count, 3072), dtype=np.uint8),
            "labels": [int(label) for label in rng.integers(0, 10, size=count)],
        }
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))
    return root


@pytest.fixture(scope="session")
def harness():
    """The helpers above, for the test modules (conftest is not importable as a module)."""
    return SimpleNamespace(
        ROOT=ROOT,
        SOURCE=SOURCE,
        RELEASE=RELEASE,
        NOTEBOOKS=NOTEBOOKS,
        kernel_env=kernel_env,
        execute=execute,
        grade_cells=grade_cells,
        code_errors=code_errors,
        write_submission_checkpoints=write_submission_checkpoints,
        write_fake_cifar10=write_fake_cifar10,
    )
