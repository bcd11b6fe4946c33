"""Sparsity-inducing penalties of Lab 1 and the L1 subgradient.

Each penalty ``R`` here is the ``g`` whose proximal operator lives in ``_prox.py``;
the solvers record ``L(W) + lam R(W)`` next to ``L(W)`` (course notes,
:ref:`proximal-gradient`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edu.sparse._prox import _check_count, _check_groups, _check_vector, _largest_magnitudes


def l1_penalty(w: np.ndarray) -> float:
    """Return the L1 norm ``||w||_1 = sum_i |w_i|``.

    Parameters
    ----------
    w : ndarray of shape (n,)
        The weights.

    Returns
    -------
    float
        ``sum_i |w_i|``.

    Notes
    -----
    The convex surrogate of ``||w||_0`` (course notes, :ref:`l1-zeros`).
    Its proximal operator is :func:`edu.sparse.soft_threshold`.

    Examples
    --------
    >>> l1_penalty(np.array([1.0, -2.0, 0.0]))
    3.0
    """
    return float(np.abs(w).sum())


def l1_subgradient(w: np.ndarray) -> np.ndarray:
    """Return the subgradient ``sign(w)`` of ``||w||_1`` used by Lab 1(d).

    Parameters
    ----------
    w : ndarray of shape (n,)
        The weights.

    Returns
    -------
    ndarray of shape (n,)
        ``sign(w_i)``, with ``sign(0) = 0``.

    Notes
    -----
    ``d|w_i| = {sign(w_i)}`` for ``w_i != 0`` and ``[-1, 1]`` at ``w_i = 0``; the
    element ``0`` is chosen there. A subgradient step
    ``W - lr (grad L(W) + lam sign(W))`` moves a small weight by ``lr * lam`` past
    zero rather than onto it, so the iterates oscillate around 0 instead of reaching
    it: the reason for Part 0, statement 1.1 (course notes,
    :ref:`subgradient-oscillation`).

    Examples
    --------
    >>> l1_subgradient(np.array([0.3, -2.0, 0.0])).tolist()
    [1.0, -1.0, 0.0]
    """
    return np.sign(w)


def trimmed_l1_penalty(w: np.ndarray, num_free: int) -> float:
    """Return the trimmed L1 penalty: the L1 norm of all but the ``num_free`` largest entries.

    Parameters
    ----------
    w : ndarray of shape (n,)
        The weights.
    num_free : int
        How many of the largest ``|w_i|`` are not penalised, ``0 <= num_free <= n``.

    Returns
    -------
    float
        ``sum`` of the ``n - num_free`` smallest ``|w_i|``.

    Raises
    ------
    ValueError
        If ``w`` is not 1-D or ``num_free`` is not an integer in ``[0, n]``.

    Notes
    -----
    ``T_h(w) = sum_{i > h} |w|_(i)`` with ``|w|_(1) >= |w|_(2) >= ...``; it is zero
    exactly when ``||w||_0 <= h`` (course notes,
    :ref:`trimmed-l1`).

    Examples
    --------
    >>> trimmed_l1_penalty(np.array([0.5, -3.0, 1.0, 2.0, -0.1]), 2)
    1.6
    """
    w = _check_vector(w)
    num_free = _check_count("num_free", num_free, w.size)
    return float(np.abs(w[~_largest_magnitudes(w, num_free)]).sum())


def group_lasso_penalty(w: np.ndarray, groups: Sequence[Sequence[int]]) -> float:
    """Return the group lasso penalty ``sum_g ||w_g||_2``.

    Parameters
    ----------
    w : ndarray of shape (n,)
        The weights.
    groups : sequence of sequences of int
        Index groups that partition ``range(n)``.

    Returns
    -------
    float
        The sum over groups of the groups' Euclidean norms.

    Raises
    ------
    ValueError
        If ``w`` is not 1-D or ``groups`` is not a partition of ``range(n)``.

    Notes
    -----
    The L1 norm of the vector of group L2 norms, not the other way round (Part 0,
    statement 1.4; course notes,
    :ref:`group-lasso-penalty`). Its proximal operator is :func:`edu.sparse.group_soft_threshold`.

    Examples
    --------
    >>> group_lasso_penalty(np.array([3.0, 4.0, 0.0, 0.0, -2.0]), [(0, 1), (2, 3), (4,)])
    7.0
    """
    w = _check_vector(w)
    return float(sum(np.linalg.norm(w[indices]) for indices in _check_groups(groups, w.size)))
