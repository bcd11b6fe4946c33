"""Figures of Lab 1: losses on a log axis and weight trajectories of the solvers' runs.

Built on :class:`matplotlib.figure.Figure` directly, never ``pyplot``: no display and
no global figure registry are involved, so the functions are safe in scripts, tests
and the docs build. Each function returns its figures; :func:`save_figure` writes one.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from edu.sparse import RunResult

LOSS_FLOOR = 1e-32
"""Losses below this (exact zeros included) are drawn at this value on log axes."""

_FIGSIZE = (6.4, 4.0)


def run_label(result: RunResult) -> str:
    """Return a short legend label for a run: its method and penalty weight.

    Parameters
    ----------
    result : RunResult
        The run.

    Returns
    -------
    str
        ``"method"``, or ``"method, lam=..."`` with the threshold ``lr * lam`` for the
        proximal methods.

    Examples
    --------
    >>> from edu.sparse import run
    >>> run_label(run("prox", lam=0.5, steps=1))
    'prox, lam=0.5 (t=0.01)'
    """
    if result.lam is None:
        return result.method
    label = f"{result.method}, lam={result.lam:g}"
    if result.threshold is not None:
        label += f" (t={result.threshold:.3g})"
    return label


def _draw_losses(ax: Axes, result: RunResult, label: str, max_step: int | None = None) -> None:
    """Draw ``L`` of ``result`` against step on ``ax``, log scale, clipped at LOSS_FLOOR."""
    losses = result.losses if max_step is None else result.losses[: max_step + 1]
    ax.plot(np.arange(losses.size), np.maximum(losses, LOSS_FLOOR), label=label)
    ax.set_yscale("log")
    ax.set_xlabel("step k")
    ax.set_ylabel("L(W_k)  (sum of squares, log scale)")
    ax.grid(True, which="major", alpha=0.3)


def _draw_weights(ax: Axes, result: RunResult, max_step: int | None = None) -> None:
    """Draw every element of ``W_k`` of ``result`` against step on ``ax``, labelled w_i."""
    weights = result.weights if max_step is None else result.weights[: max_step + 1]
    steps = np.arange(weights.shape[0])
    for i in range(weights.shape[1]):
        ax.plot(steps, weights[:, i], label=f"w_{i + 1}")
    ax.axhline(0.0, color="black", linewidth=0.5)
    ax.set_xlabel("step k")
    ax.set_ylabel("weight value")
    ax.grid(True, alpha=0.3)


def plot_run(result: RunResult, *, title: str | None = None) -> tuple[Figure, Figure]:
    """Return the homework's figure pair for one run: the loss and the weights against step.

    Parameters
    ----------
    result : RunResult
        The run, from :func:`edu.sparse.run`.
    title : str, optional
        The figures' title; defaults to the run's label (method and ``lam``).

    Returns
    -------
    loss_figure : Figure
        ``L(W_k)`` against ``k`` on a log y-axis.
    weights_figure : Figure
        Every element ``w_1 .. w_5`` of ``W_k`` against ``k``, one labelled line each.

    Notes
    -----
    Losses below ``LOSS_FLOOR`` (1e-32), exact zeros included, are drawn at
    ``LOSS_FLOOR`` so that the log axis stays defined; gradient descent on the
    underdetermined homework problem reaches losses near 1e-30 (course notes, chapter
    'Sparse optimization', Lab 1(b)).

    Examples
    --------
    >>> from edu.sparse import run
    >>> loss_fig, weights_fig = plot_run(run("projected", steps=10))
    >>> loss_fig.axes[0].get_yscale()
    'log'
    >>> [text.get_text() for text in weights_fig.axes[0].get_legend().get_texts()]
    ['w_1', 'w_2', 'w_3', 'w_4', 'w_5']
    """
    title = run_label(result) if title is None else title
    loss_figure = Figure(figsize=_FIGSIZE, layout="constrained")
    ax = loss_figure.add_subplot()
    _draw_losses(ax, result, label=run_label(result))
    ax.set_title(f"{title}: loss", fontsize="medium")

    weights_figure = Figure(figsize=_FIGSIZE, layout="constrained")
    ax = weights_figure.add_subplot()
    _draw_weights(ax, result)
    ax.set_title(f"{title}: weights", fontsize="medium")
    ax.legend(loc="best")
    return loss_figure, weights_figure


def plot_loss_family(
    results: Sequence[RunResult], *, title: str | None = None, max_step: int | None = None
) -> Figure:
    """Return one figure with the log-scale loss curves of several runs overlaid.

    Parameters
    ----------
    results : sequence of RunResult
        The runs, e.g. one per ``lam`` of a Lab 1 part; at least one.
    title : str, optional
        The figure's title; defaults to ``"loss"``.
    max_step : int, optional
        Draw only steps ``0 .. max_step`` (e.g. 20 to compare the first steps of
        trimmed L1 and projected GD, Lab 1(f)); all steps by default.

    Returns
    -------
    Figure
        ``L(W_k)`` against ``k`` on a log y-axis, one labelled line per run
        (labelled by method and ``lam``).

    Raises
    ------
    ValueError
        If ``results`` is empty.

    Notes
    -----
    Losses below ``LOSS_FLOOR`` (1e-32), exact zeros included, are drawn at
    ``LOSS_FLOOR``. The loss drawn is always ``L``, never the penalised objective,
    so that runs of different methods compare on one scale.

    Examples
    --------
    >>> from edu.sparse import run
    >>> fig = plot_loss_family([run("prox", lam=lam, steps=10) for lam in (0.2, 2.0)])
    >>> [line.get_label() for line in fig.axes[0].get_lines()]
    ['prox, lam=0.2 (t=0.004)', 'prox, lam=2 (t=0.04)']
    """
    if not results:
        raise ValueError("results must hold at least one run")
    figure = Figure(figsize=_FIGSIZE, layout="constrained")
    ax = figure.add_subplot()
    for result in results:
        _draw_losses(ax, result, label=run_label(result), max_step=max_step)
    ax.set_title("loss" if title is None else title)
    ax.legend(loc="best")
    return figure


def plot_weights_family(
    results: Sequence[RunResult], *, title: str | None = None, max_step: int | None = None
) -> Figure:
    """Return one figure with the weight trajectories of several runs side by side.

    Parameters
    ----------
    results : sequence of RunResult
        The runs; at least one. Each gets its own panel, all on one y-scale.
    title : str, optional
        The figure's title; defaults to ``"weights"``.
    max_step : int, optional
        Draw only steps ``0 .. max_step`` (e.g. 20 to see which entries trimmed L1
        and projected GD keep in their first steps, Lab 1(f)); all steps by default.

    Returns
    -------
    Figure
        One panel per run (titled by method and ``lam``) with every element
        ``w_1 .. w_n`` of ``W_k`` against ``k``; the legend is on the first panel.

    Raises
    ------
    ValueError
        If ``results`` is empty.

    Examples
    --------
    >>> from edu.sparse import run
    >>> fig = plot_weights_family([run("projected", steps=5), run("trimmed", lam=5.0, steps=5)])
    >>> [ax.get_title() for ax in fig.axes]
    ['projected', 'trimmed, lam=5 (t=0.1)']
    """
    if not results:
        raise ValueError("results must hold at least one run")
    width, height = _FIGSIZE
    figure = Figure(figsize=(width * len(results) * 0.75, height), layout="constrained")
    axes = figure.subplots(1, len(results), sharey=True, squeeze=False)[0]
    for ax, result in zip(axes, results, strict=True):
        _draw_weights(ax, result, max_step=max_step)
        ax.set_title(run_label(result))
    axes[0].legend(loc="best")
    figure.suptitle("weights" if title is None else title)
    return figure


def save_figure(figure: Figure, path: str | Path) -> Path:
    """Write ``figure`` to ``path`` as a PNG, creating the parent folders.

    Parameters
    ----------
    figure : Figure
        The figure to write.
    path : str or Path
        The file to write; a ``.png`` suffix is added when it has none.

    Returns
    -------
    Path
        The path written.

    Examples
    --------
    >>> import tempfile
    >>> from edu.sparse import run
    >>> fig, _ = plot_run(run("gd", steps=5))
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     save_figure(fig, Path(folder) / "sub" / "gd_loss").name
    'gd_loss.png'
    """
    path = Path(path)
    if path.suffix.lower() != ".png":
        path = path.with_name(path.name + ".png")
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png", dpi=120)
    return path
