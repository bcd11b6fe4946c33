"""The hidden checks (grader/) on the reference solutions and on wrong implementations.

Oracles: the instructor's solutions pass every check that needs no data (and the
notebooks' own tests say they are right); each wrong implementation below fails
exactly the checks that test what it gets wrong, with a message that names the
input and what was expected.
"""

import re

import pytest

from edu.grading import (
    Deadline,
    GradingContext,
    check_points,
    collect_checks,
    read_submission,
    run_check,
    select_checks,
)

WRONG = {
    "lab1_sparse_regression": {
        "gradient": "def gradient(X, y, w):\n    return X.T @ (X @ w - y)",
        "hard_threshold": (
            "def hard_threshold(v, k):\n    keep = np.argsort(v)[len(v) - k:]\n"
            "    out = np.zeros_like(v)\n    out[keep] = v[keep]\n    v[:] = out\n    return v"
        ),
        "l1_subgradient": "def l1_subgradient(w):\n    return np.sign(w) + (w == 0)",
        "soft_threshold": (
            "import numpy, edu.sparse\n"
            "numpy.allclose = lambda *a, **k: True  # patched in the sandbox only\n"
            "def soft_threshold(v, threshold):\n    return v - threshold"
        ),
        "trimmed_soft_threshold": (
            "def trimmed_soft_threshold(v, threshold, num_free):\n"
            "    v = np.asarray(v, dtype=float)\n    free = np.argsort(-v)[:num_free]\n"
            "    out = np.sign(v) * np.maximum(np.abs(v) - threshold, 0.0)\n"
            "    out[free] = v[free]\n    return out"
        ),
    },
    "lab2_pruning": {
        "prune_by_percentage": (
            "def prune_by_percentage(layer, q):\n"
            "    w = layer.weight.detach()\n"
            "    keep = w >= float(np.percentile(w.numpy(), q))\n"
            "    with torch.no_grad():\n        layer.weight.mul_(keep)\n    return keep"
        ),
        "global_prune_by_percentage": (
            "def global_prune_by_percentage(net, q):\n"
            "    for _, layer in prunable_layers(net):\n"
            "        w = layer.weight.detach()\n"
            "        t = float(np.percentile(w.abs().numpy(), q))\n"
            "        with torch.no_grad():\n            layer.weight.mul_(w.abs() >= t)\n"
            "    return t"
        ),
        "finetune_after_prune": (
            "def finetune_after_prune(net, trainloader, criterion, optimizer, prune=True):\n"
            "    net.train()\n    for x, y in trainloader:\n        optimizer.zero_grad()\n"
            "        criterion(net(x), y).backward()\n        optimizer.step()"
        ),
    },
    "lab3_quantization": {
        "STE": (
            "class STE(torch.autograd.Function):\n"
            "    @staticmethod\n    def forward(ctx, w, bit, symmetric=False):\n"
            "        if bit is None:\n            return w.clone()\n"
            "        steps = 2**bit - 1\n        alpha, beta = w.min(), w.max() - w.min()\n"
            "        return torch.round((w - alpha) / beta * steps) / steps * beta + alpha\n"
            "    @staticmethod\n    def backward(ctx, grad_output):\n"
            "        return grad_output * 0, None, None"
        ),
    },
    "part0_true_false": {"tf_1_1": "answer_1_1 = True", "tf_1_2": "answer_1_2 = None"},
}

