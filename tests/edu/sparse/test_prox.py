"""Tests of the proximal operators against their optimality conditions and brute force."""

import itertools

import numpy as np
import pytest

from edu.sparse import (
    group_soft_threshold,
    hard_threshold,
    soft_threshold,
    trimmed_soft_threshold,
)

RNG_SEEDS = range(20)


def _prox_l1_objective(x, v, t):
    return 0.5 * np.sum((x - v) ** 2) + t * np.sum(np.abs(x))


def _prox_group_objective(x, v, t, groups):
    return 0.5 * np.sum((x - v) ** 2) + t * sum(np.linalg.norm(x[list(g)]) for g in groups)


# --- soft thresholding -------------------------------------------------------------------


@pytest.mark.parametrize("seed", RNG_SEEDS)
def test_soft_threshold_satisfies_the_prox_optimality_condition(seed):
    """Is 0 in x - v + t d||x||_1 at x = soft_threshold(v, t), to 1e-12?"""
    rng = np.random.default_rng(seed)
    v, t = rng.normal(size=8) * 2, rng.uniform(0.0, 2.0)
    x = soft_threshold(v, t)
    nonzero = x != 0
    np.testing.assert_allclose(
        (x - v + t * np.sign(x))[nonzero], 0.0, atol=1e-12
    )  # d|x_i| = {sign x_i}
    assert np.all(np.abs(v[~nonzero]) <= t + 1e-12)  # 0 in -v_i + t [-1, 1]


@pytest.mark.parametrize("seed", RNG_SEEDS)
def test_soft_threshold_beats_random_perturbations(seed):
    """Does soft_threshold minimise 0.5||x - v||^2 + t||x||_1 better than nearby points?"""
    rng = np.random.default_rng(seed)
    v, t = rng.normal(size=6) * 2, rng.uniform(0.0, 2.0)
    x = soft_threshold(v, t)
    best = _prox_l1_objective(x, v, t)
    for scale in (1e-4, 1e-2, 1.0):
        for _ in range(50):
            assert best <= _prox_l1_objective(x + scale * rng.normal(size=6), v, t) + 1e-12


def test_soft_threshold_edge_cases():
    """Is t = 0 the identity, and are |v| <= t zeroed exactly?"""
    v = np.array([-1.5, 0.0, 2.0])
    np.testing.assert_array_equal(soft_threshold(v, 0.0), v)
    np.testing.assert_array_equal(soft_threshold(v, 2.0), [0.0, 0.0, 0.0])
    assert soft_threshold(np.array([[3.0, -3.0]]), 1.0).shape == (1, 2)  # elementwise


@pytest.mark.parametrize("bad", [-0.1, float("nan")])
def test_soft_threshold_rejects_bad_thresholds(bad):
    """Does a negative or NaN threshold raise a ValueError that says so?"""
    with pytest.raises(ValueError, match="threshold must be a non-negative number"):
        soft_threshold(np.ones(3), bad)


# --- hard thresholding -------------------------------------------------------------------


@pytest.mark.parametrize("seed", RNG_SEEDS)
def test_hard_threshold_keeps_exactly_the_k_largest_magnitudes(seed):
    """Does hard_threshold keep the k largest |v_i| (sorted brute force) and zero the rest?"""
    rng = np.random.default_rng(seed)
    v = rng.normal(size=7)
    for k in range(8):
        x = hard_threshold(v, k)
        threshold = np.sort(np.abs(v))[::-1][k - 1] if k else np.inf
        expected = np.where(np.abs(v) >= threshold, v, 0.0)
        np.testing.assert_array_equal(x, expected)
        assert np.count_nonzero(x) == k


@pytest.mark.parametrize("seed", RNG_SEEDS)
def test_hard_threshold_is_the_projection_onto_the_l0_ball(seed):
    """Is hard_threshold(v, k) the closest point with ||x||_0 <= k (all supports tried)?"""
    rng = np.random.default_rng(seed)
    n = 6
    v = rng.normal(size=n)
    for k in range(n + 1):
        best = min(
            np.sum(np.delete(v, list(support)) ** 2)
            for support in itertools.combinations(range(n), k)
        )
        x = hard_threshold(v, k)
        assert np.sum((x - v) ** 2) == pytest.approx(best, abs=1e-14)
        assert np.count_nonzero(x) <= k


