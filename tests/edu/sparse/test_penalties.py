"""Tests of the penalties and of the L1 subgradient."""

import numpy as np
import pytest

from edu.sparse import group_lasso_penalty, l1_penalty, l1_subgradient, trimmed_l1_penalty


@pytest.mark.parametrize("seed", range(10))
def test_l1_subgradient_is_in_the_subdifferential(seed):
    """Does s = sign(w) satisfy ||u||_1 >= ||w||_1 + s.(u - w) for every u (zeros included)?"""
    rng = np.random.default_rng(seed)
    w = rng.normal(size=6)
    w[::3] = 0.0
    s = l1_subgradient(w)
    for _ in range(100):
        u = rng.normal(size=6)
        assert np.abs(u).sum() >= np.abs(w).sum() + s @ (u - w) - 1e-12
    np.testing.assert_array_equal(s[::3], 0.0)


@pytest.mark.parametrize("seed", range(10))
def test_trimmed_l1_penalty_sums_the_smallest_magnitudes(seed):
    """Is the trimmed penalty the sum of the n - h smallest |w_i| (sorted by hand)?"""
    w = np.random.default_rng(seed).normal(size=5)
    for h in range(6):
        assert trimmed_l1_penalty(w, h) == pytest.approx(np.sort(np.abs(w))[: 5 - h].sum())
    assert trimmed_l1_penalty(w, 0) == pytest.approx(l1_penalty(w))


def test_trimmed_l1_penalty_vanishes_exactly_on_sparse_vectors():
    """Is T_2(w) = 0 iff ||w||_0 <= 2?"""
    assert trimmed_l1_penalty(np.array([0.0, 2.0, 0.0, 0.0, -0.7]), 2) == 0.0
    assert trimmed_l1_penalty(np.array([0.0, 2.0, 1e-3, 0.0, -0.7]), 2) == pytest.approx(1e-3)
    with pytest.raises(ValueError, match="num_free must be an integer"):
        trimmed_l1_penalty(np.ones(5), 6)


def test_group_lasso_penalty_is_the_sum_of_group_norms():
    """Is the group lasso penalty the L1 norm of the groups' L2 norms (Part 0, 1.4)?"""
    w = np.array([1.0, 2.0, 2.0, -3.0, 4.0])
    assert group_lasso_penalty(w, [(0, 1, 2), (3, 4)]) == pytest.approx(3.0 + 5.0)
    assert group_lasso_penalty(w, [(i,) for i in range(5)]) == pytest.approx(l1_penalty(w))
    with pytest.raises(ValueError, match="partition"):
        group_lasso_penalty(w, [(0, 1), (3, 4)])
