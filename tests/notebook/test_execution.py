"""Do the source notebooks pass every test cell, and does the student release fail every one?

Each notebook runs top to bottom in a real Jupyter kernel, the way nbgrader's autograde
runs it (``NBGRADER_EXECUTION=autograde``: the training cells are skipped), and every
autograded test cell is scored with nbgrader's own ``determine_grade``. The solutions
run next to valid checkpoints made from the pretrained model without training; the
untouched release runs in an empty folder, as an untouched stub would be submitted.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from edu.notebook import SUBMISSION_CHECKPOINTS

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "solutions" / "homework"
NOTEBOOKS = sorted(path.name for path in SOURCE.glob("*.ipynb"))


def _grade_ids(notebook):
    nb = nbformat.read(notebook, as_version=4)
    return [
        cell.metadata.nbgrader.grade_id
        for cell in nb.cells
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade")
    ]


GRADED = [(name, grade_id) for name in NOTEBOOKS for grade_id in _grade_ids(SOURCE / name)]
AUTOGRADE = {"NBGRADER_EXECUTION": "autograde", "EDU_SKIP_TRAINING": None}


@pytest.fixture(scope="module")
def solution_runs(tmp_path_factory, harness):
    """Run each source notebook once (on first use) beside valid checkpoints."""
    folder = tmp_path_factory.mktemp("solution")
    harness.write_submission_checkpoints(folder)
    runs = {}

    def run(name):
        if name not in runs:
            env = harness.kernel_env(**AUTOGRADE)
            runs[name] = harness.execute(harness.SOURCE / name, folder, env)
        return runs[name]

    return run


@pytest.fixture(scope="module")
def stub_runs(tmp_path_factory, harness):
    """Run each released notebook once (on first use), untouched, with no checkpoints."""
    folder = tmp_path_factory.mktemp("stub")
    runs = {}

    def run(name):
        if name not in runs:
            env = harness.kernel_env(**AUTOGRADE)
            runs[name] = harness.execute(harness.RELEASE / name, folder, env)
        return runs[name]

    return run


def test_every_notebook_has_autograded_cells(harness):
    """Is there something to prove for every notebook (the parametrization is not empty)?"""
    assert {name for name, _ in GRADED} == set(harness.NOTEBOOKS)
    assert len(GRADED) == 20


@pytest.mark.parametrize(("notebook", "grade_id"), GRADED)
def test_solution_passes_test_cell(solution_runs, harness, notebook, grade_id):
    """Does the source notebook, run top to bottom, earn full marks on this test cell?"""
    cell = harness.grade_cells(solution_runs(notebook))[grade_id]
    assert cell.score == cell.max_score > 0, cell.error


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_solution_runs_without_errors(solution_runs, harness, notebook):
    """Does every code cell of the solution run without an error while grading?"""
    assert harness.code_errors(solution_runs(notebook)) == {}


@pytest.mark.parametrize(("notebook", "grade_id"), GRADED)
def test_release_fails_test_cell(stub_runs, harness, notebook, grade_id):
    """Does the untouched student release earn nothing on this test cell?"""
    cell = harness.grade_cells(stub_runs(notebook))[grade_id]
    assert cell.max_score > 0
    assert cell.score == 0, f"the stub passes {grade_id}"
    assert cell.error, f"{grade_id} failed without an error message"


def test_lab1_shows_the_figures_of_every_part(solution_runs):
    """Does each run cell of Lab 1 display its figures (loss and weights, as PNG)?"""
    nb = solution_runs("lab1_sparse_regression.ipynb")
    figures = {
        cell.id: sum("image/png" in output.get("data", {}) for output in cell.outputs)
        for cell in nb.cells
        if cell.id.startswith("lab1-run-")
    }
    assert figures == {
        "lab1-run-b": 2,
        "lab1-run-c": 2,
        "lab1-run-d": 2,
        "lab1-run-e": 3,
        "lab1-run-f": 4,
    }


def test_lab1_summaries_print_zeros_without_a_sign(solution_runs):
    """Do Lab 1's printed summaries write an entry rounded to zero as 0.0, never -0.0,
    so that students can count the zeros?"""
    nb = solution_runs("lab1_sparse_regression.ipynb")
    printed = "".join(
        output.get("text", "")
        for cell in nb.cells
        if cell.id.startswith("lab1-run-")
        for output in cell.outputs
    )
    assert "W = [" in printed
    assert "-0.0," not in printed and "-0.0]" not in printed


@pytest.mark.slow
def test_training_cells_save_checkpoints_that_pass_their_checks(tmp_path, harness):
    """With training enabled (on a tiny fake CIFAR-10), do Labs 2 and 3 run end to end and
    save the four checkpoints, which then pass every test cell?"""
    data = harness.write_fake_cifar10(tmp_path / "data")
    env = harness.kernel_env(
        EDU_DATA_ROOT=str(data),
        EDU_CACHE_DIR=str(tmp_path / "cache"),
        NBGRADER_EXECUTION=None,
        EDU_SKIP_TRAINING=None,
    )
    folder = tmp_path / "student"
    for name in ("lab2_pruning.ipynb", "lab3_quantization.ipynb"):
        nb = harness.execute(SOURCE / name, folder, env)
        assert harness.code_errors(nb) == {}, name
        for cell in harness.grade_cells(nb).values():
            assert cell.score == cell.max_score, (name, cell)
    saved = sorted(path.name for path in folder.glob("*.pt"))
    assert saved == sorted(spec.filename for spec in SUBMISSION_CHECKPOINTS.values())


@pytest.mark.slow
def test_nbgrader_validate_accepts_solutions_and_rejects_release(tmp_path, harness):
    """Does ``nbgrader validate`` itself pass the solutions, and does ``--invert`` find no
    passing test cell in the release?"""
    solutions, release = tmp_path / "solutions", tmp_path / "release"
    solutions.mkdir()
    release.mkdir()
    harness.write_submission_checkpoints(solutions)
    for name in NOTEBOOKS:
        (solutions / name).write_bytes((SOURCE / name).read_bytes())
        (release / name).write_bytes((harness.RELEASE / name).read_bytes())
    validate = [sys.executable, "-m", "nbgrader", "validate"]
    env = harness.kernel_env(NBGRADER_EXECUTION=None, EDU_SKIP_TRAINING=None)
    passed = subprocess.run(
        [*validate, *NOTEBOOKS], cwd=solutions, env=env, capture_output=True, text=True
    )
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert passed.stdout.count("Success! Your notebook passes all the tests.") == 4, passed.stdout
    inverted = subprocess.run(
        [*validate, "--invert", *NOTEBOOKS], cwd=release, env=env, capture_output=True, text=True
    )
    assert inverted.returncode == 0, inverted.stdout + inverted.stderr
    assert "NOTEBOOK PASSED ON" not in inverted.stdout, inverted.stdout
    assert inverted.stdout.count("Success! The notebook does not pass any tests.") == 4, (
        inverted.stdout
    )
