"""The checkpoint similarity measure, against exact distances and simulated runs."""

import math

import pytest
import torch

from edu.grading._weight_similarity import (
    WeightSketch,
    checkpoint_pairs_html,
    distance_ratio,
    moved_weights,
    similar_checkpoints,
    sketch_ratio,
    weight_sketch,
)
from edu.models import ResNetCIFAR


@pytest.fixture(scope="module")
def start():
    torch.manual_seed(0)
    return ResNetCIFAR().state_dict()


def _run(start, seed, scale=0.01):
    """A simulated training run: every weight moved by independent noise of its own."""
    generator = torch.Generator().manual_seed(seed)
    return {
        key: value + scale * torch.randn(value.shape, generator=generator)
        if value.is_floating_point()
        else value
        for key, value in start.items()
    }


def test_independent_runs_are_far_apart_and_copies_close(start):
    """Two independent moves of equal length are sqrt(2) apart relative to each; a copy is
    0 and a copy with noise 1 % of the move stays near 0.01."""
    a, b = _run(start, 1), _run(start, 2)
    assert distance_ratio(a, b, start) == pytest.approx(math.sqrt(2), rel=0.01)
    assert distance_ratio(a, a, start) == 0.0
    nudged = {
        k: v + 1e-4 * torch.randn(v.shape) if v.is_floating_point() else v for k, v in a.items()
    }
    assert distance_ratio(a, nudged, start) == pytest.approx(0.01, rel=0.05)


def test_sketches_estimate_the_exact_ratio(start):
    a, b = _run(start, 1), _run(start, 2)
    copy = {k: v.clone() for k, v in a.items()}
    sketches = [weight_sketch(state, start) for state in (a, b, copy)]
    assert sketch_ratio(sketches[0], sketches[1]) == pytest.approx(
        distance_ratio(a, b, start), rel=0.05
    )
    assert sketch_ratio(sketches[0], sketches[2]) == 0.0
    assert sketches[0].move_norm == pytest.approx(float(moved_weights(a, start).norm()))


def test_only_convolution_and_linear_weights_count(start):
    """BatchNorm statistics, biases and counters change with any run: they are left out."""
    moved = dict(start)
    moved["head_conv.0.bn.running_mean"] = start["head_conv.0.bn.running_mean"] + 5
    moved["final_fc.linear.bias"] = start["final_fc.linear.bias"] + 5
    assert float(moved_weights(moved, start).norm()) == 0.0
    assert moved_weights(start, start).numel() == sum(
        v.numel() for k, v in start.items() if k.endswith(".weight") and v.dim() >= 2
    )


def test_an_unmoved_checkpoint_and_mismatched_ones():
    start = {"w.weight": torch.zeros(2, 2)}
    moved = {"w.weight": torch.ones(2, 2)}
    assert distance_ratio(start, moved, start) == math.inf
    assert distance_ratio(start, start, start) == math.inf  # nothing moved: nobody's copy
    with pytest.raises(ValueError, match="shape"):
        distance_ratio({"w.weight": torch.zeros(3, 2)}, moved, start)
    with pytest.raises(ValueError, match="share no"):
        distance_ratio({"v": torch.zeros(1)}, moved, {"v": torch.zeros(1)})
    with pytest.raises(ValueError, match="sizes"):
        sketch_ratio(weight_sketch(moved, start, buckets=8), weight_sketch(moved, start, buckets=4))


def test_class_pairs_list_the_copies_and_not_the_independent_runs(start):
    a, b = _run(start, 1), _run(start, 2)
    nudged = {
        k: v + 1e-4 * torch.randn(v.shape) if v.is_floating_point() else v for k, v in a.items()
    }
    sketches = {
        "ann": {
            "lab2_finetune_70": weight_sketch(a, start),
            "lab3_qat_4bit": weight_sketch(b, start),
        },
        "bob": {"lab2_finetune_70": weight_sketch(nudged, start)},
        "cid": {
            "lab2_finetune_70": weight_sketch(b, start),
            "lab3_qat_4bit": weight_sketch(a, start),
        },
    }
    pairs = similar_checkpoints(sketches)
    assert [(p.checkpoint, p.students) for p in pairs] == [("lab2_finetune_70", ("ann", "bob"))]
    assert pairs[0].ratio == pytest.approx(0.01, abs=0.005)
    page = checkpoint_pairs_html(pairs, 3)
    assert "<td>ann</td><td>bob</td>" in page and "earn nothing for the checks" in page
    assert "No pair" in checkpoint_pairs_html([], 3)


def test_a_sketch_survives_its_trip_through_json(start):
    import json

    sketch = weight_sketch(_run(start, 1), start)
    again = WeightSketch.from_plain(json.loads(json.dumps(sketch.as_plain())))
    assert again == sketch


def test_the_shared_pruning_step_does_not_make_runs_look_alike(start):
    """Two independent finetunes of the same 70 %-pruned model: the zeros they share are
    left out, so they stay sqrt(2) apart, not pulled together by the pruning step."""
    pruned = {}
    for key, value in start.items():
        if key.endswith(".weight") and value.dim() >= 2:
            threshold = value.abs().flatten().kthvalue(int(0.7 * value.numel())).values
            pruned[key] = value * (value.abs() > threshold)
        else:
            pruned[key] = value
    runs = []
    for seed in (1, 2):
        moved = _run(start, seed)
        runs.append(
            {
                k: v * (pruned[k] != 0)
                if k in pruned and v.dim() >= 2 and k.endswith(".weight")
                else v
                for k, v in moved.items()
            }
        )
    assert distance_ratio(runs[0], runs[1], start) == pytest.approx(math.sqrt(2), rel=0.02)
