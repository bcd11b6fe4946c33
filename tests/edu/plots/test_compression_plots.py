"""Tests of the compression figures: the data drawn, the axes, the target lines."""

import pytest

from edu.plots import FrontierPoint, plot_frontier, plot_sensitivity, save_figure
from edu.prune import SensitivityScan


def test_sensitivity_draws_one_line_per_layer_and_the_unpruned_level(tmp_path):
    scan = SensitivityScan(
        0.9,
        [50.0, 90.0],
        {"head_conv.0.conv": [0.8, 0.1], "body_op.0.conv1.0.conv": [0.9, 0.7]},
        {"head_conv.0.conv": 432, "body_op.0.conv1.0.conv": 2304},
    )
    figure = plot_sensitivity(scan)
    (ax,) = figure.axes
    lines = ax.get_lines()
    assert [list(line.get_ydata()) for line in lines[:2]] == [[0.8, 0.1], [0.9, 0.7]]
    assert list(lines[2].get_ydata()) == [0.9, 0.9]
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels == ["head_conv", "block 0.conv1", "unpruned"]
    save_figure(figure, tmp_path / "scan.png")
    assert (tmp_path / "scan.png").read_bytes().startswith(b"\x89PNG")


def test_frontier_places_each_model_by_size_and_accuracy_with_the_targets():
    points = [FrontierPoint("float", 1_090_000, 0.91), FrontierPoint("4-bit", 60_000, 0.905)]
    figure = plot_frontier(points, float32_bytes=1_090_000, float_accuracy=0.91)
    (ax,) = figure.axes
    assert ax.get_xscale() == "log"
    offsets = [tuple(c.get_offsets()[0]) for c in ax.collections]
    assert offsets == [
        pytest.approx((1_090_000 / 1024, 91.0)),
        pytest.approx((60_000 / 1024, 90.5)),
    ]
    horizontal, vertical = ax.get_lines()
    assert horizontal.get_ydata()[0] == pytest.approx(90.0)
    assert vertical.get_xdata()[0] == pytest.approx(1_090_000 / 15 / 1024)
    assert [t.get_text() for t in ax.texts] == ["float", "4-bit"]
