"""The bonus assignment ``lab4``: its contract with the grader, its release, its execution.

Lab 4 is an nbgrader assignment of its own (``solutions/lab4`` -> ``assignments/lab4``),
so that its points and deadline stay apart from the homework's. The contract below is
written out here, as the homework's is in ``test_contract.py``; the notebook is then run
top to bottom in a Jupyter kernel as nbgrader's autograde runs it: the solution earns
every test cell, the untouched release none.
"""

from __future__ import annotations

import ast
import filecmp
import inspect
import re
from pathlib import Path

import nbformat
import pytest

import edu.compress
import edu.prune
from edu.grading import AssignmentLayout, check_points, collect_checks, select_checks
from edu.notebook import release

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "solutions" / "lab4"
RELEASE = ROOT / "assignments" / "lab4"
NOTEBOOK = "lab4_compression.ipynb"

SOLUTION_CELLS = ["channel_importance", "remove_inner_channels", "kmeans_quantize"]
AUTOGRADED = {
    "test_channel_importance": 4,
    "test_remove_inner_channels": 6,
    "test_kmeans_quantize": 6,
}
MANUAL = {"lab4_discussion": 4}
TOTAL = 20
PARAMETERS = {
    "channel_importance": ["weight"],
    "remove_inner_channels": ["net", "keep"],
    "kmeans_quantize": ["weight", "bits"],
}
"""The taught functions' parameters. ``remove_inner_channels`` and ``kmeans_quantize``
take the leading parameters of :func:`edu.prune.remove_channels` and
:func:`edu.compress.kmeans_quantize`; ``channel_importance`` takes one layer's weight,
where ``edu.prune.channel_importance`` reads a block of a state dict."""
REFERENCE = {
    "remove_inner_channels": edu.prune.remove_channels,
    "kmeans_quantize": edu.compress.kmeans_quantize,
}
BOTH = [
    pytest.param(SOURCE / NOTEBOOK, id="source"),
    pytest.param(RELEASE / NOTEBOOK, id="release"),
]
AUTOGRADE = {"NBGRADER_EXECUTION": "autograde", "EDU_SKIP_TRAINING": None}


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _nbgrader(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def test_is_lab4_an_assignment_of_its_own():
    """Is the notebook alone in solutions/lab4 and assignments/lab4, and does the release
    command know both assignments?"""
    assert sorted(p.name for p in SOURCE.iterdir()) == [NOTEBOOK]
    assert sorted(p.name for p in RELEASE.iterdir()) == [NOTEBOOK]
    assert release.assignments(ROOT) == ["homework", "lab4"]


@pytest.mark.parametrize("path", BOTH)
def test_grade_cells_and_points(path):
    """Are the graded cells those of the contract, with its points (20 in all)?"""
    autograded, manual = {}, {}
    for cell in _read(path).cells:
        meta = _nbgrader(cell)
        if not meta.get("grade"):
            continue
        target = manual if meta.get("solution") else autograded
        assert meta["grade_id"] not in target
        target[meta["grade_id"]] = meta["points"]
        assert cell.cell_type == ("markdown" if meta.get("solution") else "code")
    assert (autograded, manual) == (AUTOGRADED, MANUAL)
    assert sum(AUTOGRADED.values()) + sum(MANUAL.values()) == TOTAL


def test_do_the_hidden_checks_match_the_cells():
    """Do the checks of grader/ selected for lab4 give each test cell its points, and are
    they test_lab4.py's alone (none of the homework's)?"""
    layout = AssignmentLayout.from_notebooks(SOURCE)
    checks = select_checks(collect_checks(ROOT / "grader"), layout.autograded)
    check_points(checks, layout)
    assert {c.grade_id for c in checks} == set(AUTOGRADED)
    assert {c.module for c in checks} == {"test_lab4"}


@pytest.mark.parametrize("path", BOTH)
def test_solution_and_setup_cells(path):
    """Does each taught function sit alone in its solution cell, after one locked setup
    cell, with the contract's parameters, importing nothing from edu?"""
    solutions, setups = [], []
    for cell in _read(path).cells:
        meta = _nbgrader(cell)
        if not meta:
            continue
        assert meta["schema_version"] == 3
        if meta.get("solution") and not meta.get("grade"):
            solutions.append(meta["grade_id"])
            assert "edu" not in cell.source, meta["grade_id"]
            (node,) = [n for n in ast.parse(cell.source).body if isinstance(n, ast.FunctionDef)]
            assert node.name == meta["grade_id"]
            assert [a.arg for a in node.args.args] == PARAMETERS[node.name]
        elif not meta.get("grade"):
            assert meta["locked"]
            setups.append(meta["grade_id"])
    assert solutions == SOLUTION_CELLS
    assert setups == ["lab4_compression_setup"]


def test_parameters_are_those_of_edu():
    """Do the functions take the leading parameters of their counterparts in edu?"""
    for name, reference in REFERENCE.items():
        leading = list(inspect.signature(reference).parameters)[: len(PARAMETERS[name])]
        assert leading == PARAMETERS[name], name


@pytest.mark.parametrize("path", BOTH)
def test_no_outputs_and_fixed_ids(path):
    """Is the notebook committed without outputs, with fixed cell ids (format 4.5)?"""
    nb = _read(path)
    nbformat.validate(nb)
    assert (nb.nbformat, nb.nbformat_minor) == (4, 5)
    for cell in nb.cells:
        assert cell.get("id")
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.id


def test_test_cells_have_visible_and_hidden_checks():
    """Does every test cell start with visible asserts and hide a comparison with edu?"""
    for cell in _read(SOURCE / NOTEBOOK).cells:
        meta = _nbgrader(cell)
        if meta.get("grade") and not meta.get("solution"):
            visible, _, hidden = cell.source.partition("### BEGIN HIDDEN TESTS")
            assert "assert" in visible and "assert" in hidden, meta["grade_id"]
            assert re.search(r"^from edu\.", hidden, re.M), meta["grade_id"]


def test_release_hides_solutions_and_hidden_tests():
    """Does the release keep the cells in order, with stubs for the solutions and only the
    visible part of each test?"""
    source, released = _read(SOURCE / NOTEBOOK), _read(RELEASE / NOTEBOOK)
    assert [c.id for c in source.cells] == [c.id for c in released.cells]
    for before, after in zip(source.cells, released.cells, strict=True):
        assert "BEGIN SOLUTION" not in after.source and "HIDDEN TESTS" not in after.source
        meta = _nbgrader(after)
        if meta.get("grade") and not meta.get("solution"):
            assert after.source.strip() == before.source.partition("### BEGIN")[0].strip()
        elif meta.get("solution"):
            expected = "YOUR ANSWER HERE" if after.cell_type == "markdown" else "NotImplemented"
            assert expected in after.source
        else:
            assert after.source == before.source


def _unguarded_calls(source: str, names: set[str]) -> list[str]:
    """Calls of ``names`` that run outside ``if training_enabled():`` (function bodies
    run only when called, so they are not counted)."""
    found = []

    def visit(node):
        if isinstance(node, ast.If) and ast.unparse(node.test) == "training_enabled()":
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.FunctionDef):
            return
        if isinstance(node, ast.Call):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if called in names:
                found.append(ast.unparse(node))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(source))
    return found


