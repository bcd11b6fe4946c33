"""The figures of the course notes, each drawn by calling ``edu`` (used by ``edu_figures``).

Every maker returns a :class:`matplotlib.figure.Figure` (no pyplot). The Lab 1 figures
come straight from :mod:`edu.plots`; the others illustrate one operator of the package
(soft, hard, trimmed and group thresholding, the pruning schedules, the quantizer) by
evaluating it, so that what the notes show is what the code computes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from edu.plots import plot_loss_family, plot_weights_family
from edu.prune import IterativePruning, cubic_sparsity, iterative_sparsity
from edu.quant import quantize_weights
from edu.sparse import (
    DEFAULT_GROUPS,
    LAB1_PARTS,
    group_soft_threshold,
    hard_threshold,
    run,
    run_part,
    soft_threshold,
    trimmed_soft_threshold,
)

_SIZE = (6.4, 3.6)

PANELS_PER_ROW = 2
"""Weight panels per row of a Lab 1 figure (one row per ``plot_weights_family`` call)."""


@dataclass(frozen=True)
class Maker:
    """How to draw one kind of figure.

    Attributes
    ----------
    draw : callable (**options) -> Figure or list of Figure
        A list is stacked top to bottom into one picture.
    options : tuple of str
        The directive options ``draw`` accepts (as keyword arguments).
    modules : tuple of str
        The ``edu`` packages it calls: the notes depend on their source files.
    alt : str
        Default alternative text.
    """

    draw: Callable[..., Figure | list[Figure]]
    options: tuple[str, ...]
    modules: tuple[str, ...]
    alt: str


def _limit(figure: Figure, xlim: Sequence[float] | None, ylim: Sequence[float] | None) -> Figure:
    for ax in figure.axes:
        if xlim is not None:
            ax.set_xlim(*xlim)
        if ylim is not None:
            ax.set_ylim(*ylim)
    return figure


def lab1(
    parts: Sequence[str],
    kind: str = "loss",
    lams: Sequence[float] | None = None,
    max_step: int | None = None,
    xlim: Sequence[float] | None = None,
    ylim: Sequence[float] | None = None,
) -> list[Figure]:
    """Lab 1 runs of the named parts (spec hyperparameters): losses or weights.

    ``lams`` keeps only the runs with those penalty weights (runs without a penalty
    are always kept); ``max_step`` shows only the first steps. Weights are drawn by
    :func:`edu.plots.plot_weights_family` two runs per figure, so that the panels stay
    legible at the width of a page; the figures are stacked into one picture.
    """
    by_name = {part.name: part for part in LAB1_PARTS}
    unknown = [name for name in parts if name not in by_name]
    if unknown:
        raise ValueError(f"unknown Lab 1 parts {unknown}; known: {', '.join(by_name)}")
    runs = [
        result
        for name in parts
        for result in run_part(by_name[name])
        if lams is None or result.lam is None or result.lam in lams
    ]
    if not runs:
        raise ValueError(f"no run of parts {list(parts)} has lam in {list(lams or [])}")
    title = " and ".join(by_name[name].title for name in parts)
    if max_step is not None:
        title = f"first {max_step} steps: {title}"
    if kind == "loss":
        figures = [plot_loss_family(runs, title=title, max_step=max_step)]
    else:
        figures = [
            plot_weights_family(runs[i : i + PANELS_PER_ROW], title=title, max_step=max_step)
            for i in range(0, len(runs), PANELS_PER_ROW)
        ]
    return [_limit(figure, xlim, ylim) for figure in figures]


L1_PATH_LAMS = np.concatenate([np.linspace(0.1, 2.0, 20), np.linspace(2.5, 24.0, 44)])
"""The penalty weights of the path figure: from a small ``lam > 0``, since ``lam = 0`` is
plain gradient descent, whose limit (the minimum-norm solution) is not the limit of the
path (the minimum-L1 interpolant)."""

L1_PATH_BREAKPOINTS = (4 / 3, 8.0, 22.0)
"""Where ``w_3``, ``w_5`` and ``w_2`` reach 0 (derived in the notes, :ref:`l1-path`)."""


def l1_path(lams: Sequence[float] | None = None) -> Figure:
    """The ISTA solution of Lab 1 against ``lam``: entries reach exactly 0 one by one."""
    grid = L1_PATH_LAMS if lams is None else np.asarray(lams, dtype=float)
    finals = np.array([run("prox", lam=lam, steps=3000).final_weights for lam in grid])
    figure = Figure(figsize=_SIZE, layout="constrained")
    ax = figure.add_subplot()
    for i in range(finals.shape[1]):
        ax.plot(grid, finals[:, i], marker=".", markersize=4, label=f"w_{i + 1}")
    for lam in L1_PATH_BREAKPOINTS:
        ax.axvline(lam, color="grey", linestyle=":", linewidth=1)
    ax.axhline(0.0, color="black", linewidth=0.5)
    ax.set_xlabel("lam  (ISTA, lr = 0.02, 3000 steps from W = 0; dotted: 4/3, 8, 22)")
    ax.set_ylabel("final weight")
    ax.set_title("L1 regularization path of the Lab 1 problem")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best")
    return figure


def rates(lam: float = 0.2, steps: int = 200) -> Figure:
    """ISTA's and FISTA's measured objective gaps on Lab 1 against their bounds.

    ``F* `` is the objective after 5000 ISTA steps; the bounds are Beck and
    Teboulle's, ``||W_0 - W*||^2 / (2 lr k)`` for ISTA and
    ``2 ||W_0 - W*||^2 / (lr (k + 1)^2)`` for FISTA (valid for ``lr <= 1 / Lip``).
    """
    gaps, bounds = rate_curves(lam, steps)
    k = np.arange(1, steps + 1)
    figure = Figure(figsize=_SIZE, layout="constrained")
    ax = figure.add_subplot()
    for name, style in (("ISTA", "-"), ("FISTA", "-")):
        ax.plot(k, np.maximum(gaps[name], 1e-16), style, label=f"{name}: F(W_k) - F*")
        ax.plot(k, bounds[name], "--", label=f"{name} bound")
    ax.set_yscale("log")
    ax.set_ylim(1e-16, None)
    _label(
        ax,
        "step k",
        "objective gap (log)",
        f"lasso of Lab 1, lam = {lam:g}: measured gaps and the O(1/k), O(1/k^2) bounds",
        legend="lower left",
    )
    return figure


def rate_curves(lam: float, steps: int) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Objective gaps ``F(W_k) - F*`` for ``k = 1..steps`` and their bounds, by method."""
    optimum_run = run("prox", lam=lam, steps=5000)
    optimum = optimum_run.penalized_losses[-1]
    distance = float(np.sum(optimum_run.final_weights**2))  # ||W_0 - W*||^2, W_0 = 0
    lr = optimum_run.lr
    k = np.arange(1, steps + 1)
    gaps = {
        "ISTA": run("prox", lam=lam, steps=steps).penalized_losses[1:] - optimum,
        "FISTA": run("fista", lam=lam, steps=steps).penalized_losses[1:] - optimum,
    }
    bounds = {"ISTA": distance / (2 * lr * k), "FISTA": 2 * distance / (lr * (k + 1) ** 2)}
    return gaps, bounds


