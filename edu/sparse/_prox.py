"""Proximal operators and projections that make weights exactly zero.

``prox_{t g}(v) = argmin_x 0.5 ||x - v||^2 + t g(x)`` for the sparsity-inducing
penalties of Lab 1 (course notes, :ref:`ch-proximal`):

- ``g = ||.||_1``: soft thresholding (ISTA, Lab 1(e));
- ``g`` = indicator of ``{||x||_0 <= k}``: hard thresholding, the projection of
  projected gradient descent (Lab 1(c));
- ``g`` = L1 norm of all but the ``num_free`` largest entries: trimmed soft
  thresholding (Lab 1(f));
- ``g = sum_g ||x_g||_2``: block soft thresholding (group lasso).

Reference: N. Parikh and S. Boyd, "Proximal Algorithms", Foundations and Trends in
Optimization 1(3), 2014, sections 6.5 (L1 and group norms).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _check_threshold(threshold: float) -> float:
    threshold = float(threshold)
    if not threshold >= 0.0:  # also rejects NaN
        raise ValueError(f"threshold must be a non-negative number, got {threshold}")
    return threshold


def _check_vector(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    if v.ndim != 1:
        raise ValueError(f"v must be a 1-D array, got shape {v.shape}")
    return v


def _check_count(name: str, count: int, size: int) -> int:
    if isinstance(count, bool) or int(count) != count or not 0 <= count <= size:
        raise ValueError(f"{name} must be an integer in [0, {size}] (the size of v), got {count}")
    return int(count)


def _largest_magnitudes(v: np.ndarray, k: int) -> np.ndarray:
    """Boolean mask of the ``k`` entries of ``v`` with largest ``|v|``; ties -> lower index."""
    keep = np.zeros(v.shape, dtype=bool)
    keep[np.argsort(-np.abs(v), kind="stable")[:k]] = True
    return keep


def soft_threshold(v: np.ndarray, threshold: float) -> np.ndarray:
    """Shrink every entry of ``v`` toward zero by ``threshold`` (the prox of the L1 norm).

    Parameters
    ----------
    v : ndarray of any shape
        The point to shrink (in ISTA, the weights after the gradient step).
    threshold : float
        The shrinkage ``t >= 0``; in ISTA ``t = lr * lam``.

    Returns
    -------
    ndarray of the shape of ``v``
        ``sign(v) * max(|v| - t, 0)``, elementwise.

    Raises
    ------
    ValueError
        If ``threshold`` is negative or NaN.

    Notes
    -----
    ``prox_{t ||.||_1}(v) = argmin_x 0.5 ||x - v||_2^2 + t ||x||_1``. The problem
    separates over entries; its optimality condition ``0 in x_i - v_i + t d|x_i|``
    gives ``x_i = 0`` when ``|v_i| <= t`` and ``x_i = v_i - t sign(v_i)`` otherwise
    (course notes, :ref:`soft-thresholding`). Entries that survive are shrunk by
    ``t`` at each step; the bias of the L1 penalty that trimmed L1 removes is where the
    iterations converge, which does not depend on ``t`` (:ref:`soft-thresholding-bias`).

    Examples
    --------
    >>> soft_threshold(np.array([3.0, -0.5, 0.2, -2.0]), 1.0).tolist()
    [2.0, -0.0, 0.0, -1.0]
    """
    threshold = _check_threshold(threshold)
    v = np.asarray(v, dtype=float)
    return np.sign(v) * np.maximum(np.abs(v) - threshold, 0.0)


def hard_threshold(v: np.ndarray, k: int) -> np.ndarray:
    """Keep the ``k`` entries of largest magnitude and set the others to zero.

    Parameters
    ----------
    v : ndarray of shape (n,)
        The point to project.
    k : int
        How many entries to keep, ``0 <= k <= n``.

    Returns
    -------
    ndarray of shape (n,)
        A copy of ``v`` with all but its ``k`` largest-magnitude entries zeroed.

    Raises
    ------
    ValueError
        If ``v`` is not 1-D or ``k`` is not an integer in ``[0, n]``.

    Notes
    -----
    This is the Euclidean projection onto the L0 ball ``{x : ||x||_0 <= k}``:
    for a support ``S`` the closest point is ``v`` restricted to ``S``, at squared
    distance ``sum_{i not in S} v_i^2``, which is smallest when ``S`` holds the ``k``
    largest ``|v_i|`` (course notes, :ref:`hard-thresholding`). When magnitudes
    tie, the projection is not unique;
    this function then keeps the entry with the lower index (a stable sort of
    ``-|v|``), so results are deterministic.

    Examples
    --------
    >>> hard_threshold(np.array([0.5, -3.0, 1.0, 2.0, -0.1]), 2).tolist()
    [0.0, -3.0, 0.0, 2.0, 0.0]
    >>> hard_threshold(np.array([1.0, -1.0, 1.0]), 1).tolist()  # tie: lowest index
    [1.0, 0.0, 0.0]
    """
    v = _check_vector(v)
    k = _check_count("k", k, v.size)
    return np.where(_largest_magnitudes(v, k), v, 0.0)


def trimmed_soft_threshold(v: np.ndarray, threshold: float, num_free: int) -> np.ndarray:
    """Soft-threshold all entries of ``v`` except the ``num_free`` largest in magnitude.

    Parameters
    ----------
    v : ndarray of shape (n,)
        The point to shrink: in the trimmed-L1 proximal step, the weights AFTER the
        gradient step. The free entries are chosen by ``|v|``, never by the gradient.
    threshold : float
        The shrinkage ``t >= 0`` applied to the penalised entries (``lr * lam``).
    num_free : int
        How many of the largest entries are left untouched, ``0 <= num_free <= n``.

    Returns
    -------
    ndarray of shape (n,)
        ``v`` on the ``num_free`` largest ``|v_i|``, ``soft_threshold(v_i, t)`` elsewhere.

    Raises
    ------
    ValueError
        If ``v`` is not 1-D, ``threshold`` is negative or ``num_free`` is not an
        integer in ``[0, n]``.

    Notes
    -----
    The trimmed L1 penalty ``T_h(x) = sum of the n - h smallest |x_i|`` (here
    ``h = num_free``) does not shrink the ``h`` largest weights, which removes the
    bias of L1 (course notes, :ref:`trimmed-l1`). This function is its exact prox.
    ``T_h(x)`` is the smallest, over free sets ``F`` of ``h`` indices, of
    ``sum_{i not in F} |x_i|``, so the prox problem is a minimum over ``F`` of
    problems that separate: a free entry costs nothing (``x_i = v_i``), a
    penalised one costs the Moreau envelope ``e_t(v_i) = min_x 0.5 (x - v_i)^2 +
    t |x|``, which is ``v_i^2 / 2`` for ``|v_i| <= t`` and ``t |v_i| - t^2 / 2``
    beyond, and grows with ``|v_i|``. The best ``F`` therefore holds the ``h``
    largest ``|v_i|``, and the minimiser is ``v`` there and ``soft_threshold(v_i,
    t)`` elsewhere. When magnitudes tie across the border of ``F`` the prox is not
    unique; this function then frees the lower index, as :func:`hard_threshold`
    keeps it. With ``num_free = 0`` it is :func:`soft_threshold`; with
    ``num_free = n`` it is the identity.

    Examples
    --------
    >>> v = np.array([0.5, -3.0, 1.0, 2.0, -0.1])
    >>> trimmed_soft_threshold(v, 0.3, num_free=2).tolist()
    [0.2, -3.0, 0.7, 2.0, -0.0]
    """
    v = _check_vector(v)
    num_free = _check_count("num_free", num_free, v.size)
    return np.where(_largest_magnitudes(v, num_free), v, soft_threshold(v, threshold))


def _check_groups(groups: Sequence[Sequence[int]], size: int) -> list[np.ndarray]:
    """Return ``groups`` as index arrays after checking that they partition ``range(size)``."""
    index_arrays = []
    for group in groups:
        indices = np.asarray(group)
        if indices.ndim != 1 or indices.size == 0 or not np.issubdtype(indices.dtype, np.integer):
            raise ValueError(f"each group must be a non-empty sequence of integers, got {group!r}")
        index_arrays.append(indices)
    if not index_arrays:
        raise ValueError("groups must hold at least one group")
    flat = np.concatenate(index_arrays)
    if flat.size != size or not np.array_equal(np.sort(flat), np.arange(size)):
        raise ValueError(
            f"groups must partition the indices 0..{size - 1} of v (each index in exactly "
            f"one group), got {[a.tolist() for a in index_arrays]}"
        )
    return index_arrays


def group_soft_threshold(
    v: np.ndarray, threshold: float, groups: Sequence[Sequence[int]]
) -> np.ndarray:
    """Shrink each group of entries of ``v`` as a block (the prox of the group lasso).

    Parameters
    ----------
    v : ndarray of shape (n,)
        The point to shrink.
    threshold : float
        The shrinkage ``t >= 0`` (``lr * lam`` in a proximal gradient method).
    groups : sequence of sequences of int
        Index groups that partition ``range(n)``: every index in exactly one group.

    Returns
    -------
    ndarray of shape (n,)
        ``v_g * max(0, 1 - t / ||v_g||_2)`` on every group ``g``.

    Raises
    ------
    ValueError
        If ``v`` is not 1-D, ``threshold`` is negative or ``groups`` is not a partition
        of ``range(n)``.

    Notes
    -----
    ``prox_{t sum_g ||.||_2}(v) = argmin_x 0.5 ||x - v||^2 + t sum_g ||x_g||_2``
    separates over groups; for one group the optimality condition
    ``0 in x_g - v_g + t d||x_g||_2`` gives ``x_g = 0`` when ``||v_g||_2 <= t`` and
    ``x_g = (1 - t / ||v_g||_2) v_g`` otherwise. A group is either zeroed whole or
    kept whole: the group lasso is the L1 norm of the groups' L2 norms (course notes,
    :ref:`block-soft-thresholding`; Part 0, statement 1.4).
    With groups of size one it is :func:`soft_threshold`.

    Examples
    --------
    >>> v = np.array([3.0, 4.0, 0.3, -0.4, 2.0])
    >>> group_soft_threshold(v, 1.0, [(0, 1), (2, 3), (4,)]).round(12).tolist()
    [2.4, 3.2, 0.0, -0.0, 1.0]
    """
    v = _check_vector(v)
    threshold = _check_threshold(threshold)
    out = np.empty_like(v)
    for indices in _check_groups(groups, v.size):
        norm = np.linalg.norm(v[indices])
        scale = max(0.0, 1.0 - threshold / norm) if norm > 0.0 else 0.0
        out[indices] = scale * v[indices]
    return out
