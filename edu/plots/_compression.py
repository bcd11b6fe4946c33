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
    "FRONTIER_VIEW_BELOW",
    "FrontierPoint",
    "meets_frontier_target",
    "pareto_front",
    "plot_frontier",
    "plot_sensitivity",
]

FRONTIER_MAX_DROP = 0.01
"""The course's target for a compressed model: at most this much test accuracy below the
float model..."""

FRONTIER_MIN_RATIO = 15.0
"""...in a file at least this many times smaller than the float model's float32 state dict."""


def meets_frontier_target(
    accuracy: float, file_bytes: int, float_accuracy: float, float32_bytes: int
) -> bool:
    """Whether a model is in the course's target region (:data:`FRONTIER_MAX_DROP`,
    :data:`FRONTIER_MIN_RATIO`).

    The accuracy drop is compared up to ``1e-9``: accuracies are counts of test images
    over their number, so 0.9036 - 0.8936 is the 1 point it means, not the
    0.010000000000000009 that floating point makes of it.

    Examples
    --------
    >>> meets_frontier_target(0.8936, 73_089, 0.9036, 1_096_336)
    True
    >>> meets_frontier_target(0.8935, 60_000, 0.9036, 1_096_336)
    False
    """
    close_enough = float_accuracy - accuracy <= FRONTIER_MAX_DROP + 1e-9
    return close_enough and float32_bytes / file_bytes >= FRONTIER_MIN_RATIO


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
    """One compressed model: its label, its file's bytes, its test accuracy, and the group
    (the lab) it is coloured by."""

    label: str
    file_bytes: int
    accuracy: float
    group: str = ""


FRONTIER_VIEW_BELOW = 0.06
"""How far below the float model the frontier's accuracy axis reaches; models further
below are marked at its bottom and counted, so that a broken 2-bit model
does not squash the region the targets are about."""


def pareto_front(points: Sequence[FrontierPoint]) -> list[FrontierPoint]:
    """The models no smaller file beats: sorted by size, each more accurate than every
    model of a smaller (or equal) file.

    Parameters
    ----------
    points : sequence of FrontierPoint

    Returns
    -------
    list of FrontierPoint
        The unbeaten models, smallest file first. Of models with the same size and
        accuracy, the first listed stands for all.

    Examples
    --------
    >>> points = [FrontierPoint("a", 10, 0.5), FrontierPoint("b", 20, 0.4),
    ...           FrontierPoint("c", 30, 0.9)]
    >>> [p.label for p in pareto_front(points)]
    ['a', 'c']
    """
    front: list[FrontierPoint] = []
    for point in sorted(points, key=lambda p: (p.file_bytes, -p.accuracy)):
        if not front or point.accuracy > front[-1].accuracy:
            front.append(point)
    return front


def plot_frontier(
    points: Sequence[FrontierPoint], float32_bytes: int, float_accuracy: float
) -> Figure:
    """Test accuracy against compressed file size (log scale), with the targets drawn.

    Each model is a dot coloured by its group; the models no smaller file beats
    (:func:`pareto_front`) are joined by a step line and labelled. The shaded corner is
    the course's target region: within :data:`FRONTIER_MAX_DROP` of the float model's
    accuracy, at least :data:`FRONTIER_MIN_RATIO` times smaller than its float32 state
    dict; the models in it are ringed. The accuracy axis spans
    :data:`FRONTIER_VIEW_BELOW` below the float model; models under it sit at its
    bottom as open triangles, counted in the legend. It
    reaches 1 point above the float model or above the most accurate model, whichever is
    higher, so no model is cut off above.

    Raises
    ------
    ValueError
        If there is no model to plot.
    """
    if not points:
        raise ValueError("the frontier needs at least one model")
    figure = Figure(figsize=(7.5, 4.8), layout="constrained")
    ax = figure.add_subplot()
    floor = 100 * (float_accuracy - FRONTIER_VIEW_BELOW)
    groups = list(dict.fromkeys(point.group for point in points))
    for index, group in enumerate(groups):
        members = [p for p in points if p.group == group]
        shown = [p for p in members if 100 * p.accuracy >= floor]
        below = [p for p in members if 100 * p.accuracy < floor]
        color = f"C{index}"
        ax.scatter(
            [p.file_bytes / 1024 for p in shown],
            [100 * p.accuracy for p in shown],
            s=22,
            color=color,
            label=group or None,
        )
        if below:
            ax.scatter(
                [p.file_bytes / 1024 for p in below],
                [floor] * len(below),
                s=26,
                marker="v",
                facecolors="none",
                edgecolors=color,
                label=f"{group + ': ' if group else ''}{len(below)} below the axis",
            )
    front = [p for p in pareto_front(points) if 100 * p.accuracy >= floor]
    ax.step(
        [p.file_bytes / 1024 for p in front],
        [100 * p.accuracy for p in front],
        where="post",
        color="0.3",
        linewidth=1,
        label="no smaller file is more accurate",
    )
    # Neighbours on the front are often close in both size and accuracy: their labels go
    # to alternating sides at several depths, each tied to its dot by a thin line.
    offsets = [(8, -16), (-8, 12), (-10, 26), (10, -30), (-12, 40)]
    for index, point in enumerate(front):
        dx, dy = offsets[index % len(offsets)]
        ax.annotate(
            point.label,
            (point.file_bytes / 1024, 100 * point.accuracy),
            fontsize=7,
            xytext=(dx, dy),
            textcoords="offset points",
            horizontalalignment="left" if dx > 0 else "right",
            verticalalignment="center",
            arrowprops={"arrowstyle": "-", "color": "0.55", "linewidth": 0.6},
        )
    meeting = [
        p
        for p in points
        if meets_frontier_target(p.accuracy, p.file_bytes, float_accuracy, float32_bytes)
    ]
    if meeting:
        ax.scatter(
            [p.file_bytes / 1024 for p in meeting],
            [100 * p.accuracy for p in meeting],
            s=90,
            facecolors="none",
            edgecolors="tab:green",
            linewidths=1.2,
            label="meets the target",
        )
    target_accuracy = 100 * (float_accuracy - FRONTIER_MAX_DROP)
    target_bytes = float32_bytes / FRONTIER_MIN_RATIO / 1024
    ax.axhline(target_accuracy, color="0.5", linestyle=":", linewidth=1)
    ax.axvline(target_bytes, color="0.5", linestyle=":", linewidth=1)
    top = 100 * max(float_accuracy, *(p.accuracy for p in points)) + 1
    ax.fill_between(
        [1e-9, target_bytes],
        target_accuracy,
        top,
        color="tab:green",
        alpha=0.12,
        label="target",
    )
    ax.set_xscale("log")
    smallest = min(p.file_bytes for p in points) / 1024
    largest = max(max(p.file_bytes for p in points), float32_bytes) / 1024
    ax.set_xlim(smallest / 1.3, largest * 1.3)
    ax.set_ylim(floor - 0.4, top)
    ax.set_xlabel("compressed file (KiB, log scale)")
    ax.set_ylabel("test accuracy (%)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, loc="lower right")
    return figure
