"""Figures of the course, drawn on :class:`matplotlib.figure.Figure` (no pyplot, no display).

- ``_lab1``: losses on a log axis and weight trajectories of the Lab 1 solvers;
- ``_compression``: per-layer pruning sensitivity, file size against accuracy.
"""

from edu.plots._compression import (
    FRONTIER_MAX_DROP,
    FRONTIER_MIN_RATIO,
    FRONTIER_VIEW_BELOW,
    FrontierPoint,
    meets_frontier_target,
    pareto_front,
    plot_frontier,
    plot_sensitivity,
)
from edu.plots._lab1 import (
    LOSS_FLOOR,
    plot_loss_family,
    plot_run,
    plot_weights_family,
    run_label,
    save_figure,
)

__all__ = [
    "FRONTIER_MAX_DROP",
    "FRONTIER_MIN_RATIO",
    "FRONTIER_VIEW_BELOW",
    "LOSS_FLOOR",
    "FrontierPoint",
    "meets_frontier_target",
    "pareto_front",
    "plot_frontier",
    "plot_loss_family",
    "plot_run",
    "plot_sensitivity",
    "plot_weights_family",
    "run_label",
    "save_figure",
]
