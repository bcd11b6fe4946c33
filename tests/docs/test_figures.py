"""Do the figures of the notes show what the code does, as their captions say?"""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.patches import Polygon, Rectangle

from edu.sparse import DEFAULT_GROUPS, group_soft_threshold, run, soft_threshold


def test_schedule_band_covers_the_epochs_the_mask_is_enforced(docs_ext):
    """Does the shaded band start at epoch 9 (mask_from_epoch) and run to the 20th epoch's end?"""
    import figure_makers

    assert figure_makers.mask_band() == (9, 20)
    (ax,) = figure_makers.schedules().axes
    bands = [p for p in ax.patches if isinstance(p, (Polygon, Rectangle))]
    assert len(bands) == 1
    if isinstance(bands[0], Rectangle):  # axvspan's patch in recent matplotlib
        xs = [bands[0].get_x(), bands[0].get_x() + bands[0].get_width()]
    else:
        xs = list(bands[0].get_xy()[:, 0])
    assert (min(xs), max(xs)) == (9, 20)
    assert "epochs 9-19" in bands[0].get_label()


@pytest.mark.parametrize("bits", [2, 3])
def test_quantizer_legend_counts_grid_levels_and_used_levels(docs_ext, bits):
    """Do the legend's 'grid of G levels, U used' match the formulas, recomputed here?"""
    import figure_makers

    low, high = figure_makers.QUANTIZER_RAMP
    w = np.linspace(low, high, 801)
    # asymmetric: 2^N levels fitted to [low, high], all reached by the ramp
    steps = 2**bits - 1
    asymmetric = np.unique(np.round((w - low) / (high - low) * steps))
    # symmetric: n = 2^(N-1) - 1 steps each side of 0, scaled by max|w|
    n = 2 ** (bits - 1) - 1
    symmetric = np.unique(np.round(n * w / max(abs(low), abs(high))))
    expected = {False: (2**bits, asymmetric.size), True: (2 * n + 1, symmetric.size)}
    assert figure_makers.quantizer_levels(bits, False) == expected[False]
    assert figure_makers.quantizer_levels(bits, True) == expected[True]
    labels = [line.get_label() for line in figure_makers.quantizers().axes[bits - 2].lines]
    for symmetric, (grid, used) in expected.items():
        kind = "symmetric" if symmetric else "asymmetric"
        assert f"{kind}: grid of {grid} levels, {used} used" in labels
    if bits == 3:
        assert expected[True] == (7, 6), "the skewed range must leave a symmetric level unused"


def test_measured_ista_and_fista_gaps_stay_below_their_bounds(docs_ext):
    """Are ISTA's and FISTA's gaps under Beck and Teboulle's O(1/k) and O(1/k^2) bounds?"""
    import figure_makers

    gaps, bounds = figure_makers.rate_curves(0.2, 200)
    for name in ("ISTA", "FISTA"):
        assert np.all(gaps[name] >= -1e-12)
        assert np.all(gaps[name] <= bounds[name])
    assert gaps["FISTA"][-1] < gaps["ISTA"][-1]


def test_group_figure_shows_a_small_entry_kept_by_its_group(docs_ext):
    """Does block thresholding keep the small v_2 of a surviving group that soft zeroes?"""
    import figure_makers

    v = figure_makers.GROUP_EXAMPLE
    block, soft = group_soft_threshold(v, 1.0, DEFAULT_GROUPS), soft_threshold(v, 1.0)
    assert abs(v[1]) < 1.0 and soft[1] == 0.0 and block[1] != 0.0
    assert np.all(block[2:4] == 0.0)


def test_l1_path_starts_above_zero_and_entries_leave_at_the_breakpoints(docs_ext):
    """Does the path skip lam = 0 and does ISTA zero w_3, w_5, w_2 just past 4/3, 8, 22?"""
    import figure_makers

    assert figure_makers.L1_PATH_LAMS.min() > 0
    for lam, j in zip(figure_makers.L1_PATH_BREAKPOINTS, (2, 4, 1), strict=True):
        before = run("prox", lam=lam * 0.97, steps=3000).final_weights[j]
        after = run("prox", lam=lam * 1.03, steps=3000).final_weights[j]
        assert before != 0.0 and after == 0.0


def test_kmeans_figure_shows_both_grids_with_their_errors_recomputed(docs_ext):
    """Are the two rows of marks the linear levels and the k-means centroids, and does the
    legend state each one's squared error, k-means' no larger, as the chapter says?"""
    import re

    import figure_makers
    import torch

    from edu.models import pretrained_resnet20
    from edu.quant import quantize_weights

    (ax,) = figure_makers.kmeans_grid(bits=3).axes
    w = pretrained_resnet20().get_submodule(figure_makers.KMEANS_LAYER).weight.detach().flatten()
    linear, kmeans = ax.collections
    levels = torch.unique(quantize_weights(w, 3)).numpy()
    assert np.allclose(np.sort(linear.get_offsets()[:, 0]), levels)
    assert len(kmeans.get_offsets()) == 8
    labels = [text.get_text() for text in ax.get_legend().get_texts()][1:]
    errors = [float(re.search(r"squared error ([\d.]+)", label).group(1)) for label in labels]
    assert errors[0] == pytest.approx(float(((quantize_weights(w, 3) - w) ** 2).sum()), abs=0.01)
    assert errors[1] < errors[0]
