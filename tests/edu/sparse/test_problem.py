"""Tests of the Lab 1 problem: the data, the objective and its gradient."""

import numpy as np
import pytest

from edu.sparse import gradient, homework_data, objective, run


def test_homework_data_is_the_table_of_the_statement():
    """Are X and y the table of the course spec, with -2 where the source report had -1?"""
    X, y = homework_data()
    np.testing.assert_array_equal(
        X,
        [
            [-1, 2, 1, 1, -1],
            [-2, 1, -2, 0, 2],
            [1, 0, -2, -2, -1],
        ],
    )
    np.testing.assert_array_equal(y, [5, 1, 1])
    assert X.dtype == y.dtype == np.float64


def test_homework_data_returns_fresh_arrays():
    """Can a caller modify the data without changing the next call's result?"""
    X, y = homework_data()
    X[:] = 0.0
    y[:] = 0.0
    X2, y2 = homework_data()
    assert X2[0, 0] == -1.0 and y2[0] == 5.0


def test_objective_is_a_sum_of_squares_not_a_mean():
    """Is L(w) the plain sum over the three points of (X_i w - y_i)^2?"""
    X, y = homework_data()
    rng = np.random.default_rng(0)
    for _ in range(5):
        w = rng.normal(size=5)
        by_hand = sum((float(X[i] @ w) - y[i]) ** 2 for i in range(3))
        assert objective(X, y, w) == pytest.approx(by_hand, rel=1e-12)
    assert objective(X, y, np.zeros(5)) == 5.0**2 + 1.0**2 + 1.0**2


def test_gradient_matches_central_finite_differences():
    """Does gradient() agree with central differences of objective() to 1e-6 (relative)?"""
    X, y = homework_data()
    rng = np.random.default_rng(1)
    eps = 1e-6
    for _ in range(5):
        w = rng.normal(size=5)
        numeric = np.array(
            [
                (objective(X, y, w + eps * e) - objective(X, y, w - eps * e)) / (2 * eps)
                for e in np.eye(5)
            ]
        )
        np.testing.assert_allclose(gradient(X, y, w), numeric, rtol=1e-6, atol=1e-6)


def test_first_gd_step_is_the_update_of_part_a():
    """Is W_1 = W_0 - 2 mu sum_i X_i^T (X_i W_0 - y_i) with W_0 = 0, mu = 0.02 (Lab 1(a))?"""
    X, y = homework_data()
    mu = 0.02
    expected = -2 * mu * sum(X[i] * (X[i] @ np.zeros(5) - y[i]) for i in range(3))
    np.testing.assert_allclose(run("gd", steps=1, lr=mu).weights[1], expected, rtol=1e-14)


def test_gd_from_zero_converges_to_the_minimum_norm_solution():
    """Does GD from 0 reach pinv(X) y, the minimum-norm least-squares solution (to 1e-10)?"""
    X, y = homework_data()
    result = run("gd", steps=200)
    np.testing.assert_allclose(result.final_weights, np.linalg.pinv(X) @ y, atol=1e-10)
    assert result.final_loss < 1e-20
    assert result.nonzeros == 5  # not sparse