def test_data_measurements_and_training_run_only_when_enabled():
    """Is every use of CIFAR-10, of the timing and cost helpers, of training and of the
    student's functions outside the test cells guarded by training_enabled()?"""
    guarded = {
        "load_cifar10",
        "BatchLoader",
        "evaluate",
        "finetune",
        "model_cost",
        "cpu_latency_ms",
        "shared_layer_bits",
        "prune_model",
        *SOLUTION_CELLS,
    }
    cells = [c for c in _read(SOURCE / NOTEBOOK).cells if c.cell_type == "code"]
    for cell in cells:
        if not _nbgrader(cell):
            assert _unguarded_calls(cell.source, guarded) == [], cell.id
    text = "\n".join(cell.source for cell in cells)
    for needed in ("model_cost(", "cpu_latency_ms(", "finetune("):
        assert needed in text


def test_notebook_links_the_notes_and_says_how_to_validate():
    """Does the introduction link chapters of the notes that exist, and the last cell say
    how to validate the notebook?"""
    nb = _read(RELEASE / NOTEBOOK)
    links = re.findall(r"\]\((\.\./\.\./docs/chapters/\w+\.md)\)", nb.cells[0].source)
    assert links and all((RELEASE / link).resolve().is_file() for link in links)
    assert nb.cells[-1].source.startswith("## Before you submit")
    assert f"nbgrader validate {NOTEBOOK}" in nb.cells[-1].source


