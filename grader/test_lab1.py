"""Hidden checks of Lab 1: the five functions of sparse optimization (4 points each).

Every function is run in the sandbox on inputs drawn here with fixed seeds (the same
for every student) and compared with the reference in :mod:`edu.sparse`, in the
grader's process. Inputs span shapes, scales and edge cases (k = 0, k = n, zero
entries, threshold 0) and are checked to be left unchanged.
"""

import numpy as np

from edu import sparse as reference
from edu.grading import CheckFailed, check, expect_close

SEED = 20_241_001


def _expect_arguments_unchanged(lab1, function: str, inputs: dict, *extra) -> None:
    """Call ``function(*inputs, *extra)``; fail if its result is wrong or it modified one of
    the arrays ``inputs`` (a function that returns nothing useful leaves them alone too)."""
    got, after = lab1.call_and_arguments(function, *inputs.values(), *extra)
    call = f"{function}({', '.join([*inputs, *map(repr, extra)])})"
    for (name, value), now in zip(inputs.items(), after, strict=False):
        if isinstance(value, np.ndarray) and not np.array_equal(value, now):
            raise CheckFailed(f"{call} changed its argument {name} (it must return a new array)")
    expected = getattr(reference, function)(*(np.copy(v) for v in inputs.values()), *extra)
    expect_close(got, expected, call, inputs)


# -- gradient -------------------------------------------------------------------------


@check("test_gradient", points=2)
def test_gradient_on_random_problems(lab1_sparse_regression):
    """gradient(X, y, w) = 2 X^T (X w - y) on random problems of many shapes."""
    rng = np.random.default_rng(SEED)
    for n, d in [(1, 1), (3, 5), (7, 2), (4, 9), (12, 6)]:
        X, y, w = rng.normal(size=(n, d)), rng.normal(size=n), rng.normal(size=d)
        got = lab1_sparse_regression.call("gradient", X, y, w)
        expect_close(
            got, reference.gradient(X, y, w), "gradient(X, y, w)", {"X": X, "y": y, "w": w}
        )


@check("test_gradient", points=1)
def test_gradient_on_the_homework_data(lab1_sparse_regression):
    """gradient on the homework's X and y, at W = 0 and at a random W."""
    X, y = reference.homework_data()
    for w in (np.zeros(5), np.random.default_rng(SEED + 1).normal(size=5)):
        got = lab1_sparse_regression.call("gradient", X, y, w)
        expect_close(
            got, reference.gradient(X, y, w), "gradient(X, y, w) on the homework data", {"w": w}
        )


@check("test_gradient", points=1)
def test_gradient_leaves_its_inputs_unchanged(lab1_sparse_regression):
    """gradient returns the right array and does not modify X, y or w."""
    rng = np.random.default_rng(SEED + 2)
    inputs = {"X": rng.normal(size=(3, 5)), "y": rng.normal(size=3), "w": rng.normal(size=5)}
    _expect_arguments_unchanged(lab1_sparse_regression, "gradient", inputs)


# -- hard_threshold ---------------------------------------------------------------------


@check("test_hard_threshold", points=2)
def test_hard_threshold_on_random_vectors(lab1_sparse_regression):
    """hard_threshold(v, k) keeps the k largest |v_i| on random vectors and k."""
    rng = np.random.default_rng(SEED + 10)
    for _ in range(12):
        n = int(rng.integers(2, 20))
        k = int(rng.integers(1, n))
        v = rng.normal(size=n) * rng.choice([0.01, 1.0, 100.0])
        got = lab1_sparse_regression.call("hard_threshold", v, k)
        expect_close(got, reference.hard_threshold(v, k), f"hard_threshold(v, k={k})", {"v": v})


@check("test_hard_threshold", points=1)
def test_hard_threshold_edge_cases(lab1_sparse_regression):
    """k = 0 gives zeros, k = n keeps v, and the largest magnitude may be negative."""
    v = np.array([0.5, -3.0, 1.0, 2.0, -0.1])
    for k in (0, 5, 1):
        got = lab1_sparse_regression.call("hard_threshold", v, k)
        expect_close(got, reference.hard_threshold(v, k), f"hard_threshold(v, k={k})", {"v": v})


@check("test_hard_threshold", points=1)
def test_hard_threshold_leaves_v_unchanged(lab1_sparse_regression):
    """hard_threshold returns the right new array and does not modify v."""
    v = np.random.default_rng(SEED + 11).normal(size=8)
    _expect_arguments_unchanged(lab1_sparse_regression, "hard_threshold", {"v": v}, 3)


# -- l1_subgradient ---------------------------------------------------------------------


