"""Tests of the Lab 1 solvers against scikit-learn, optimality conditions and brute force."""

import dataclasses
import itertools

import numpy as np
import pytest

from edu.sparse import METHODS, gradient, hard_threshold, homework_data, run, soft_threshold

LAMS = (0.2, 0.5, 1.0, 2.0)


def _lasso_reference(lam):
    """scikit-learn's lasso for sum-of-squares + lam ||w||_1: alpha = lam / (2 n)."""
    Lasso = pytest.importorskip("sklearn.linear_model").Lasso
    X, y = homework_data()
    model = Lasso(alpha=lam / (2 * len(y)), fit_intercept=False, tol=1e-14, max_iter=1_000_000)
    return model.fit(X, y).coef_


def _sum_of_squares(weights):
    X, y = homework_data()
    return ((weights @ X.T - y) ** 2).sum(axis=1)


# --- bookkeeping -------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_every_method_records_L_of_every_stored_iterate(method):
    """Do shapes, W_0 = 0 and losses[k] = sum_i (X_i W_k - y_i)^2 hold for every method?"""
    lam = None if method in ("gd", "projected") else 1.0
    result = run(method, lam=lam, steps=50)
    assert result.weights.shape == (51, 5) and result.losses.shape == (51,)
    np.testing.assert_array_equal(result.weights[0], 0.0)
    assert result.losses[0] == 27.0
    np.testing.assert_allclose(
        result.losses, _sum_of_squares(result.weights), rtol=1e-9, atol=1e-15
    )
    assert result.final_loss == result.losses[-1]
    np.testing.assert_array_equal(result.final_weights, result.weights[-1])
    assert result.nonzeros == np.count_nonzero(result.weights[-1])
    assert result.steps == 50


def test_penalised_objective_adds_the_penalty():
    """Is penalized_losses = L + lam ||W||_1 for ISTA, and = L for plain GD?"""
    result = run("prox", lam=0.5, steps=20)
    expected = result.losses + 0.5 * np.abs(result.weights).sum(axis=1)
    np.testing.assert_allclose(result.penalized_losses, expected, rtol=1e-12)
    gd = run("gd", steps=20)
    np.testing.assert_array_equal(gd.penalized_losses, gd.losses)