def test_hard_threshold_breaks_ties_toward_the_lower_index():
    """With equal magnitudes, are the entries of lower index kept (documented rule)?"""
    np.testing.assert_array_equal(
        hard_threshold(np.array([1.0, -1.0, 1.0, -1.0]), 2), [1, -1, 0, 0]
    )
    np.testing.assert_array_equal(hard_threshold(np.array([0.5, 2.0, -2.0]), 1), [0, 2, 0])


@pytest.mark.parametrize(
    ("v", "k", "message"),
    [
        (np.ones(5), 6, r"k must be an integer in \[0, 5\]"),
        (np.ones(5), -1, r"k must be an integer in \[0, 5\]"),
        (np.ones(5), 1.5, r"k must be an integer in \[0, 5\]"),
        (np.ones((2, 2)), 1, "v must be a 1-D array"),
    ],
)
def test_hard_threshold_rejects_bad_inputs(v, k, message):
    """Do a k out of range, a non-integer k and a 2-D v raise a clear ValueError?"""
    with pytest.raises(ValueError, match=message):
        hard_threshold(v, k)


# --- trimmed soft thresholding -----------------------------------------------------------


@pytest.mark.parametrize("seed", RNG_SEEDS)
def test_trimmed_soft_threshold_frees_the_largest_and_shrinks_the_rest(seed):
    """Are the num_free largest |v_i| untouched and the others soft-thresholded by hand?"""
    rng = np.random.default_rng(seed)
    v, t = rng.normal(size=6), rng.uniform(0.0, 1.0)
    for num_free in range(7):
        x = trimmed_soft_threshold(v, t, num_free)
        free = np.argsort(np.abs(v))[::-1][:num_free]
        penalised = np.setdiff1d(np.arange(6), free)
        np.testing.assert_array_equal(x[free], v[free])
        shrunk = [np.sign(a) * max(abs(a) - t, 0.0) for a in v[penalised]]
        np.testing.assert_allclose(x[penalised], shrunk, atol=1e-15)


def _trimmed_penalty(x, num_free):
    """Sum of the n - num_free smallest |x_i|, computed from a full sort."""
    return float(np.sort(np.abs(x))[: x.size - num_free].sum())


@pytest.mark.parametrize("seed", RNG_SEEDS)
def test_trimmed_soft_threshold_is_the_exact_prox_by_brute_force_over_free_sets(seed):
    """Does no free set give a lower prox objective, and do random points never beat it?

    The trimmed penalty is a minimum over free sets, so the prox is the best of one
    separable problem per free set (free entries kept, the others soft-thresholded);
    every free set of every size is tried, and the objective uses the true penalty.
    """
    rng = np.random.default_rng(seed)
    v, t = rng.normal(size=6) * 1.5, rng.uniform(0.05, 2.0)

    def prox_objective(x, num_free):
        return 0.5 * np.sum((x - v) ** 2) + t * _trimmed_penalty(x, num_free)

    for num_free in range(7):
        x = trimmed_soft_threshold(v, t, num_free)
        candidates = []
        for free in itertools.combinations(range(6), num_free):
            candidate = soft_threshold(v, t)
            candidate[list(free)] = v[list(free)]
            candidates.append(candidate)
        best = min(prox_objective(c, num_free) for c in candidates)
        assert prox_objective(x, num_free) == pytest.approx(best, abs=1e-12)
        for _ in range(200):
            other = x + rng.normal(size=6) * rng.choice([1e-3, 0.1, 1.0])
            assert prox_objective(other, num_free) >= prox_objective(x, num_free) - 1e-12


def test_trimmed_soft_threshold_selects_by_magnitude_not_by_signed_value():
    """Is a large negative entry free while a small positive one is penalised?"""
    v = np.array([-3.0, 0.1, 2.0, -0.2, 0.05])
    x = trimmed_soft_threshold(v, 0.5, num_free=2)
    np.testing.assert_array_equal(x, [-3.0, 0.0, 2.0, 0.0, 0.0])