def test_committed_release_matches_a_fresh_nbgrader_run(tmp_path):
    """Does nbgrader generate_assignment lab4 reproduce assignments/lab4 byte for byte, and
    does the release check cover it?"""
    fresh = release.generate(ROOT, "lab4", tmp_path)
    assert sorted(p.name for p in fresh.iterdir()) == [NOTEBOOK]
    assert filecmp.cmp(fresh / NOTEBOOK, RELEASE / NOTEBOOK, shallow=False), (
        "assignments/lab4 is out of date: run python -m edu.notebook.release"
    )
    assert release.differences(ROOT, "lab4") == []


@pytest.fixture(scope="module")
def runs(tmp_path_factory, harness):
    """The source notebook and the untouched release, each run once as autograde runs them."""
    env = harness.kernel_env(**AUTOGRADE)
    return {
        name: harness.execute(folder / NOTEBOOK, tmp_path_factory.mktemp(name), env)
        for name, folder in (("solution", SOURCE), ("stub", RELEASE))
    }


def test_solution_earns_every_test_cell_without_errors(runs, harness):
    """Does the source notebook, run top to bottom, earn every test cell, with no error?"""
    cells = harness.grade_cells(runs["solution"])
    assert set(cells) == set(AUTOGRADED)
    for cell in cells.values():
        assert cell.score == cell.max_score > 0, (cell.grade_id, cell.error)
    assert harness.code_errors(runs["solution"]) == {}


def test_release_earns_nothing(runs, harness):
    """Does the untouched release fail every test cell, each with an error?"""
    for cell in harness.grade_cells(runs["stub"]).values():
        assert cell.score == 0 and "NotImplementedError" in cell.error, cell.grade_id


@pytest.mark.slow
def test_measurement_and_training_cells_run_end_to_end(tmp_path, harness):
    """With training enabled (on a tiny fake CIFAR-10), does the notebook run top to
    bottom without an error: bytes, MACs and latency measured, the narrower model
    finetuned and shared, every test cell passed?"""
    data = harness.write_fake_cifar10(tmp_path / "data")
    env = harness.kernel_env(
        EDU_DATA_ROOT=str(data),
        EDU_CACHE_DIR=str(tmp_path / "cache"),
        NBGRADER_EXECUTION=None,
        EDU_SKIP_TRAINING=None,
    )
    nb = harness.execute(SOURCE / NOTEBOOK, tmp_path / "student", env)
    assert harness.code_errors(nb) == {}
    assert all(c.score == c.max_score for c in harness.grade_cells(nb).values())
    printed = {
        cell.id: "".join(output.get("text", "") for output in cell.outputs)
        for cell in nb.cells
        if cell.cell_type == "code"
    }
    assert "smaller" in printed["lab4-run-storage"]
    assert "138,506 parameters" in printed["lab4-run-speed"]
    assert "with 4-bit k-means weight sharing" in printed["lab4-run-e"]
