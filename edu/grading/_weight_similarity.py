"""How close two checkpoints are, measured against how far each moved from their start.

Every student's checkpoint of one part starts from the same model (the pretrained
ResNet-20) and moves away from it by training. Two honest runs move independently: with
different data orders their moves point in different directions, and the distance
between the two results is of the order of the moves themselves. A copy, or a copy with
a little noise added, lies much closer to the original than either lies to the start.
So the measure is the ratio

.. math::

    r(a, b) = \\frac{\\|a - b\\|_2}{\\min(\\|a - s\\|_2, \\|b - s\\|_2)}

over the weights of the prunable layers, with :math:`s` the start: 0 for a copy, about 1
or more for independent runs, whatever the scale of the weights or the length of the
training. A checkpoint that did not move from the start at all has no move to compare
with; it is reported as identical to the start (ratio 0) when equal to it.

Comparing a whole class pair by pair on full state dicts would hold every checkpoint in
memory; :func:`weight_sketch` reduces each move to a fixed-length count sketch whose
distances estimate the true ones (:func:`sketch_ratio`), small enough to travel with a
student's grading result.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import torch

__all__ = [
    "SKETCH_SIZE",
    "WeightSketch",
    "distance_ratio",
    "moved_weights",
    "sketch_ratio",
    "weight_sketch",
]

SKETCH_SIZE = 4096
"""Buckets of a sketch: its distances are within a few percent of the true ones."""


def moved_weights(
    state: Mapping[str, torch.Tensor], start: Mapping[str, torch.Tensor]
) -> torch.Tensor:
    """The move ``state - start`` of every multi-dimensional weight both hold, flattened.

    Only ``*.weight`` tensors of two or more dimensions count (convolutions and linear
    layers, the weights that training and pruning change); they are concatenated in
    sorted key order, in float64.

    Raises
    ------
    ValueError
        If the two hold no such weight in common, or a common one differs in shape.
    """
    keys = sorted(
        key
        for key, value in start.items()
        if key.endswith(".weight") and value.dim() >= 2 and key in state
    )
    if not keys:
        raise ValueError("the checkpoints share no convolution or linear weight")
    parts = []
    for key in keys:
        if state[key].shape != start[key].shape:
            raise ValueError(
                f"{key}: shape {list(state[key].shape)}, the start has {list(start[key].shape)}"
            )
        parts.append((state[key].double() - start[key].double()).flatten())
    return torch.cat(parts)


def distance_ratio(
    a: Mapping[str, torch.Tensor], b: Mapping[str, torch.Tensor], start: Mapping[str, torch.Tensor]
) -> float:
    """:math:`r(a, b)` of the module docstring, computed on the full weights.

    Examples
    --------
    >>> start = {"w.weight": torch.zeros(2, 2)}
    >>> a = {"w.weight": torch.tensor([[1.0, 0.0], [0.0, 0.0]])}
    >>> b = {"w.weight": torch.tensor([[0.0, 1.0], [0.0, 0.0]])}
    >>> round(distance_ratio(a, b, start), 4), distance_ratio(a, a, start)
    (1.4142, 0.0)
    """
    move_a, move_b = moved_weights(a, start), moved_weights(b, start)
    between = float((move_a - move_b).norm())
    if between == 0.0:
        return 0.0
    smaller = min(float(move_a.norm()), float(move_b.norm()))
    return math.inf if smaller == 0.0 else between / smaller


@dataclass(frozen=True)
class WeightSketch:
    """A checkpoint's move from the start, sketched: its buckets and its exact length."""

    buckets: tuple[float, ...]
    move_norm: float


def _hashes(size: int, buckets: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The bucket and the sign of each coordinate: the same for every student (fixed seed)."""
    generator = torch.Generator().manual_seed(seed)
    bucket = torch.randint(0, buckets, (size,), generator=generator)
    sign = torch.randint(0, 2, (size,), generator=generator).double() * 2 - 1
    return bucket, sign


def weight_sketch(
    state: Mapping[str, torch.Tensor],
    start: Mapping[str, torch.Tensor],
    buckets: int = SKETCH_SIZE,
    seed: int = 0,
) -> WeightSketch:
    """A count sketch of ``state``'s move from ``start`` (Charikar, Chen and Farach-Colton, 2002).

    Each coordinate of the move is added, with a random sign, to one of ``buckets``
    buckets; the hash is fixed by ``seed``, the same for every checkpoint compared. The
    squared distance of two sketches estimates the squared distance of the moves without
    bias.
    """
    move = moved_weights(state, start)
    bucket, sign = _hashes(move.numel(), buckets, seed)
    sketch = torch.zeros(buckets, dtype=torch.float64).index_add_(0, bucket, sign * move)
    return WeightSketch(tuple(sketch.tolist()), float(move.norm()))


def sketch_ratio(a: WeightSketch, b: WeightSketch) -> float:
    """The estimate of :math:`r(a, b)` from two sketches made with the same hash."""
    if len(a.buckets) != len(b.buckets):
        raise ValueError("sketches of different sizes cannot be compared")
    between = math.dist(a.buckets, b.buckets)
    if between == 0.0:
        return 0.0
    smaller = min(a.move_norm, b.move_norm)
    return math.inf if smaller == 0.0 else between / smaller
