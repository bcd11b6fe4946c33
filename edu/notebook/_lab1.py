"""Lab 1 run on the student's own functions: the same loop as :func:`edu.sparse.run`.

The notebook's student writes the gradient and the projection / proximal operators;
this module runs parts (b)-(f) of Lab 1 with them, from ``W_0 = 0``, with the
hyperparameters of :data:`edu.sparse.LAB1_PARTS`, and returns
:class:`edu.sparse.RunResult` objects that :mod:`edu.plots` draws. Given the reference
functions of :mod:`edu.sparse` it reproduces :func:`edu.sparse.run_part` exactly.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from edu.sparse import LAB1_PARTS, LabPart, RunResult, homework_data, l1_penalty, objective

__all__ = ["LAB1_HOMEWORK_PARTS", "run_lab1_part"]

LAB1_HOMEWORK_PARTS = tuple(part.name for part in LAB1_PARTS if not part.beyond_homework)
"""The parts of Lab 1 that :func:`run_lab1_part` runs: ``("b", "c", "d", "e", "f")``."""

_NEEDS = {
    "gd": (),
    "projected": ("hard_threshold",),
    "l1": ("l1_subgradient",),
    "prox": ("soft_threshold",),
    "trimmed": ("trimmed_soft_threshold",),
}
_K = 2  # the prior ||W||_0 <= 2


def _part(name: str) -> LabPart:
    for part in LAB1_PARTS:
        if part.name == name and not part.beyond_homework:
            return part
    raise ValueError(f"unknown Lab 1 part {name!r}; choose one of {', '.join(LAB1_HOMEWORK_PARTS)}")


def _as_weights(value: object, function: str, size: int) -> np.ndarray:
    """A float copy of ``value`` with ``size`` entries, or an error naming ``function``."""
    array = np.array(value, dtype=float) if value is not None else None
    if array is None or array.shape != (size,):
        shape = None if array is None else array.shape
        raise ValueError(
            f"{function} returned {type(value).__name__} of shape {shape}; "
            f"expected an array of shape ({size},)"
        )
    return array


def _trimmed_l1(w: np.ndarray, num_free: int) -> float:
    """The trimmed L1 penalty: the sum of the ``n - num_free`` smallest ``|w_i|``.

    The value of :func:`edu.sparse.trimmed_l1_penalty`, computed here from a sort: the
    reference picks the largest entries with the helper a student's
    ``trimmed_soft_threshold`` must not use, which the grader's sandbox disables.
    """
    return float(np.sort(np.abs(w))[: w.size - num_free].sum())


def run_lab1_part(
    name: str,
    *,
    gradient: Callable,
    hard_threshold: Callable | None = None,
    l1_subgradient: Callable | None = None,
    soft_threshold: Callable | None = None,
    trimmed_soft_threshold: Callable | None = None,
    steps: int = 200,
    lr: float = 0.02,
) -> list[RunResult]:
    """Run one part of Lab 1 with the given functions, one run per penalty weight.

    Parameters
    ----------
    name : {"b", "c", "d", "e", "f"}
        The part: (b) gradient descent, (c) projected gradient descent, (d) L1 by
        subgradient, (e) proximal gradient (ISTA), (f) trimmed L1.
    gradient : callable ``(X, y, w) -> ndarray``
        The gradient of ``L(W) = sum_i (X_i W - y_i)^2``; used by every part.
    hard_threshold : callable ``(v, k) -> ndarray``, optional
        Needed by part (c).
    l1_subgradient : callable ``(w) -> ndarray``, optional
        Needed by part (d).
    soft_threshold : callable ``(v, threshold) -> ndarray``, optional
        Needed by part (e).
    trimmed_soft_threshold : callable ``(v, threshold, num_free) -> ndarray``, optional
        Needed by part (f).
    steps : int, default 200
        Iterations of every run.
    lr : float, default 0.02
        The step size ``mu``.

    Returns
    -------
    list of RunResult
        One per penalty weight of the part (:data:`edu.sparse.LAB1_PARTS`), in that
        order, with the losses ``L(W_k)`` and the iterates ``W_k``, ``k = 0..steps``.

    Raises
    ------
    ValueError
        For an unknown part, or a function that returns something other than a
        vector of 5 numbers (the message names the function).
    TypeError
        If a function the part needs is not given.

    Notes
    -----
    From ``W_0 = 0``, every step is ``W_{k+1} = P(W_k - lr D(W_k))`` with
    ``D = gradient`` (plus ``lam * l1_subgradient`` in part (d)) and ``P`` the
    identity (b, d), ``hard_threshold(., 2)`` (c), ``soft_threshold(., lr * lam)``
    (e) or ``trimmed_soft_threshold(., lr * lam, 2)`` (f): the update of
    :func:`edu.sparse.run` (course notes, chapters 'Sparse optimization' and
    'Proximal operators'). Only the functions passed in are called, never their
    counterparts in :mod:`edu.sparse` or the helpers those use, so the runs work where
    the grader has disabled them.

    Examples
    --------
    >>> import edu.sparse
    >>> results = run_lab1_part(
    ...     "c", gradient=edu.sparse.gradient, hard_threshold=edu.sparse.hard_threshold
    ... )
    >>> [(r.method, r.nonzeros) for r in results]
    [('projected', 2)]
    """
    part = _part(name)
    given = {
        "hard_threshold": hard_threshold,
        "l1_subgradient": l1_subgradient,
        "soft_threshold": soft_threshold,
        "trimmed_soft_threshold": trimmed_soft_threshold,
    }
    missing = [needed for needed in _NEEDS[part.method] if given[needed] is None]
    if missing:
        raise TypeError(f"part ({name}) needs {', '.join(f'{m}=...' for m in missing)}")
    X, y = homework_data()
    return [_run(part.method, lam, gradient, given, X, y, steps, lr) for lam in part.lams]


def _run(
    method: str,
    lam: float | None,
    gradient: Callable,
    given: dict[str, Callable | None],
    X: np.ndarray,
    y: np.ndarray,
    steps: int,
    lr: float,
) -> RunResult:
    """One run of ``method`` from ``W_0 = 0`` (see :func:`run_lab1_part`)."""
    size = X.shape[1]
    threshold = None if lam is None else lr * lam
    w = np.zeros(size)
    weights = [w]
    for _ in range(steps):
        direction = _as_weights(gradient(X, y, w), "gradient", size)
        if method == "l1":
            sign = _as_weights(given["l1_subgradient"](w), "l1_subgradient", size)
            direction = direction + lam * sign
        v = w - lr * direction
        if method == "projected":
            w = _as_weights(given["hard_threshold"](v, _K), "hard_threshold", size)
        elif method == "prox":
            w = _as_weights(given["soft_threshold"](v, threshold), "soft_threshold", size)
        elif method == "trimmed":
            trimmed = given["trimmed_soft_threshold"](v, threshold, _K)
            w = _as_weights(trimmed, "trimmed_soft_threshold", size)
        else:
            w = v
        weights.append(w)
    weights_array = np.array(weights)
    losses = np.array([objective(X, y, w) for w in weights_array])
    if method in ("l1", "prox"):
        penalties = np.array([l1_penalty(w) for w in weights_array])
    elif method == "trimmed":
        penalties = np.array([_trimmed_l1(w, _K) for w in weights_array])
    else:
        penalties = np.zeros(len(weights_array))
    penalized = losses + (0.0 if lam is None else lam) * penalties
    for array in (weights_array, losses, penalized):
        array.setflags(write=False)
    return RunResult(
        method=method,
        lam=lam,
        losses=losses,
        weights=weights_array,
        penalized_losses=penalized,
        lr=float(lr),
        k=_K if method in ("projected", "trimmed") else None,
    )
