"""The Lab 1 problem: a sparse least-squares fit of a linear model to three points.

The data are the table of the homework statement (course spec, Lab 1). The source
report's code used -1 in two places where the statement has -2; the statement wins.
The objective is a SUM of squares, not a mean, so every gradient carries a factor 2.
"""

from __future__ import annotations

import numpy as np


def homework_data() -> tuple[np.ndarray, np.ndarray]:
    """Return the Lab 1 data: three points in five dimensions.

    Returns
    -------
    X : ndarray of shape (3, 5)
        The inputs, one row ``X_i`` per point.
    y : ndarray of shape (3,)
        The targets ``y_i``.

    Notes
    -----
    The system ``X W = y`` has 3 equations and 5 unknowns: it is underdetermined, so
    ``L(W) = 0`` on a whole affine subspace and the prior ``||W||_0 <= 2`` is what
    singles out a sparse solution (course notes, :ref:`lab1-problem`).
    Fresh arrays are returned on every call, so callers may modify them.

    Examples
    --------
    >>> X, y = homework_data()
    >>> X.shape, y.shape
    ((3, 5), (3,))
    >>> X[1].tolist(), float(y[0])
    ([-2.0, 1.0, -2.0, 0.0, 2.0], 5.0)
    """
    X = np.array(
        [
            [-1.0, 2.0, 1.0, 1.0, -1.0],
            [-2.0, 1.0, -2.0, 0.0, 2.0],
            [1.0, 0.0, -2.0, -2.0, -1.0],
        ]
    )
    y = np.array([5.0, 1.0, 1.0])
    return X, y


def objective(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    """Return the sum of squared residuals ``L(w) = sum_i (X_i w - y_i)^2``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        The inputs.
    y : ndarray of shape (n_samples,)
        The targets.
    w : ndarray of shape (n_features,)
        The weights.

    Returns
    -------
    float
        ``||X w - y||_2^2`` (a sum, not a mean).

    Notes
    -----
    ``L(w) = sum_i (X_i w - y_i)^2 = ||X w - y||_2^2`` (course notes,
    :ref:`lab1-problem`).

    Examples
    --------
    >>> X, y = homework_data()
    >>> objective(X, y, np.zeros(5))  # 5^2 + 1^2 + 1^2
    27.0
    """
    residual = X @ w - y
    return float(residual @ residual)


def gradient(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Return the gradient of :func:`objective` with respect to ``w``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        The inputs.
    y : ndarray of shape (n_samples,)
        The targets.
    w : ndarray of shape (n_features,)
        The weights.

    Returns
    -------
    ndarray of shape (n_features,)
        ``2 X^T (X w - y)``.

    Notes
    -----
    ``grad L(w) = 2 sum_i X_i^T (X_i w - y_i) = 2 X^T (X w - y)``, hence the gradient
    descent step of Lab 1(a), ``W_{k+1} = W_k - 2 mu sum_i X_i^T (X_i W_k - y_i)``
    (course notes, :ref:`gd-derivation`). ``grad L`` is Lipschitz with
    constant ``2 lambda_max(X^T X)`` (about 26.2 for the homework data), so any step
    size below about 0.038 makes gradient descent converge; the homework uses 0.02.

    Examples
    --------
    >>> X, y = homework_data()
    >>> gradient(X, y, np.zeros(5)).tolist()  # -2 X^T y
    [12.0, -22.0, -2.0, -6.0, 8.0]
    """
    return 2.0 * X.T @ (X @ w - y)
