"""Sparse optimization of a linear model: the numerical core of Lab 1 (numpy only).

- ``_problem``: the homework data, the objective ``L`` and its gradient;
- ``_prox``: proximal operators and projections (soft, hard, trimmed, group);
- ``_penalties``: the penalties whose proxes those are, and the L1 subgradient;
- ``_solvers``: :func:`run`, one loop for every method of Lab 1, and its result;
- ``_homework``: the parts of Lab 1 with the spec's hyperparameters.

Course notes: :ref:`ch-sparsity`, :ref:`ch-proximal` and :ref:`ch-group-lasso`.
"""

from edu.sparse._homework import LAB1_PARTS, LabPart, run_part
from edu.sparse._penalties import (
    group_lasso_penalty,
    l1_penalty,
    l1_subgradient,
    trimmed_l1_penalty,
)
from edu.sparse._problem import gradient, homework_data, objective
from edu.sparse._prox import (
    group_soft_threshold,
    hard_threshold,
    soft_threshold,
    trimmed_soft_threshold,
)
from edu.sparse._solvers import (
    DEFAULT_GROUPS,
    METHODS,
    PENALIZED_METHODS,
    PROXIMAL_METHODS,
    RunResult,
    run,
)

__all__ = [
    "DEFAULT_GROUPS",
    "LAB1_PARTS",
    "METHODS",
    "PENALIZED_METHODS",
    "PROXIMAL_METHODS",
    "LabPart",
    "RunResult",
    "gradient",
    "group_lasso_penalty",
    "group_soft_threshold",
    "hard_threshold",
    "homework_data",
    "l1_penalty",
    "l1_subgradient",
    "objective",
    "run",
    "run_part",
    "soft_threshold",
    "trimmed_l1_penalty",
    "trimmed_soft_threshold",
]