def test_trimmed_soft_threshold_limits():
    """Is num_free = 0 plain soft thresholding and num_free = n the identity?"""
    v = np.array([0.3, -1.2, 0.7])
    np.testing.assert_array_equal(trimmed_soft_threshold(v, 0.5, 0), soft_threshold(v, 0.5))
    np.testing.assert_array_equal(trimmed_soft_threshold(v, 0.5, 3), v)
    with pytest.raises(ValueError, match=r"num_free must be an integer in \[0, 3\]"):
        trimmed_soft_threshold(v, 0.5, 4)
    with pytest.raises(ValueError, match="threshold must be a non-negative number"):
        trimmed_soft_threshold(v, -1.0, 1)


# --- group soft thresholding -------------------------------------------------------------

GROUPS = ((0, 1), (2, 3, 4), (5,))


@pytest.mark.parametrize("seed", RNG_SEEDS)
def test_group_soft_threshold_satisfies_the_block_optimality_condition(seed):
    """Is 0 in x_g - v_g + t d||x_g||_2 for every group (KKT of the group-lasso prox)?"""
    rng = np.random.default_rng(seed)
    v, t = rng.normal(size=6), rng.uniform(0.0, 2.0)
    x = group_soft_threshold(v, t, GROUPS)
    for group in map(list, GROUPS):
        norm = np.linalg.norm(x[group])
        if norm > 0:
            np.testing.assert_allclose(x[group] - v[group] + t * x[group] / norm, 0.0, atol=1e-12)
        else:  # subdifferential of ||.||_2 at 0 is the unit ball
            assert np.linalg.norm(v[group]) <= t + 1e-12


@pytest.mark.parametrize("seed", range(5))
def test_group_soft_threshold_matches_a_numerical_minimiser(seed):
    """Does it agree with scipy's minimiser of 0.5||x - v||^2 + t sum_g ||x_g|| (to 1e-4)?"""
    minimize = pytest.importorskip("scipy.optimize").minimize
    rng = np.random.default_rng(seed)
    v, t = rng.normal(size=6), 0.8
    x = group_soft_threshold(v, t, GROUPS)
    found = minimize(
        _prox_group_objective,
        x0=v,
        args=(v, t, GROUPS),
        method="Powell",
        options={"xtol": 1e-10, "ftol": 1e-14, "maxiter": 100_000},
    )
    assert _prox_group_objective(x, v, t, GROUPS) <= found.fun + 1e-12
    np.testing.assert_allclose(x, found.x, atol=1e-4)


def test_group_soft_threshold_zeroes_whole_groups_below_the_threshold():
    """Is a group with ||v_g|| <= t zeroed entirely, and a group above it only scaled?"""
    v = np.array([3.0, 4.0, 0.3, -0.4, 0.2, 2.0])
    x = group_soft_threshold(v, 1.0, GROUPS)
    np.testing.assert_array_equal(x[2:5], 0.0)
    np.testing.assert_allclose(x[:2], [3.0 * 0.8, 4.0 * 0.8])  # scale 1 - 1/5
    np.testing.assert_allclose(x[5], 1.0)


def test_singleton_groups_give_soft_thresholding():
    """With one group per entry, is the group prox the L1 prox?"""
    v = np.random.default_rng(3).normal(size=5)
    np.testing.assert_allclose(
        group_soft_threshold(v, 0.4, [(i,) for i in range(5)]), soft_threshold(v, 0.4)
    )


@pytest.mark.parametrize(
    "groups",
    [
        [(0, 1), (1, 2, 3)],  # overlap
        [(0, 1), (2,)],  # index 3 missing
        [(0, 1, 2, 3, 4)],  # index out of range
        [(0, 1), (), (2, 3)],  # empty group
        [(0.0, 1.0), (2, 3)],  # not integers
        [],  # no group
    ],
)
def test_group_soft_threshold_rejects_groups_that_are_no_partition(groups):
    """Do groups that do not partition range(n) raise a clear ValueError?"""
    with pytest.raises(ValueError, match="group"):
        group_soft_threshold(np.ones(4), 0.1, groups)
