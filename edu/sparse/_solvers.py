"""First-order solvers for Lab 1: (projected, subgradient, proximal, accelerated) descent.

Every method is one loop, ``W_{i+1} = P(Z_i - lr D(Z_i))`` from ``W_0 = 0`` (``i``
counts the steps; ``k`` is the sparsity level), where

- ``D`` is ``grad L`` (``grad L + lam sign`` for the L1 subgradient method),
- ``P`` is the identity, a projection or a proximal operator (``_prox.py``),
- ``Z_i = W_i`` except for FISTA, where ``Z_i`` adds Nesterov momentum.

References: A. Beck and M. Teboulle, "A Fast Iterative Shrinkage-Thresholding
Algorithm for Linear Inverse Problems", SIAM J. Imaging Sciences 2(1), 2009 (ISTA
and FISTA); course notes, :ref:`proximal-gradient` and :ref:`fista`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from edu.sparse._penalties import (
    group_lasso_penalty,
    l1_penalty,
    l1_subgradient,
    trimmed_l1_penalty,
)
from edu.sparse._problem import gradient, homework_data, objective
from edu.sparse._prox import (
    _check_groups,
    group_soft_threshold,
    hard_threshold,
    soft_threshold,
    trimmed_soft_threshold,
)

METHODS = ("gd", "projected", "l1", "prox", "trimmed", "fista", "group")
"""The methods :func:`run` knows, in the order of the homework (FISTA and group last)."""

PENALIZED_METHODS = ("l1", "prox", "trimmed", "fista", "group")
"""The methods that minimise ``L + lam R`` and so need ``lam``."""

PROXIMAL_METHODS = ("prox", "trimmed", "fista", "group")
"""The methods whose step ends in a proximal operator with threshold ``lr * lam``."""

DEFAULT_GROUPS = ((0, 1), (2, 3), (4,))
"""The grouping of the 5 Lab 1 weights used by ``run("group", ...)`` unless told otherwise.