@check("test_l1_subgradient", points=2)
def test_l1_subgradient_on_random_vectors(lab1_sparse_regression):
    """l1_subgradient(w) = sign(w) on random vectors of many scales."""
    rng = np.random.default_rng(SEED + 20)
    for scale in (1e-6, 1.0, 1e3):
        w = rng.normal(size=int(rng.integers(1, 20))) * scale
        got = lab1_sparse_regression.call("l1_subgradient", w)
        expect_close(got, reference.l1_subgradient(w), "l1_subgradient(w)", {"w": w})


@check("test_l1_subgradient", points=2)
def test_l1_subgradient_is_zero_at_zero(lab1_sparse_regression):
    """The subgradient chosen where w_i = 0 is 0."""
    w = np.array([0.0, 2.5, 0.0, -1e-3, 0.0])
    got = lab1_sparse_regression.call("l1_subgradient", w)
    expect_close(got, reference.l1_subgradient(w), "l1_subgradient(w)", {"w": w})


# -- soft_threshold ---------------------------------------------------------------------


@check("test_soft_threshold", points=2)
def test_soft_threshold_on_random_vectors(lab1_sparse_regression):
    """soft_threshold(v, t) = sign(v) max(|v| - t, 0) on random vectors and thresholds."""
    rng = np.random.default_rng(SEED + 30)
    for t in (1e-3, 0.1, 1.0, 10.0):
        v = rng.normal(size=int(rng.integers(1, 20))) * rng.choice([0.1, 1.0, 100.0])
        got = lab1_sparse_regression.call("soft_threshold", v, t)
        expect_close(
            got, reference.soft_threshold(v, t), f"soft_threshold(v, threshold={t})", {"v": v}
        )


@check("test_soft_threshold", points=1)
def test_soft_threshold_edge_cases(lab1_sparse_regression):
    """Threshold 0 leaves v unchanged; a threshold above every |v_i| gives zeros."""
    v = np.array([3.0, -0.5, 0.2, -2.0, 0.0])
    for t in (0.0, 5.0):
        got = lab1_sparse_regression.call("soft_threshold", v, t)
        expect_close(
            got, reference.soft_threshold(v, t), f"soft_threshold(v, threshold={t})", {"v": v}
        )


@check("test_soft_threshold", points=1)
def test_soft_threshold_leaves_v_unchanged(lab1_sparse_regression):
    """soft_threshold returns the right new array and does not modify v."""
    v = np.random.default_rng(SEED + 31).normal(size=8)
    _expect_arguments_unchanged(lab1_sparse_regression, "soft_threshold", {"v": v}, 0.3)


# -- trimmed_soft_threshold -------------------------------------------------------------


@check("test_trimmed_soft_threshold", points=2)
def test_trimmed_soft_threshold_on_random_vectors(lab1_sparse_regression):
    """The num_free largest |v_i| are kept, the others soft-thresholded (random inputs)."""
    rng = np.random.default_rng(SEED + 40)
    for _ in range(10):
        n = int(rng.integers(2, 20))
        free = int(rng.integers(1, n))
        t = float(rng.choice([1e-3, 0.1, 1.0]))
        v = rng.normal(size=n) * rng.choice([0.1, 1.0, 100.0])
        got = lab1_sparse_regression.call("trimmed_soft_threshold", v, t, free)
        expected = reference.trimmed_soft_threshold(v, t, free)
        expect_close(
            got, expected, f"trimmed_soft_threshold(v, threshold={t}, num_free={free})", {"v": v}
        )


@check("test_trimmed_soft_threshold", points=1)
def test_trimmed_soft_threshold_chooses_by_magnitude(lab1_sparse_regression):
    """The free entries are those of largest |v| (a large negative entry is free)."""
    v = np.array([-5.0, 1.0, 2.0, -0.5, 3.0])
    got = lab1_sparse_regression.call("trimmed_soft_threshold", v, 0.4, 2)
    expected = reference.trimmed_soft_threshold(v, 0.4, 2)
    expect_close(got, expected, "trimmed_soft_threshold(v, threshold=0.4, num_free=2)", {"v": v})


@check("test_trimmed_soft_threshold", points=1)
def test_trimmed_soft_threshold_limits(lab1_sparse_regression):
    """num_free = 0 is soft thresholding, num_free = n leaves v unchanged."""
    v = np.array([0.5, -3.0, 1.0, 2.0, -0.1])
    for free in (0, 5):
        got = lab1_sparse_regression.call("trimmed_soft_threshold", v, 0.3, free)
        expected = reference.trimmed_soft_threshold(v, 0.3, free)
        call = f"trimmed_soft_threshold(v, threshold=0.3, num_free={free})"
        expect_close(got, expected, call, {"v": v})