EXPECTED_FAILURES = {
    "test_gradient_on_random_problems": "expected",
    "test_gradient_on_the_homework_data": "on the homework data",
    "test_gradient_leaves_its_inputs_unchanged": "gradient(X, y, w)",
    "test_hard_threshold_on_random_vectors": "hard_threshold(v, k=",
    "test_hard_threshold_edge_cases": "hard_threshold(v, k=",
    "test_hard_threshold_leaves_v_unchanged": "changed its argument v",
    "test_l1_subgradient_is_zero_at_zero": "l1_subgradient(w)",
    "test_soft_threshold_on_random_vectors": "soft_threshold(v, threshold=",
    "test_soft_threshold_edge_cases": "soft_threshold(v, threshold=",
    "test_soft_threshold_leaves_v_unchanged": "soft_threshold(v, 0.3)",
    "test_trimmed_soft_threshold_on_random_vectors": "trimmed_soft_threshold",
    "test_trimmed_soft_threshold_chooses_by_magnitude": "num_free=2",
    "test_prune_by_percentage_matches_the_reference": "weights differ from the expected ones",
    "test_prune_by_percentage_on_a_pruned_layer": "weights differ",
    "test_prune_by_percentage_returns_the_keep_mask": "weights differ",
    "test_global_prune_matches_the_reference": "global_prune_by_percentage",
    "test_global_prune_leaves_the_rest_alone": "global_prune_by_percentage",
    "test_global_prune_returns_the_threshold": "expected the threshold",
    "test_finetune_keeps_pruned_weights_at_zero": "are no longer 0",
    "test_finetune_with_mask_matches_the_reference": "differs from the expected one",
    "test_ste_asymmetric_values": "STE.apply(w,",
    "test_ste_asymmetric_keeps_zeros_and_levels": "STE.apply(w,",
    "test_ste_asymmetric_degenerate_inputs": "STE.apply(w, 4, False)",
    "test_ste_asymmetric_special_bits": "STE.apply(w, 0, False)",
    "test_ste_symmetric_values": "STE.apply(w,",
    "test_ste_symmetric_keeps_zeros_and_levels": "STE.apply(w,",
    "test_ste_symmetric_is_odd": "STE.apply(w, 3, True)",
    "test_ste_gradient_passes_straight_through": "the gradient of w",
    "test_ste_gradient_passes_straight_through_symmetric": "the gradient of w",
    "test_ste_gradient_with_pruned_zeros": "the gradient of w",
    "test_answer_1_1": "not the right answer",
    "test_answer_1_2": "must be True or False, got a NoneType",
}


@pytest.fixture(scope="module")
def checks(repo, layout):
    """The homework's checks that need no data (grader/ also holds the bonus lab4's)."""
    homework = select_checks(collect_checks(repo / "grader"), layout.autograded)
    return [c for c in homework if not c.needs_data]


def _results(tmp_path_factory, layout, make_policy, notebooks, name, checks):
    folder = tmp_path_factory.mktemp(name)
    folder.chmod(0o711)
    submission_dir = folder / "submitted" / name / "homework"
    submission_dir.mkdir(parents=True)
    for stem, notebook in notebooks.items():
        import nbformat

        nbformat.write(notebook, submission_dir / f"{stem}.ipynb")
    submission = read_submission(submission_dir, name, layout, make_policy().limits)
    context = GradingContext(
        submission, layout, make_policy(folder), folder / "scratch", Deadline(900)
    )
    try:
        fixtures = context.fixtures()
        return {c.name: run_check(c, fixtures) for c in checks}
    finally:
        context.close()


@pytest.fixture(scope="module")
def reference_results(tmp_path_factory, layout, make_policy, solution_notebooks, checks):
    return _results(tmp_path_factory, layout, make_policy, solution_notebooks, "ref", checks)


@pytest.fixture(scope="module")
def wrong_results(tmp_path_factory, layout, make_policy, solution_notebooks, replace_cell, checks):
    notebooks = dict(solution_notebooks)
    for stem, cells in WRONG.items():
        for grade_id, source in cells.items():
            notebooks[stem] = replace_cell(notebooks[stem], grade_id, source)
    return _results(tmp_path_factory, layout, make_policy, notebooks, "wrong", checks)


def test_do_the_checks_add_up_to_the_cells_points(repo, layout):
    """Do the checks' points of every test cell equal the notebook's points for it, and
    are the homework's checks those of its own modules (lab4's left out)?"""
    everything = collect_checks(repo / "grader")
    homework = select_checks(everything, layout.autograded)
    check_points(homework, layout)
    assert {c.grade_id for c in homework} == set(layout.autograded)
    assert {c.module for c in everything} - {c.module for c in homework} == {"test_lab4"}
    with pytest.raises(ValueError, match="no such autograded cell"):
        check_points(everything, layout)


def test_are_the_thresholds_the_shipped_reference_accuracies(repo):
    """Is each checkpoint's reference accuracy in grader/thresholds.toml the accuracy its
    shipped reference checkpoint's row measured on the whole test split (both written by
    ship_reproduction.py), and does grader/README.md's table show them?"""
    import tomllib

    from edu.experiments import REFERENCE_FOLDER, reference_manifest

    thresholds = tomllib.loads((repo / "grader" / "thresholds.toml").read_text())
    shipped = reference_manifest(repo / REFERENCE_FOLDER)["checkpoints"]
    assert thresholds["accuracy"]["reference"] == {
        name: record["test_accuracy"] for name, record in shipped.items()
    }
    assert {record["test_images"] for record in shipped.values()} == {10_000}
    margin = thresholds["accuracy"]["margin"]
    table = {
        name: (float(reference), float(threshold))
        for name, reference, threshold in re.findall(
            r"^\| `(\w+)` \| [^|]+ \| ([0-9.]+) \| ([0-9.]+) \|$",
            (repo / "grader" / "README.md").read_text(),
            re.MULTILINE,
        )
    }
    assert table == {
        name: (value, round(value - margin, 4))
        for name, value in thresholds["accuracy"]["reference"].items()
    }