Only an illustration: the 5 weights of the homework have no natural structure, so any
grouping is arbitrary. Group lasso earns its keep where groups mean something, such as
all the weights of one filter or channel of a convolution (structured pruning).
"""


@dataclass(frozen=True, eq=False)
class RunResult:
    """The trajectory of one run of :func:`run` (arrays are read-only).

    Attributes
    ----------
    method : str
        One of :data:`METHODS`.
    lam : float or None
        The penalty weight (None for "gd" and "projected").
    losses : ndarray of shape (steps + 1,)
        ``L(W_i) = ||X W_i - y||^2`` for every stored iterate ``W_i``, ``losses[0] = L(0)``.
        Always the plain sum of squares, whatever the method, so runs compare directly.
    weights : ndarray of shape (steps + 1, n_features)
        The iterates ``W_i``, ``weights[0] = 0``.
    penalized_losses : ndarray of shape (steps + 1,)
        ``L(W_i) + lam R(W_i)`` with the method's penalty ``R`` (equal to ``losses`` for
        "gd" and "projected", whose projected iterates are always feasible).
    lr : float
        The step size.
    k : int or None
        The sparsity level (kept entries for "projected", free entries for "trimmed").
    groups : tuple of tuples of int, or None
        The grouping used by "group".
    """

    method: str
    lam: float | None
    losses: np.ndarray
    weights: np.ndarray
    penalized_losses: np.ndarray
    lr: float
    k: int | None = None
    groups: tuple[tuple[int, ...], ...] | None = None

    @property
    def steps(self) -> int:
        """The number of steps taken."""
        return len(self.losses) - 1

    @property
    def threshold(self) -> float | None:
        """``lr * lam`` for the proximal methods, None for the others."""
        return self.lr * self.lam if self.method in PROXIMAL_METHODS else None

    @property
    def final_weights(self) -> np.ndarray:
        """``W`` after the last step, shape (n_features,)."""
        return self.weights[-1]

    @property
    def final_loss(self) -> float:
        """``L`` after the last step."""
        return float(self.losses[-1])

    @property
    def nonzeros(self) -> int:
        """The number of entries of :attr:`final_weights` that are exactly non-zero."""
        return int(np.count_nonzero(self.final_weights))


def _check_run_arguments(
    method: str, lam: float | None, steps: int, lr: float, groups: object
) -> None:
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if method in PENALIZED_METHODS:
        if lam is None:
            raise ValueError(f"method {method!r} needs lam, the penalty weight (a number >= 0)")
        if not float(lam) >= 0.0:
            raise ValueError(f"lam must be a number >= 0, got {lam}")
    elif lam is not None:
        raise ValueError(
            f"method {method!r} has no penalty and takes no lam; "
            f"the methods with a penalty are {', '.join(PENALIZED_METHODS)}"
        )
    if isinstance(steps, bool) or int(steps) != steps or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps}")
    if not (math.isfinite(lr) and lr > 0.0):
        raise ValueError(f"lr must be a positive finite number, got {lr}")
    if groups is not None and method != "group":
        raise ValueError(f"groups is only used by method 'group', not by {method!r}")


def _check_data(X: np.ndarray | None, y: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    if X is None and y is None:
        return homework_data()
    if X is None or y is None:
        raise ValueError("give both X and y, or neither (then the homework data are used)")
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(f"X must have shape (n, d) and y shape (n,), got {X.shape} and {y.shape}")
    return X, y


def _step_parts(
    method: str, lam: float, k: int, lr: float, groups: tuple[tuple[int, ...], ...]
) -> tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], float]]:
    """Return the map ``P`` applied after the step and the penalty ``R`` of ``method``."""
    threshold = lr * lam
    match method:
        case "gd":
            return (lambda v: v), (lambda w: 0.0)
        case "projected":
            return (lambda v: hard_threshold(v, k)), (lambda w: 0.0)
        case "l1":
            return (lambda v: v), l1_penalty
        case "prox" | "fista":
            return (lambda v: soft_threshold(v, threshold)), l1_penalty
        case "trimmed":
            return (
                (lambda v: trimmed_soft_threshold(v, threshold, k)),
                (lambda w: trimmed_l1_penalty(w, k)),
            )
        case "group":
            return (
                (lambda v: group_soft_threshold(v, threshold, groups)),
                (lambda w: group_lasso_penalty(w, groups)),
            )
    raise AssertionError(method)  # unreachable: the method was checked


def run(
    method: str,
    *,
    lam: float | None = None,
    k: int = 2,
    steps: int = 200,
    lr: float = 0.02,
    X: np.ndarray | None = None,
    y: np.ndarray | None = None,
    groups: Sequence[Sequence[int]] | None = None,
) -> RunResult:
    """Minimise the Lab 1 objective from ``W_0 = 0`` with one of the course's methods.

    Parameters
    ----------
    method : str
        One of :data:`METHODS`:

        - ``"gd"``: gradient descent on ``L`` (Lab 1(b));
        - ``"projected"``: gradient step, then :func:`hard_threshold` to the top ``k``
          (Lab 1(c));
        - ``"l1"``: subgradient descent on ``L + lam ||W||_1`` (Lab 1(d));
        - ``"prox"``: ISTA, gradient step then :func:`soft_threshold` by ``lr * lam``
          (Lab 1(e));
        - ``"trimmed"``: gradient step then :func:`trimmed_soft_threshold` by
          ``lr * lam`` with the ``k`` largest free (Lab 1(f));
        - ``"fista"``: ISTA with Beck-Teboulle momentum (beyond the homework);
        - ``"group"``: gradient step then :func:`group_soft_threshold` by ``lr * lam``
          (beyond the homework).
    lam : float, optional
        The penalty weight, ``>= 0``; required by the penalised methods
        (:data:`PENALIZED_METHODS`), refused by ``"gd"`` and ``"projected"``.
    k : int, default 2
        The prior ``||W||_0 <= k``: entries kept by ``"projected"``, entries left free
        by ``"trimmed"``; unused by the other methods.
    steps : int, default 200
        The number of iterations, ``>= 1``.
    lr : float, default 0.02
        The step size ``mu > 0``. Proximal methods converge for ``lr < 1 / Lip`` with
        ``Lip = 2 lambda_max(X^T X)`` (about 0.038 on the homework data).
    X : ndarray of shape (n_samples, n_features), optional
        The inputs; with ``y``, defaults to :func:`homework_data`.
    y : ndarray of shape (n_samples,), optional
        The targets.
    groups : sequence of sequences of int, optional
        The partition of the weights for ``"group"``; defaults to
        :data:`DEFAULT_GROUPS` (an arbitrary illustration, see there).

    Returns
    -------
    RunResult
        The losses ``L(W_i)`` (always the plain sum of squares) and the iterates
        ``W_i`` for ``i = 0..steps``, plus ``L(W_i) + lam R(W_i)``.

    Raises
    ------
    ValueError
        For an unknown method, a missing ``lam`` where one is needed, a ``lam``
        given to ``"gd"`` or ``"projected"``, a negative ``lam``, non-positive
        ``steps`` or ``lr``, ``groups`` given to another method than ``"group"``, or
        malformed ``X``, ``y``, ``k`` or ``groups``.

    Notes
    -----
    One step is ``W_{i+1} = P(Z_i - lr D(Z_i))``, ``i = 0, 1, ...`` (course notes,
    :ref:`proximal-gradient` and :ref:`fista`):

    - ``D = grad L = 2 X^T (X W - y)``; for ``"l1"``, ``D = grad L + lam sign(W)``;
    - ``P`` is the identity (``"gd"``, ``"l1"``) or the projection / proximal
      operator of the method, with threshold ``t = lr * lam``;
    - ``Z_i = W_i``, except for FISTA (Beck & Teboulle 2009, indices shifted by one):
      ``Z_0 = W_0``, ``t_0 = 1``, ``t_{i+1} = (1 + sqrt(1 + 4 t_i^2)) / 2``,
      ``Z_{i+1} = W_{i+1} + ((t_i - 1) / t_{i+1}) (W_{i+1} - W_i)``. The first
      momentum coefficient ``(t_0 - 1) / t_1`` is 0, so FISTA's first step is ISTA's.
      ISTA's objective gap decreases as ``O(1/k)``, FISTA's as ``O(1/k^2)``.

    With a fixed step ``lr < 1 / Lip``, ISTA and FISTA converge to a minimiser of
    ``L + lam ||W||_1`` (a lasso solution). The subgradient method does not
    reach exact zeros with a fixed step (Part 0, statement 1.1); projected gradient
    descent and trimmed L1 are non-convex heuristics for ``||W||_0 <= k``.

    Examples
    --------
    >>> result = run("projected", k=2)
    >>> result.losses.shape, result.weights.shape
    ((201,), (201, 5))
    >>> result.nonzeros
    2
    >>> run("prox", lam=1.0).threshold
    0.02
    """
    _check_run_arguments(method, lam, steps, lr, groups)
    X, y = _check_data(X, y)
    n_features = X.shape[1]
    uses_k = method in ("projected", "trimmed")
    if uses_k and (isinstance(k, bool) or int(k) != k or not 0 <= k <= n_features):
        raise ValueError(f"k must be an integer in [0, {n_features}], got {k}")
    if method == "group":
        groups = DEFAULT_GROUPS if groups is None else groups
        groups = tuple(tuple(int(i) for i in g.tolist()) for g in _check_groups(groups, n_features))
    lam_value = 0.0 if lam is None else float(lam)
    after_step, penalty = _step_parts(method, lam_value, int(k), lr, groups)

    def direction(w: np.ndarray) -> np.ndarray:
        if method == "l1":
            return gradient(X, y, w) + lam_value * l1_subgradient(w)
        return gradient(X, y, w)

    w = np.zeros(n_features)
    z, t = w, 1.0
    weights = [w]
    for _ in range(int(steps)):
        w_next = after_step(z - lr * direction(z))
        if method == "fista":
            t_next = (1.0 + math.sqrt(1.0 + 4.0 * t * t)) / 2.0
            z = w_next + ((t - 1.0) / t_next) * (w_next - w)
            t = t_next
        else:
            z = w_next
        w = w_next
        weights.append(w)

    weights_array = np.array(weights)
    losses = np.array([objective(X, y, w) for w in weights_array])
    penalized = losses + lam_value * np.array([penalty(w) for w in weights_array])
    for array in (weights_array, losses, penalized):
        array.setflags(write=False)
    return RunResult(
        method=method,
        lam=None if lam is None else float(lam),
        losses=losses,
        weights=weights_array,
        penalized_losses=penalized,
        lr=float(lr),
        k=int(k) if uses_k else None,
        groups=groups if method == "group" else None,
    )
