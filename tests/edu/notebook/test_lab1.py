"""Does run_lab1_part run Lab 1 on the functions it is given, exactly as edu.sparse does?"""

from __future__ import annotations

import numpy as np
import pytest

import edu.sparse
from edu.notebook import LAB1_HOMEWORK_PARTS, run_lab1_part

REFERENCE = {
    "gradient": edu.sparse.gradient,
    "hard_threshold": edu.sparse.hard_threshold,
    "l1_subgradient": edu.sparse.l1_subgradient,
    "soft_threshold": edu.sparse.soft_threshold,
    "trimmed_soft_threshold": edu.sparse.trimmed_soft_threshold,
}
NEEDS = {
    "b": ["gradient"],
    "c": ["gradient", "hard_threshold"],
    "d": ["gradient", "l1_subgradient"],
    "e": ["gradient", "soft_threshold"],
    "f": ["gradient", "trimmed_soft_threshold"],
}


def test_parts_are_those_of_the_homework():
    """Are exactly parts (b) to (f) run, not the extras beyond the homework?"""
    assert LAB1_HOMEWORK_PARTS == ("b", "c", "d", "e", "f")


@pytest.mark.parametrize("name", LAB1_HOMEWORK_PARTS)
def test_reproduces_edu_sparse_exactly(name):
    """Given the reference functions, are the runs those of edu.sparse.run_part (iterates
    and losses bit for bit)?"""
    part = next(p for p in edu.sparse.LAB1_PARTS if p.name == name)
    expected = edu.sparse.run_part(part)
    got = run_lab1_part(name, **{f: REFERENCE[f] for f in NEEDS[name]})
    assert len(got) == len(expected) == len(part.lams)
    for a, b in zip(got, expected, strict=True):
        assert (a.method, a.lam, a.lr, a.k, a.groups) == (b.method, b.lam, b.lr, b.k, b.groups)
        np.testing.assert_array_equal(a.weights, b.weights)
        np.testing.assert_array_equal(a.losses, b.losses)
        np.testing.assert_allclose(a.penalized_losses, b.penalized_losses, rtol=1e-12)
        assert not a.weights.flags.writeable


def test_calls_only_the_functions_given():
    """Does part (f) call the given functions once per step and run (4 runs x 200 steps)?"""
    calls = {"gradient": 0, "trimmed_soft_threshold": 0}

    def gradient(X, y, w):
        calls["gradient"] += 1
        return edu.sparse.gradient(X, y, w)

    def trimmed(v, threshold, num_free):
        calls["trimmed_soft_threshold"] += 1
        assert num_free == 2
        return edu.sparse.trimmed_soft_threshold(v, threshold, num_free)

    results = run_lab1_part("f", gradient=gradient, trimmed_soft_threshold=trimmed, steps=200)
    assert calls == {"gradient": 800, "trimmed_soft_threshold": 800}
    assert [r.threshold for r in results] == pytest.approx([0.02, 0.04, 0.1, 0.2])


def test_a_wrong_function_changes_the_run():
    """Does a wrong gradient (missing the factor 2) give a different trajectory?"""
    wrong = run_lab1_part("b", gradient=lambda X, y, w: X.T @ (X @ w - y))[0]
    right = run_lab1_part("b", gradient=edu.sparse.gradient)[0]
    assert not np.allclose(wrong.weights[1], right.weights[1])


def test_missing_function_is_named():
    """Is a part run without the function it needs refused, naming that function?"""
    with pytest.raises(TypeError, match="part \\(e\\) needs soft_threshold="):
        run_lab1_part("e", gradient=edu.sparse.gradient)


@pytest.mark.parametrize("name", ["a", "g", "extra-fista"])
def test_unknown_part(name):
    """Is a part outside (b)-(f) refused with the list of parts?"""
    with pytest.raises(ValueError, match="choose one of b, c, d, e, f"):
        run_lab1_part(name, gradient=edu.sparse.gradient)


@pytest.mark.parametrize(
    ("result", "shape"), [(None, "None"), (np.zeros(4), r"\(4,\)"), (np.zeros((5, 1)), r"\(5, 1\)")]
)
def test_bad_return_value_names_the_function(result, shape):
    """Does a function returning no vector of 5 numbers get a clear error naming it?"""
    with pytest.raises(ValueError, match=f"hard_threshold returned .* of shape {shape}"):
        run_lab1_part("c", gradient=edu.sparse.gradient, hard_threshold=lambda v, k: result)


def test_input_changed_in_place_does_not_corrupt_the_history():
    """If a function changes its argument in place, are the stored iterates still right?"""

    def in_place(v, threshold):
        v -= np.sign(v) * np.minimum(np.abs(v), threshold)
        return v

    got = run_lab1_part("e", gradient=edu.sparse.gradient, soft_threshold=in_place)
    expected = run_lab1_part(
        "e", gradient=edu.sparse.gradient, soft_threshold=edu.sparse.soft_threshold
    )
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_allclose(a.weights, b.weights, atol=1e-12)


def test_runs_without_the_references_and_their_helpers(monkeypatch):
    """With edu's taught functions and their helpers refusing to run (as in the grader's
    sandbox), do all parts still run on a student's own functions?"""

    def refuse(*args, **kwargs):
        raise RuntimeError("refused")

    for module in (edu.sparse._prox, edu.sparse._penalties, edu.sparse._problem):
        for name in [*REFERENCE, "_largest_magnitudes"]:
            if hasattr(module, name):
                monkeypatch.setattr(module, name, refuse)

    def top(v, k):
        return np.argsort(-np.abs(v), kind="stable")[:k]

    def hard(v, k):
        out = np.zeros_like(v)
        out[top(v, k)] = v[top(v, k)]
        return out

    def soft(v, t):
        return np.sign(v) * np.maximum(np.abs(v) - t, 0.0)

    def trimmed(v, t, num_free):
        out = soft(v, t)
        out[top(v, num_free)] = v[top(v, num_free)]
        return out

    functions = {
        "gradient": lambda X, y, w: 2 * X.T @ (X @ w - y),
        "hard_threshold": hard,
        "l1_subgradient": np.sign,
        "soft_threshold": soft,
        "trimmed_soft_threshold": trimmed,
    }
    final = {
        name: run_lab1_part(name, **{f: functions[f] for f in NEEDS[name]})[-1].nonzeros
        for name in LAB1_HOMEWORK_PARTS
    }
    assert final == {"b": 5, "c": 2, "d": 5, "e": 2, "f": 2}
