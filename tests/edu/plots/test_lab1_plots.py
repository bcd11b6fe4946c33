"""Tests of the Lab 1 figures: axes, lines, labels, the log-axis floor and PNG output."""

import subprocess
import sys

import numpy as np
import pytest
from matplotlib.figure import Figure

from edu.plots import (
    LOSS_FLOOR,
    plot_loss_family,
    plot_run,
    plot_weights_family,
    save_figure,
)
from edu.sparse import RunResult, run

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _legend_texts(ax):
    return [text.get_text() for text in ax.get_legend().get_texts()]


def test_plot_run_gives_a_log_loss_figure_and_a_labelled_weights_figure():
    """Is the pair (L on a log axis, one labelled line per weight w_1..w_5) with labels?"""
    loss_figure, weights_figure = plot_run(run("prox", lam=1.0, steps=30), title="ISTA")
    assert isinstance(loss_figure, Figure) and isinstance(weights_figure, Figure)
    (loss_ax,) = loss_figure.axes
    assert loss_ax.get_yscale() == "log"
    assert len(loss_ax.get_lines()) == 1
    assert loss_ax.get_lines()[0].get_xdata().tolist() == list(range(31))
    assert loss_ax.get_xlabel() and loss_ax.get_ylabel() and "ISTA" in loss_ax.get_title()
    (weights_ax,) = weights_figure.axes
    assert _legend_texts(weights_ax) == ["w_1", "w_2", "w_3", "w_4", "w_5"]
    assert weights_ax.get_xlabel() and weights_ax.get_ylabel() and weights_ax.get_title()


def test_zero_losses_are_clipped_to_the_documented_floor():
    """Is a loss of exactly 0 drawn at LOSS_FLOOR > 0, so the log axis stays defined?"""
    weights = np.zeros((3, 5))
    losses = np.array([1.0, 1e-40, 0.0])
    result = RunResult("gd", None, losses, weights, losses, lr=0.02)
    (loss_figure, _) = plot_run(result)
    drawn = loss_figure.axes[0].get_lines()[0].get_ydata()
    assert LOSS_FLOOR > 0
    np.testing.assert_array_equal(drawn, [1.0, LOSS_FLOOR, LOSS_FLOOR])


def test_loss_family_overlays_one_labelled_line_per_run():
    """Does the family figure hold one line per run, labelled by method and lambda?"""
    results = [run("l1", lam=lam, steps=10) for lam in (0.2, 0.5, 1.0, 2.0)]
    figure = plot_loss_family(results, title="(d)")
    (ax,) = figure.axes
    assert ax.get_yscale() == "log"
    assert len(ax.get_lines()) == 4
    assert _legend_texts(ax) == ["l1, lam=0.2", "l1, lam=0.5", "l1, lam=1", "l1, lam=2"]
    assert ax.get_title() == "(d)"


def test_loss_family_can_show_only_the_first_steps():
    """With max_step=20, are only steps 0..20 drawn?"""
    figure = plot_loss_family([run("projected", steps=200)], max_step=20)
    assert figure.axes[0].get_lines()[0].get_xdata().tolist() == list(range(21))


def test_weights_family_has_one_panel_per_run():
    """Does the weights family draw one titled panel per run, 5 weights each?"""
    results = [run("projected", steps=30), run("trimmed", lam=5.0, steps=30)]
    figure = plot_weights_family(results, max_step=20)
    assert [ax.get_title() for ax in figure.axes] == ["projected", "trimmed, lam=5 (t=0.1)"]
    assert _legend_texts(figure.axes[0]) == ["w_1", "w_2", "w_3", "w_4", "w_5"]
    assert figure.axes[1].get_lines()[0].get_xdata().tolist() == list(range(21))


@pytest.mark.parametrize("plot", [plot_loss_family, plot_weights_family])
def test_families_refuse_an_empty_list(plot):
    """Does an empty list of runs raise a clear ValueError?"""
    with pytest.raises(ValueError, match="at least one run"):
        plot([])


def test_save_figure_writes_a_png_and_creates_folders(tmp_path):
    """Does save_figure create the parent folders and write a file with the PNG signature?"""
    loss_figure, _ = plot_run(run("gd", steps=5))
    path = save_figure(loss_figure, tmp_path / "a" / "b" / "loss.png")
    assert path == tmp_path / "a" / "b" / "loss.png"
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    assert save_figure(loss_figure, tmp_path / "bare").name == "bare.png"


def test_plots_never_import_pyplot():
    """Is edu.plots usable without pyplot (so no display and no global figure state)?"""
    code = (
        "import sys, edu.plots, edu.sparse;"
        "edu.plots.plot_run(edu.sparse.run('gd', steps=2));"
        "print('matplotlib.pyplot' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"
