"""Do the notebooks keep the contract with the grader: names, grade ids, points, cell kinds?

The table below is the contract (the homework's grade cells and their points, the
spec's 15 / 30 / 25 / 30); it is written out here rather than read from any code, so
that a change on either side shows up as a failure.
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import nbformat
import pytest

import edu.prune
import edu.quant
import edu.sparse
import edu.train
from edu.notebook import SUBMISSION_CHECKPOINTS

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "solutions" / "homework"
RELEASE = ROOT / "assignments" / "homework"

SOLUTION_CELLS = {
    "part0_true_false.ipynb": [f"tf_1_{k}" for k in range(1, 6)],
    "lab1_sparse_regression.ipynb": [
        "gradient",
        "hard_threshold",
        "l1_subgradient",
        "soft_threshold",
        "trimmed_soft_threshold",
    ],
    "lab2_pruning.ipynb": [
        "prune_by_percentage",
        "finetune_after_prune",
        "global_prune_by_percentage",
    ],
    "lab3_quantization.ipynb": ["STE"],
}
AUTOGRADED = {
    "part0_true_false.ipynb": {f"test_tf_1_{k}": 1 for k in range(1, 6)},
    "lab1_sparse_regression.ipynb": {
        "test_gradient": 4,
        "test_hard_threshold": 4,
        "test_l1_subgradient": 4,
        "test_soft_threshold": 4,
        "test_trimmed_soft_threshold": 4,
    },
    "lab2_pruning.ipynb": {
        "test_prune_by_percentage": 4,
        "test_finetune_after_prune": 4,
        "test_lab2_finetune_70": 4,
        "test_global_prune_by_percentage": 4,
        "test_lab2_global_iterative_70": 4,
    },
    "lab3_quantization.ipynb": {
        "test_ste_asymmetric": 5,
        "test_ste_symmetric": 5,
        "test_ste_gradient": 4,
        "test_lab3_qat_4bit": 5,
        "test_lab3_sparse_qat_4bit": 5,
    },
}
MANUAL = {
    "part0_true_false.ipynb": {f"why_1_{k}": 2 for k in range(1, 6)},
    "lab1_sparse_regression.ipynb": {"lab1_figures": 5, "lab1_discussion": 5},
    "lab2_pruning.ipynb": {"lab2_discussion": 5},
    "lab3_quantization.ipynb": {"lab3_discussion": 6},
}
TOTALS = {
    "part0_true_false.ipynb": 15,
    "lab1_sparse_regression.ipynb": 30,
    "lab2_pruning.ipynb": 25,
    "lab3_quantization.ipynb": 30,
}
REFERENCE = {
    "gradient": edu.sparse.gradient,
    "hard_threshold": edu.sparse.hard_threshold,
    "l1_subgradient": edu.sparse.l1_subgradient,
    "soft_threshold": edu.sparse.soft_threshold,
    "trimmed_soft_threshold": edu.sparse.trimmed_soft_threshold,
    "prune_by_percentage": edu.prune.prune_by_percentage,
    "finetune_after_prune": edu.train.finetune_after_prune,
    "global_prune_by_percentage": edu.prune.global_prune_by_percentage,
    "STE.forward": edu.quant.STE.forward,
    "STE.backward": edu.quant.STE.backward,
}
NOTEBOOKS = sorted(TOTALS)
BOTH = [
    pytest.param(folder / name, id=f"{folder.parent.name}-{name}")
    for folder in (SOURCE, RELEASE)
    for name in NOTEBOOKS
]


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _nbgrader(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def _hidden_region(source: str) -> str:
    match = re.search(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", source, re.S)
    return match.group(1) if match else ""


def test_notebook_names():
    """Are the notebooks exactly the four of the contract, in source and release?"""
    assert sorted(p.name for p in SOURCE.iterdir()) == NOTEBOOKS
    assert sorted(p.name for p in RELEASE.iterdir()) == NOTEBOOKS


def test_points_add_up_to_100():
    """Do the contract's points give the spec's 15 / 30 / 25 / 30, 100 in all?"""
    for name, total in TOTALS.items():
        assert sum(AUTOGRADED[name].values()) + sum(MANUAL[name].values()) == total
    assert sum(TOTALS.values()) == 100


@pytest.mark.parametrize("path", BOTH)
def test_grade_cells_and_points(path):
    """Are the graded cells those of the contract, with its points, in both versions?"""
    nb = _read(path)
    autograded, manual = {}, {}
    for cell in nb.cells:
        meta = _nbgrader(cell)
        if not meta.get("grade"):
            continue
        target = manual if meta.get("solution") else autograded
        assert meta["grade_id"] not in target, f"duplicate grade id {meta['grade_id']}"
        target[meta["grade_id"]] = meta["points"]
        kind = "markdown" if meta.get("solution") else "code"
        assert cell.cell_type == kind, f"{meta['grade_id']} should be a {kind} cell"
    assert autograded == AUTOGRADED[path.name]
    assert manual == MANUAL[path.name]


@pytest.mark.parametrize("path", BOTH)
def test_solution_and_setup_cells(path):
    """Does every taught function sit alone in its solution cell, after one locked setup
    cell, and is every other nbgrader cell a test or a manual answer?"""
    nb = _read(path)
    setup_id = f"{path.stem}_setup"
    solutions, setups = [], []
    for cell in nb.cells:
        meta = _nbgrader(cell)
        if not meta:
            continue
        assert meta["schema_version"] == 3
        if meta.get("solution") and not meta.get("grade"):
            assert cell.cell_type == "code"
            solutions.append(meta["grade_id"])
        elif not meta.get("solution") and not meta.get("grade"):
            assert meta["locked"], f"{meta['grade_id']} must be read-only"
            setups.append(meta["grade_id"])
    assert solutions == SOLUTION_CELLS[path.name]
    expected_setups = [] if path.name == "part0_true_false.ipynb" else [setup_id]
    assert setups == expected_setups


@pytest.mark.parametrize("path", BOTH)
def test_no_outputs(path):
    """Are the notebooks committed without outputs and with fixed cell ids (format 4.5)?"""
    nb = _read(path)
    nbformat.validate(nb)
    assert (nb.nbformat, nb.nbformat_minor) == (4, 5)
    assert nb.metadata.kernelspec.name == "python3"
    for cell in nb.cells:
        assert cell.get("id"), "every cell needs a fixed id (nbformat 4.5)"
        if cell.cell_type == "code":
            assert cell.outputs == [], f"cell {cell.id} has outputs"
            assert cell.execution_count is None, f"cell {cell.id} has an execution count"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_taught_functions_have_edu_signatures(name):
    """Does each taught function have the name and leading parameters of its edu counterpart,
    and import nothing from edu (source and stub alike)?"""
    for folder in (SOURCE, RELEASE):
        for cell in _read(folder / name).cells:
            meta = _nbgrader(cell)
            if not (meta.get("solution") and cell.cell_type == "code"):
                continue
            assert "edu" not in cell.source, f"{meta['grade_id']} mentions edu"
            tree = ast.parse(cell.source)
            defined = [n for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)]
            if name == "part0_true_false.ipynb":
                assert defined == []
                continue
            assert [node.name for node in defined] == [meta["grade_id"]]
            functions = (
                {f"STE.{n.name}": n for n in defined[0].body if isinstance(n, ast.FunctionDef)}
                if isinstance(defined[0], ast.ClassDef)
                else {defined[0].name: defined[0]}
            )
            for qualified, node in functions.items():
                reference = inspect.signature(REFERENCE[qualified])
                positional = [
                    p for p in reference.parameters.values() if p.kind is p.POSITIONAL_OR_KEYWORD
                ]
                args = [a.arg for a in node.args.args]
                assert args == [p.name for p in positional][: len(args)], qualified
                required = [p.name for p in positional if p.default is p.empty]
                assert args[: len(required)] == required, qualified
                defaults = [ast.literal_eval(d) for d in node.args.defaults]
                assert defaults == [
                    p.default for p in positional[len(args) - len(defaults) : len(args)]
                ]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_test_cells_have_visible_and_hidden_checks(name):
    """Does every source test cell start with visible asserts and hold hidden ones, and do
    the hidden tests of the taught functions compare with edu?"""
    for cell in _read(SOURCE / name).cells:
        meta = _nbgrader(cell)
        if not meta.get("grade") or meta.get("solution"):
            continue
        visible, _, _ = cell.source.partition("### BEGIN HIDDEN TESTS")
        hidden = _hidden_region(cell.source)
        assert "assert" in visible and "assert" in hidden, meta["grade_id"]
        checks_a_function = not (
            meta["grade_id"].startswith("test_tf_") or meta["grade_id"].startswith("test_lab")
        )
        if checks_a_function:
            assert re.search(r"^(from|import) edu\.", hidden, re.M), meta["grade_id"]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_release_hides_solutions_and_hidden_tests(name):
    """Does the release keep the visible checks but no solution or hidden test, with the
    same cells in the same order as the source?"""
    source, release = _read(SOURCE / name), _read(RELEASE / name)
    assert [c.id for c in source.cells] == [c.id for c in release.cells]
    for before, after in zip(source.cells, release.cells, strict=True):
        assert "BEGIN SOLUTION" not in after.source and "HIDDEN TESTS" not in after.source
        meta = _nbgrader(after)
        if meta.get("grade") and not meta.get("solution"):
            visible = before.source.partition("### BEGIN HIDDEN TESTS")[0].strip()
            assert after.source.strip() == visible
            assert meta["locked"] and "checksum" in meta
        elif meta.get("solution") and after.cell_type == "markdown":
            assert after.source == "YOUR ANSWER HERE"
        elif meta.get("solution"):
            assert "raise NotImplementedError()" in after.source
        else:
            assert after.source == before.source


def test_part0_stub_answers_are_none():
    """Does each true/false stub start from answer_1_k = None?"""
    for cell in _read(RELEASE / "part0_true_false.ipynb").cells:
        meta = _nbgrader(cell)
        if meta.get("solution") and cell.cell_type == "code":
            k = meta["grade_id"].removeprefix("tf_")
            assert cell.source.startswith(f"answer_{k} = None")


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_students_are_told_to_validate_before_submitting(name):
    """Does every student notebook end by telling how to check it with nbgrader validate?"""
    last = _read(RELEASE / name).cells[-1]
    assert last.source.startswith("## Before you submit")
    assert f"nbgrader validate {name}" in last.source


def test_part0_visible_tests_say_they_check_the_format_only():
    """Does each true/false test cell say it checks the format, not the answer?"""
    for cell in _read(RELEASE / "part0_true_false.ipynb").cells:
        if _nbgrader(cell).get("grade_id", "").startswith("test_tf_"):
            assert "checks the format only" in cell.source


def _calls_outside_training_guard(source: str, names: set[str]) -> list[str]:
    """Calls of ``names`` in ``source`` that are not inside ``if training_enabled():``."""
    found = []

    def visit(node, guarded):
        if isinstance(node, ast.If) and ast.unparse(node.test) == "training_enabled()":
            for child in node.body:
                visit(child, True)
            for child in node.orelse:
                visit(child, guarded)
            return
        if isinstance(node, ast.Call) and not guarded:
            called = node.func.attr if isinstance(node.func, ast.Attribute) else None
            called = node.func.id if isinstance(node.func, ast.Name) else called
            if called in names:
                found.append(ast.unparse(node))
        for child in ast.iter_child_nodes(node):
            visit(child, guarded)

    visit(ast.parse(source), False)
    return found


@pytest.mark.parametrize("name", ["lab2_pruning.ipynb", "lab3_quantization.ipynb"])
def test_training_and_data_run_only_when_enabled(name):
    """Is every use of CIFAR-10, evaluation, training and saving guarded by
    training_enabled(), so that grading never trains?"""
    guarded = {"load_cifar10", "BatchLoader", "evaluate", "finetune", "save_submission"}
    for cell in _read(SOURCE / name).cells:
        if cell.cell_type == "code" and not _nbgrader(cell):
            assert _calls_outside_training_guard(cell.source, guarded) == [], cell.id


@pytest.mark.parametrize("spec", SUBMISSION_CHECKPOINTS.values(), ids=lambda s: s.name)
def test_notebooks_save_and_document_each_checkpoint(spec):
    """Does the notebook that owns a checkpoint save it under its name and tell the
    student to submit that file?"""
    nb = _read(SOURCE / spec.notebook)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert f"`{spec.filename}`" in text
    assert f'save_submission(net, "{spec.name}")' in code
