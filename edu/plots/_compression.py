"""Figures of compression: per-layer sensitivity, and file size against accuracy.

Built on :class:`matplotlib.figure.Figure` directly, as every figure of the package.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from matplotlib.figure import Figure

from edu.prune import SensitivityScan

__all__ = [
    "FRONTIER_MAX_DROP",
    "FRONTIER_MIN_RATIO",
    "FrontierPoint",
    "plot_frontier",
    "plot_sensitivity",
]

FRONTIER_MAX_DROP = 0.01
"""The course's target for a compressed model: at most this much test accuracy below the
float model..."""

FRONTIER_MIN_RATIO = 15.0
"""...in a file at least this many times smaller than the float model's float32 state dict."""


def plot_sensitivity(scan: SensitivityScan) -> Figure:
    """Accuracy against sparsity, one line per layer pruned alone, the unpruned level dashed.

    The layers are coloured from the first (light) to the last (dark), so the depth
    at which pruning starts to hurt is read off the figure.
    """
    figure = Figure(figsize=(7.0, 4.2), layout="constrained")
    ax = figure.add_subplot()
    names = list(scan.accuracies)
    for index, name in enumerate(names):
        shade = 0.2 + 0.75 * index / max(1, len(names) - 1)
        ax.plot(
            scan.sparsities,
            scan.accuracies[name],
            marker="o",
            markersize=3,
            color=(0.1, 0.3 * (1 - shade) + 0.1, shade),
            label=name.removesuffix(".0.conv").replace("body_op.", "block "),
        )
    ax.axhline(scan.base_accuracy, color="0.4", linestyle="--", linewidth=1, label="unpruned")
    ax.set_xlabel("sparsity of the one pruned layer (%)")
    ax.set_ylabel("accuracy (held-out training images)")
    ax.legend(fontsize=6, ncol=2, loc="lower left")
    ax.grid(alpha=0.3)
    return figure


@dataclass(frozen=True)
class FrontierPoint:
    """One compressed model: its label, its file's bytes and its test accuracy."""

    label: str
    file_bytes: int
    accuracy: float


def plot_frontier(
    points: Sequence[FrontierPoint], float32_bytes: int, float_accuracy: float
) -> Figure:
    """Test accuracy against compressed file size (log scale), with the targets drawn.

    The dotted lines mark the course's target region: within :data:`FRONTIER_MAX_DROP`
    of the float model's accuracy, at least :data:`FRONTIER_MIN_RATIO` times smaller
    than its float32 state dict.
    """
    figure = Figure(figsize=(7.0, 4.4), layout="constrained")
    ax = figure.add_subplot()
    for point in points:
        ax.scatter(point.file_bytes / 1024, 100 * point.accuracy, s=18)
        ax.annotate(
            point.label,
            (point.file_bytes / 1024, 100 * point.accuracy),
            fontsize=6,
            xytext=(3, 2),
            textcoords="offset points",
        )
    ax.axhline(100 * (float_accuracy - FRONTIER_MAX_DROP), color="0.5", linestyle=":", linewidth=1)
    ax.axvline(float32_bytes / FRONTIER_MIN_RATIO / 1024, color="0.5", linestyle=":", linewidth=1)
    ax.set_xscale("log")
    ax.set_xlabel("compressed file (KiB, log scale)")
    ax.set_ylabel("test accuracy (%)")
    ax.grid(alpha=0.3, which="both")
    return figure