def _label(ax: Axes, xlabel: str, ylabel: str, title: str, *, legend: str) -> None:
    """Axis labels, title, a light grid and a small legend at ``legend``."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(loc=legend, fontsize="small")


def _bars(ax: Axes, series: dict[str, np.ndarray]) -> None:
    width = 0.8 / len(series)
    for j, (label, values) in enumerate(series.items()):
        positions = np.arange(values.size) + (j - (len(series) - 1) / 2) * width
        ax.bar(positions, values, width=width, label=label)
    size = next(iter(series.values())).size
    ax.set_xticks(np.arange(size), [f"v_{i + 1}" for i in range(size)])
    ax.axhline(0.0, color="black", linewidth=0.5)
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(loc="best", fontsize="small")


PROX_EXAMPLE = np.array([2.4, -1.6, 0.9, -0.5, 0.2])
"""The vector the operator figures are applied to (an illustration, not Lab 1 data)."""


def prox_operators() -> Figure:
    """Soft, hard and trimmed soft thresholding applied to one vector, side by side."""
    t, k = 0.6, 2
    figure = Figure(figsize=_SIZE, layout="constrained")
    ax = figure.add_subplot()
    _bars(
        ax,
        {
            "v": PROX_EXAMPLE,
            f"soft_threshold(v, {t})": soft_threshold(PROX_EXAMPLE, t),
            f"hard_threshold(v, {k})": hard_threshold(PROX_EXAMPLE, k),
            f"trimmed_soft_threshold(v, {t}, {k})": trimmed_soft_threshold(PROX_EXAMPLE, t, k),
        },
    )
    ax.set_title(f"one proximal step on v: threshold t = {t}, k = {k} entries kept or free")
    return figure


def soft_threshold_map() -> Figure:
    """The scalar map ``v -> soft_threshold(v, t)`` beside the identity: a dead zone and a shift."""
    t = 1.0
    v = np.linspace(-3.0, 3.0, 601)
    figure = Figure(figsize=_SIZE, layout="constrained")
    ax = figure.add_subplot()
    ax.plot(v, v, linestyle="--", color="grey", label="identity (no penalty)")
    ax.plot(v, soft_threshold(v, t), linewidth=2, label=f"soft_threshold(v, t={t:g})")
    ax.annotate(
        "",
        xy=(2.5, 2.5 - t),
        xytext=(2.5, 2.5),
        arrowprops={"arrowstyle": "<->", "color": "black"},
    )
    ax.text(2.55, 2.5 - t / 2, "per-step\nshift t", va="center", fontsize="small")
    ax.axvspan(-t, t, alpha=0.12, label="|v| <= t: set to exactly 0")
    _label(
        ax,
        "v (after the gradient step)",
        "prox output",
        "soft thresholding, the prox of t |x|",
        legend="upper left",
    )
    return figure


GROUP_EXAMPLE = np.array([3.0, 0.3, 0.3, -0.4, 2.0])
"""The group figure's vector: its first group, of norm above the threshold, holds a
small entry that block thresholding keeps and soft thresholding zeroes."""


def group_prox() -> Figure:
    """Block soft thresholding against elementwise soft thresholding on one vector."""
    t = 1.0
    groups = " ".join("{" + ",".join(str(i + 1) for i in g) + "}" for g in DEFAULT_GROUPS)
    figure = Figure(figsize=_SIZE, layout="constrained")
    ax = figure.add_subplot()
    _bars(
        ax,
        {
            "v": GROUP_EXAMPLE,
            f"soft_threshold(v, {t:g})": soft_threshold(GROUP_EXAMPLE, t),
            f"group_soft_threshold(v, {t:g}, groups)": group_soft_threshold(
                GROUP_EXAMPLE, t, DEFAULT_GROUPS
            ),
        },
    )
    ax.set_title(f"groups {groups}: a group is scaled or zeroed as a whole")
    return figure


SCHEDULE_EPOCHS = 20
"""Epochs of Lab 2 (d) in the spec."""


def mask_band(prune_epochs: int = 10) -> tuple[int, int]:
    """The epochs ``[first, end)`` trained with the mask enforced, as the code runs them."""
    return IterativePruning(prune_epochs=prune_epochs).mask_from_epoch, SCHEDULE_EPOCHS


def schedules() -> Figure:
    """The iterative (linear) schedule of Lab 2 (d) and the cubic one of Zhu and Gupta.

    Epoch ``e`` is drawn as the interval ``[e, e + 1)``; its value is the target the
    model is pruned to before it. The band covers the epochs trained with the mask
    enforced (:attr:`edu.prune.IterativePruning.mask_from_epoch` on).
    """
    edges = np.arange(SCHEDULE_EPOCHS + 1)
    epochs = edges[:-1]
    first, end = mask_band()
    figure = Figure(figsize=_SIZE, layout="constrained")
    ax = figure.add_subplot()
    ax.stairs(
        [iterative_sparsity(e, 70.0, 10) for e in epochs],
        edges,
        linewidth=2,
        label="iterative_sparsity(e, final=70, prune_epochs=10)",
    )
    ax.stairs(
        [cubic_sparsity(e, end_step=9, final=70.0) for e in epochs],
        edges,
        linewidth=2,
        linestyle="--",
        label="cubic_sparsity(e, end_step=9, final=70)",
    )
    ax.axvspan(first, end, alpha=0.1, label=f"mask enforced: epochs {first}-{end - 1}")
    ax.set_xticks(edges[::2])
    ax.set_xlim(0, end)
    _label(
        ax,
        "epoch e (the interval [e, e + 1); pruned before it)",
        "target sparsity (%)",
        f"sparsity schedules over {SCHEDULE_EPOCHS} epochs",
        legend="lower right",
    )
    return figure


QUANTIZER_RAMP = (-1.0, 0.6)
"""The weight range of the quantizer figure: skewed, so that a symmetric grid (fitted to
``max |w| = 1``) can have levels the weights never reach (at 3 bits, +1)."""


def quantizer_levels(bits: int, symmetric: bool) -> tuple[int, int]:
    """Levels of the grid and levels used by the ramp of :func:`quantizers`.

    The asymmetric grid has ``2^N`` levels, the symmetric one ``2^N - 1``; the ramp
    uses all of the first, and of the second those its values round to.
    """
    w = torch.linspace(*QUANTIZER_RAMP, 801, dtype=torch.float64)
    used = torch.unique(quantize_weights(w, bits, symmetric=symmetric)).numel()
    return (2**bits - 1 if symmetric else 2**bits), used


def quantizers() -> Figure:
    """``quantize_weights`` on a ramp of weights: asymmetric and symmetric, 2 and 3 bits."""
    w = torch.linspace(*QUANTIZER_RAMP, 801, dtype=torch.float64)
    figure = Figure(figsize=(_SIZE[0] * 1.4, _SIZE[1]), layout="constrained")
    axes = figure.subplots(1, 2, sharey=True)
    for ax, bits in zip(axes, (2, 3), strict=True):
        ax.plot(w, w, linestyle="--", color="grey", label="float w")
        for symmetric in (False, True):
            wq = quantize_weights(w, bits, symmetric=symmetric)
            grid, used = quantizer_levels(bits, symmetric)
            kind = "symmetric" if symmetric else "asymmetric"
            ax.plot(w, wq, label=f"{kind}: grid of {grid} levels, {used} used")
        low, high = QUANTIZER_RAMP
        ax.set_title(f"{bits} bits, weights in [{low:g}, {high:g}]")
        ax.set_xlabel("float weight w")
        ax.grid(True, alpha=0.3)
        ax.legend(loc="upper left", fontsize="small")
    axes[0].set_ylabel("quantize_weights(w, bits)")
    return figure


KMEANS_LAYER = "body_op.6.conv1.0.conv"
"""The layer of the pretrained model whose grids :func:`kmeans_grid` compares."""


def kmeans_grid(bits: int = 3) -> Figure:
    """One layer's weights with the linear grid and the k-means codebook at ``bits`` bits.

    The histogram is of the pretrained model's weights; the levels of
    :func:`edu.quant.quantize_weights` and the centroids of
    :func:`edu.compress.kmeans_quantize` are drawn under it, each with its squared error.
    """
    from edu.compress import kmeans_quantize
    from edu.models import pretrained_resnet20

    w = pretrained_resnet20().get_submodule(KMEANS_LAYER).weight.detach().flatten()
    figure = Figure(figsize=(_SIZE[0] * 1.2, _SIZE[1]), layout="constrained")
    ax = figure.add_subplot()
    ax.hist(w.numpy(), bins=120, color="0.75", label=f"weights of {KMEANS_LAYER}")
    top = ax.get_ylim()[1]
    for row, (name, wq) in enumerate(
        (("linear grid", quantize_weights(w, bits)), ("k-means codebook", kmeans_quantize(w, bits)))
    ):
        error = float(((wq - w) ** 2).sum())
        levels = torch.unique(wq).numpy()
        height = top * (1.02 + 0.06 * row)
        ax.scatter(
            levels,
            np.full(levels.shape, height),
            marker="|",
            s=200,
            label=f"{name}: {levels.size} levels, squared error {error:.2f}",
        )
    ax.set_xlabel("weight")
    ax.set_ylabel("count")
    ax.set_title(f"{bits}-bit grids of one layer")
    ax.legend(loc="upper left", fontsize="small")
    return figure


_SPARSE = ("edu.sparse",)

MAKERS: dict[str, Maker] = {
    "lab1": Maker(
        lab1,
        ("parts", "kind", "lams", "max_step", "xlim", "ylim"),
        ("edu.sparse", "edu.plots"),
        "Lab 1 runs drawn by edu.plots",
    ),
    "l1-path": Maker(l1_path, ("lams",), _SPARSE, "ISTA solutions of Lab 1 against lambda"),
    "prox-operators": Maker(
        prox_operators, (), _SPARSE, "soft, hard and trimmed thresholding of one vector"
    ),
    "soft-threshold-map": Maker(
        soft_threshold_map, (), _SPARSE, "the soft-thresholding map against the identity"
    ),
    "group-prox": Maker(group_prox, (), _SPARSE, "block against elementwise soft thresholding"),
    "rates": Maker(rates, (), _SPARSE, "objective gaps of ISTA and FISTA against their bounds"),
    "schedules": Maker(
        schedules, (), ("edu.prune",), "iterative and cubic sparsity schedules over 20 epochs"
    ),
    "kmeans-grid": Maker(
        kmeans_grid,
        ("bits",),
        ("edu.compress", "edu.quant", "edu.models"),
        "a layer's weight histogram with its linear and k-means levels",
    ),
    "quantizers": Maker(
        quantizers, (), ("edu.quant",), "asymmetric and symmetric quantizers on a ramp of weights"
    ),
}
"""The figures the ``edu-figure`` directive knows, by name."""