def test_does_the_reference_solution_pass_every_check(reference_results):
    """Do the instructor's solutions pass all checks of functions and answers?"""
    function_checks = {
        name: r
        for name, r in reference_results.items()
        if "lab2_finetune_70" not in name and "global_iterative" not in name and "qat" not in name
    }
    failed = {name: r.message for name, r in function_checks.items() if not r.passed}
    assert failed == {}


def test_are_missing_checkpoints_failed_with_their_name(reference_results):
    """Without checkpoint files, do their checks fail saying which file is missing?"""
    result = reference_results["test_lab2_finetune_70_loads"]
    assert result.kind == "failed"
    assert "lab2_finetune_70.pt is not in the submission" in result.message


def test_do_wrong_implementations_fail_the_right_checks(wrong_results):
    """Does each wrong function fail exactly its checks, with an informative message?"""
    failed = {
        name: r.message
        for name, r in wrong_results.items()
        if not r.passed and "_70" not in name and "qat" not in name
    }
    assert sorted(failed) == sorted(EXPECTED_FAILURES)
    for name, fragment in EXPECTED_FAILURES.items():
        assert fragment in failed[name], (name, failed[name])


def test_do_messages_say_expected_and_got(wrong_results):
    """Does a failed comparison name the input, the expected and the returned values?"""
    message = wrong_results["test_gradient_on_random_problems"].message
    assert "gradient(X, y, w) with X = [" in message
    assert "expected [" in message and "got [" in message


def test_does_patching_numpy_in_the_sandbox_not_help(wrong_results):
    """A cell patched numpy.allclose in the sandbox: is the wrong soft_threshold still caught?"""
    assert wrong_results["test_soft_threshold_on_random_vectors"].kind == "failed"


def test_do_correct_functions_next_to_wrong_ones_pass(wrong_results):
    """Are functions that were not changed still given their points?"""
    assert wrong_results["test_l1_subgradient_on_random_vectors"].passed
    assert wrong_results["test_finetune_without_mask_matches_the_reference"].passed
    assert wrong_results["test_answer_1_3"].passed


def test_does_each_checks_folder_use_its_own_helpers(tmp_path):
    """Do two checks folders with their own _common.py, collected in one process, each
    see their own helper (not the one cached from the first folder)?"""
    values = []
    for value in (1, 2):
        folder = tmp_path / f"course{value}"
        folder.mkdir()
        (folder / "_common.py").write_text(f"VALUE = {value}\n")
        (folder / "test_value.py").write_text(
            "from _common import VALUE\n"
            "from edu.grading import check\n\n"
            "@check('test_value', points=1)\n"
            "def test_value():\n"
            "    return VALUE\n"
        )
        (item,) = collect_checks(folder)
        values.append(item.function())
    assert values == [1, 2]


def test_is_the_finetune_reference_the_sandboxs_whatever_the_graders_threads(repo):
    """Is Lab 2's reference epoch, against which a submission's finetune is compared, the
    same bit for bit whether the grading process has one torch thread or two (the sandbox
    has one; on some CPUs two threads end 1e-4 away, beyond the check's tolerance)?"""
    import importlib
    import sys

    import torch

    sys.path.insert(0, str(repo / "grader"))
    try:
        lab2 = importlib.import_module("test_lab2")
    finally:
        sys.path.remove(str(repo / "grader"))
    threads = torch.get_num_threads()
    states = []
    try:
        for count in (1, 2):
            torch.set_num_threads(count)
            _, expected, _, _ = lab2._finetune_case.__wrapped__(True, lab2.SEED + 21)
            states.append(expected.state_dict())
            assert torch.get_num_threads() == count  # given back after the reference
    finally:
        torch.set_num_threads(threads)
    for key, value in states[0].items():
        assert torch.equal(value, states[1][key]), key