def test_result_is_frozen_and_read_only():
    """Can neither the result's fields nor its arrays be changed after the run?"""
    result = run("gd", steps=3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.method = "prox"
    with pytest.raises(ValueError, match="read-only"):
        result.weights[0, 0] = 1.0


# --- ISTA, FISTA: the lasso optimum ------------------------------------------------------


@pytest.mark.parametrize("method", ["prox", "fista"])
@pytest.mark.parametrize("lam", LAMS)
def test_proximal_gradient_reaches_the_sklearn_lasso_solution(method, lam):
    """After 20000 steps, do ISTA and FISTA match scikit-learn's Lasso to 1e-8?"""
    result = run(method, lam=lam, steps=20_000)
    np.testing.assert_allclose(result.final_weights, _lasso_reference(lam), atol=1e-8)


@pytest.mark.parametrize("lam", LAMS)
def test_ista_solution_satisfies_the_lasso_kkt_conditions(lam):
    """Is grad L + lam sign(w) = 0 on the support and |grad L| <= lam off it (to 1e-8)?"""
    X, y = homework_data()
    w = run("prox", lam=lam, steps=20_000).final_weights
    g = gradient(X, y, w)
    support = w != 0
    assert support.any() and not support.all()  # a genuinely sparse solution
    np.testing.assert_allclose(g[support] + lam * np.sign(w[support]), 0.0, atol=1e-8)
    assert np.all(np.abs(g[~support]) <= lam + 1e-8)


@pytest.mark.parametrize("lam", LAMS)
def test_ista_decreases_the_penalised_objective_monotonically(lam):
    """With lr = 0.02 < 1/Lip, does ISTA never increase L + lam ||W||_1 (to 1e-12)?"""
    result = run("prox", lam=lam, steps=500)
    assert np.all(np.diff(result.penalized_losses) <= 1e-12)


@pytest.mark.parametrize("lam", [0.2, 0.5, 1.0])
def test_fista_reaches_a_given_accuracy_in_fewer_steps_than_ista(lam):
    """Does FISTA get within 1e-9 of the lasso optimum in fewer steps than ISTA?"""
    optimum = run("prox", lam=lam, steps=20_000).penalized_losses[-1]

    def steps_to_accuracy(method):
        gap = run(method, lam=lam, steps=2000).penalized_losses - optimum
        assert gap.min() < 1e-9
        return int(np.argmax(gap < 1e-9))

    assert steps_to_accuracy("fista") < steps_to_accuracy("prox")


# --- L1 by subgradient versus the proximal step (Part 0, statement 1.1) ------------------


def _fista_as_beck_and_teboulle_write_it(lam, steps, lr=0.02):
    """FISTA in the paper's indexing: y_1 = x_0, t_1 = 1, x_k = p_L(y_k), k >= 1."""
    X, y = homework_data()
    x_prev = np.zeros(5)
    y_k, t_k = x_prev, 1.0
    iterates = [x_prev]
    for _ in range(steps):
        x_k = soft_threshold(y_k - lr * gradient(X, y, y_k), lr * lam)
        t_next = (1 + np.sqrt(1 + 4 * t_k**2)) / 2
        y_k = x_k + (t_k - 1) / t_next * (x_k - x_prev)
        x_prev, t_k = x_k, t_next
        iterates.append(x_k)
    return np.array(iterates)


@pytest.mark.parametrize("lam", LAMS)
def test_fista_first_steps_are_ista_and_all_iterates_match_the_paper(lam):
    """Is FISTA's first momentum coefficient 0 (two steps equal to ISTA's), then Beck-Teboulle?"""
    fista, ista = run("fista", lam=lam), run("prox", lam=lam, steps=2)
    np.testing.assert_array_equal(fista.weights[:3], ista.weights)
    np.testing.assert_allclose(
        fista.weights, _fista_as_beck_and_teboulle_write_it(lam, 200), rtol=0, atol=1e-12
    )
    assert not np.allclose(fista.weights[3], run("prox", lam=lam, steps=3).weights[3])


@pytest.mark.parametrize("lam", LAMS)
def test_l1_subgradient_oscillates_and_never_reaches_exact_zeros(lam):
    """Do the subgradient iterates stay fully dense and flip signs around 0 (Part 0, 1.1)?"""
    weights = run("l1", lam=lam, steps=200).weights
    assert np.all(np.count_nonzero(weights[1:], axis=1) == 5)
    late_signs = np.sign(weights[-50:])
    assert np.any(late_signs.min(axis=0) != late_signs.max(axis=0))  # some entry flips


@pytest.mark.parametrize("lam", LAMS)
def test_prox_reaches_exact_zeros_that_stay_zero(lam):
    """Does ISTA produce exact zeros that stay exactly zero over the last 50 steps?"""
    weights = run("prox", lam=lam, steps=200).weights
    zero_at_end = weights[-1] == 0
    assert zero_at_end.any()
    assert np.all(weights[-50:, zero_at_end] == 0)


# --- projected GD and trimmed L1: the prior ||W||_0 <= 2 ---------------------------------


def _least_squares_on_support(support):
    X, y = homework_data()
    w = np.zeros(5)
    w[support] = np.linalg.lstsq(X[:, support], y, rcond=None)[0]
    return w


def test_projected_gd_is_two_sparse_at_every_step():
    """Does projected GD keep ||W_k||_0 <= 2 at every step, each step a top-2 projection?"""
    X, y = homework_data()
    result = run("projected", k=2, steps=200)
    assert np.all(np.count_nonzero(result.weights, axis=1) <= 2)
    for w, w_next in itertools.pairwise(result.weights):
        v = w - 0.02 * gradient(X, y, w)
        top2 = np.argsort(np.abs(v))[-2:]
        expected = np.zeros(5)
        expected[top2] = v[top2]
        np.testing.assert_array_equal(w_next, expected)


def test_projected_gd_converges_to_least_squares_on_its_support():
    """Is the projected-GD limit the least-squares fit restricted to its 2 entries (1e-10)?"""
    w = run("projected", k=2, steps=200).final_weights
    support = np.flatnonzero(w)
    assert support.size == 2
    np.testing.assert_allclose(w, _least_squares_on_support(support), atol=1e-10)


@pytest.mark.parametrize("lam", [5.0, 10.0])
def test_trimmed_l1_with_large_lambda_converges_to_a_two_sparse_least_squares_fit(lam):
    """With lam large, is trimmed L1's limit 2-sparse and least squares on that support?"""
    w = run("trimmed", lam=lam, k=2, steps=2000).final_weights
    support = np.flatnonzero(w)
    assert support.size == 2
    np.testing.assert_allclose(w, _least_squares_on_support(support), atol=1e-10)


def test_trimmed_l1_chooses_the_free_entries_by_w_after_the_step_not_by_the_gradient():
    """At every step, are the 2 free entries the largest |W - lr grad L(W)|, not |grad L|?"""
    X, y = homework_data()
    lr, lam = 0.02, 2.0
    weights = run("trimmed", lam=lam, k=2, steps=100).weights
    differs = 0
    for w, w_next in itertools.pairwise(weights):
        g = gradient(X, y, w)
        v = w - lr * g
        free = np.argsort(np.abs(v))[-2:]
        rest = np.setdiff1d(np.arange(5), free)
        np.testing.assert_array_equal(w_next[free], v[free])
        shrunk = np.sign(v[rest]) * np.maximum(np.abs(v[rest]) - lr * lam, 0.0)
        np.testing.assert_allclose(w_next[rest], shrunk, atol=1e-15)
        differs += set(free) != set(np.argsort(np.abs(g))[-2:])
    assert differs > 0  # the test tells the two rules apart


def test_trimmed_l1_with_no_free_entry_is_ista():
    """With k = 0 free entries, is trimmed L1 exactly ISTA?"""
    trimmed = run("trimmed", lam=1.0, k=0, steps=100)
    np.testing.assert_array_equal(trimmed.weights, run("prox", lam=1.0, steps=100).weights)


def test_projected_with_k_equal_n_is_gd():
    """Does projecting onto ||W||_0 <= 5 leave gradient descent unchanged?"""
    np.testing.assert_array_equal(
        run("projected", k=5, steps=50).weights, run("gd", steps=50).weights
    )


def test_hard_threshold_is_what_projected_applies():
    """Is one projected step hard_threshold of one gradient step from W_0 = 0?"""
    gd_step = run("gd", steps=1).weights[1]
    np.testing.assert_array_equal(run("projected", steps=1).weights[1], hard_threshold(gd_step, 2))


# --- group lasso (beyond the homework) ---------------------------------------------------


@pytest.mark.parametrize("lam", [1.0, 2.0, 5.0, 10.0])
def test_group_lasso_solution_satisfies_its_kkt_conditions(lam):
    """Is grad_g L + lam w_g/||w_g|| = 0 on kept groups and ||grad_g L|| <= lam on zeroed ones?"""
    X, y = homework_data()
    result = run("group", lam=lam, steps=20_000)
    w, g = result.final_weights, gradient(X, y, result.final_weights)
    for group in map(list, result.groups):
        norm = np.linalg.norm(w[group])
        if norm > 0:
            np.testing.assert_allclose(g[group] + lam * w[group] / norm, 0.0, atol=1e-7)
        else:
            assert np.linalg.norm(g[group]) <= lam + 1e-7


def test_group_lasso_uses_the_documented_default_groups_and_accepts_others():
    """Are the default groups {w1,w2},{w3,w4},{w5}, and do singleton groups give ISTA?"""
    assert run("group", lam=1.0, steps=1).groups == ((0, 1), (2, 3), (4,))
    singletons = run("group", lam=1.0, steps=100, groups=[[i] for i in range(5)])
    np.testing.assert_allclose(singletons.weights, run("prox", lam=1.0, steps=100).weights)


# --- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "sgd"}, "unknown method 'sgd'; choose one of gd, projected, l1"),
        ({"method": "prox"}, "method 'prox' needs lam"),
        ({"method": "l1"}, "method 'l1' needs lam"),
        ({"method": "gd", "lam": 1.0}, "method 'gd' has no penalty and takes no lam"),
        ({"method": "projected", "lam": 1.0}, "'projected' has no penalty"),
        ({"method": "prox", "lam": -1.0}, "lam must be a number >= 0"),
        ({"method": "gd", "steps": 0}, "steps must be a positive integer"),
        ({"method": "gd", "steps": 2.5}, "steps must be a positive integer"),
        ({"method": "gd", "lr": 0.0}, "lr must be a positive finite number"),
        ({"method": "gd", "lr": -0.1}, "lr must be a positive finite number"),
        ({"method": "prox", "lam": 1.0, "groups": [(0,)]}, "groups is only used by method"),
        ({"method": "projected", "k": 6}, r"k must be an integer in \[0, 5\]"),
        ({"method": "group", "lam": 1.0, "groups": [(0, 1)]}, "partition"),
        ({"method": "gd", "X": np.eye(3)}, "give both X and y, or neither"),
        ({"method": "gd", "X": np.eye(3), "y": np.ones(2)}, "X must have shape"),
    ],
)
def test_bad_arguments_raise_a_clear_value_error(kwargs, message):
    """Does each documented misuse raise a ValueError that names the problem?"""
    method = kwargs.pop("method")
    with pytest.raises(ValueError, match=message):
        run(method, **kwargs)


def test_custom_data_are_used():
    """With X = I and y given, does GD converge to y itself?"""
    result = run("gd", steps=500, lr=0.1, X=np.eye(3), y=np.array([1.0, -2.0, 0.5]))
    np.testing.assert_allclose(result.final_weights, [1.0, -2.0, 0.5], atol=1e-12)
