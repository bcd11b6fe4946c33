"""Tests of the compression figures: the data drawn, the axes, the target lines."""

import random

import pytest

from edu.plots import (
    FRONTIER_MAX_DROP,
    FRONTIER_VIEW_BELOW,
    FrontierPoint,
    meets_frontier_target,
    pareto_front,
    plot_frontier,
    plot_sensitivity,
    save_figure,
)
from edu.prune import SensitivityScan


def test_sensitivity_draws_one_line_per_layer_and_the_unpruned_level(tmp_path):
    scan = SensitivityScan(
        0.9,
        [50.0, 90.0],
        {"head_conv.0.conv": [0.8, 0.1], "body_op.0.conv1.0.conv": [0.9, 0.7]},
        {"head_conv.0.conv": 432, "body_op.0.conv1.0.conv": 2304},
        num_images=1000,
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


def test_pareto_front_is_the_brute_force_one():
    """Is a model on the front exactly when no other file of at most its size is at least
    as accurate, counted pair by pair, with one of several identical models kept (the
    first listed)?"""
    pairs = random.Random(0).choices([(b, a) for b in range(1, 15) for a in range(50, 60)], k=80)
    points = [FrontierPoint(str(i), b, a / 100) for i, (b, a) in enumerate(pairs)]
    assert len(set(pairs)) < len(pairs)  # identical models are among them

    def beats(q, p):
        if q.file_bytes > p.file_bytes or q.accuracy < p.accuracy:
            return False
        identical = (q.file_bytes, q.accuracy) == (p.file_bytes, p.accuracy)
        return not identical or points.index(q) < points.index(p)

    brute = [p for p in points if not any(beats(q, p) for q in points if q is not p)]
    front = pareto_front(points)
    assert sorted(p.label for p in front) == sorted(p.label for p in brute)
    assert [p.file_bytes for p in front] == sorted(p.file_bytes for p in front)


def test_frontier_places_models_draws_the_front_and_the_targets():
    """Is each model drawn at its size and accuracy, coloured by lab, the broken one at
    the axis's bottom and counted, the front a step line with its labels, and the
    target lines at the float model's accuracy minus 1 point and 1/15 of its bytes, and
    the model in the target ringed?"""
    points = [
        FrontierPoint("float", 1_090_000, 0.91, "lab2"),
        FrontierPoint("4-bit", 60_000, 0.905, "lab3"),
        FrontierPoint("6-bit", 200_000, 0.90, "lab3"),  # beaten by 4-bit: off the front
        FrontierPoint("2-bit", 20_000, 0.11, "lab3"),  # far below: on the axis's edge
    ]
    figure = plot_frontier(points, float32_bytes=1_090_000, float_accuracy=0.91)
    (ax,) = figure.axes
    assert ax.get_xscale() == "log"
    floor = 91.0 - 100 * FRONTIER_VIEW_BELOW
    assert ax.get_ylim()[0] < floor < 90.0 < 91.0 < ax.get_ylim()[1]
    dots = [[tuple(xy) for xy in c.get_offsets()] for c in ax.collections[:3]]
    assert dots == [
        [pytest.approx((1_090_000 / 1024, 91.0))],
        [pytest.approx((60_000 / 1024, 90.5)), pytest.approx((200_000 / 1024, 90.0))],
        [pytest.approx((20_000 / 1024, floor))],
    ]
    step, horizontal, vertical = ax.get_lines()
    assert list(step.get_xdata()) == pytest.approx([60_000 / 1024, 1_090_000 / 1024])
    assert horizontal.get_ydata()[0] == pytest.approx(90.0)
    assert vertical.get_xdata()[0] == pytest.approx(1_090_000 / 15 / 1024)
    assert [t.get_text() for t in ax.texts] == ["4-bit", "float"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "lab3: 1 below the axis" in legend
    (ring,) = [c for c in ax.collections if c.get_label() == "meets the target"]
    assert [tuple(xy) for xy in ring.get_offsets()] == [pytest.approx((60_000 / 1024, 90.5))]


def test_no_ring_when_no_model_meets_the_target():
    """Is the 'meets the target' ring absent when every model misses it?"""
    points = [FrontierPoint("float", 1_090_000, 0.91), FrontierPoint("2-bit", 40_000, 0.85)]
    (ax,) = plot_frontier(points, float32_bytes=1_090_000, float_accuracy=0.91).axes
    assert "meets the target" not in [c.get_label() for c in ax.collections]


def test_a_model_above_the_float_model_stays_in_view():
    """With a handful of test images a compressed model can beat the float model by
    points: is it still inside the axis?"""
    points = [FrontierPoint("float", 1_000_000, 0.90), FrontierPoint("lucky", 50_000, 0.95)]
    (ax,) = plot_frontier(points, float32_bytes=1_000_000, float_accuracy=0.90).axes
    assert ax.get_ylim()[1] > 95.0


def test_an_empty_frontier_is_refused():
    with pytest.raises(ValueError, match="at least one model"):
        plot_frontier([], float32_bytes=1_000_000, float_accuracy=0.9)


@pytest.mark.parametrize(
    ("accuracy", "file_bytes", "meets"),
    [
        (0.8936, 73_089, True),  # exactly 1 point below, 15.0x: both bounds are inclusive
        (0.8935, 60_000, False),  # 1.01 points below
        (0.9036, 73_090, False),  # 14.99x
        (0.95, 10_000, True),
    ],
)
def test_the_frontier_target_is_one_point_and_15x_inclusive(accuracy, file_bytes, meets):
    """Is the target met exactly at its bounds, despite 0.9036 - 0.8936 > 0.01 in floats?"""
    assert FRONTIER_MAX_DROP < 0.9036 - 0.8936  # the rounding the check must absorb
    assert meets_frontier_target(accuracy, file_bytes, 0.9036, 1_096_336) is meets
