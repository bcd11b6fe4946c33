"""How close two checkpoints are, measured against how far each moved from their start.

Every student's checkpoint of one part starts from the same model (the pretrained
ResNet-20) and moves away from it by training. Two honest runs move independently: with
different data orders their moves point in different directions, and the distance
between the two results is of the order of the moves themselves. A copy, or a copy with
a little noise added, lies much closer to the original than either lies to the start.
So the measure is the ratio

.. math::

    r(a, b) = \\frac{\\|a - b\\|_2}{\\min(\\|a - s\\|_2, \\|b - s\\|_2)}

over the convolution and linear weights (the shortcuts' too), with :math:`s` the start,
counting only the coordinates where the checkpoint's weight is not zero: pruning puts
every student's zeros at nearly the same places, and that shared step must not make two
independent runs look alike. A copy is at 0; independent moves of equal length in
independent directions are sqrt(2) apart. Honest runs of the course are not
fully independent (same start, same recipe), so the threshold of the class report is to
be measured on independent runs of the course's rows (the reproduction's extra seeds).
A checkpoint that did not move from the start at all (pruned, never trained) has no move
to compare with and is nobody's copy: its ratio to anything is infinite. Two students
who prune the same model without training it get the same file honestly, and the
accuracy checks already refuse such a model.

Comparing a whole class pair by pair on full state dicts would hold every checkpoint in
memory; :func:`weight_sketch` reduces each move to a fixed-length count sketch whose
distances estimate the true ones (:func:`sketch_ratio`), small enough to travel with a
student's grading result.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from dataclasses import dataclass

import torch

__all__ = [
    "COPY_RATIO",
    "SKETCH_SIZE",
    "CheckpointPair",
    "WeightSketch",
    "checkpoint_pairs_html",
    "distance_ratio",
    "moved_weights",
    "similar_checkpoints",
    "sketch_ratio",
    "weight_sketch",
]

SKETCH_SIZE = 1024
"""Buckets of a sketch: the squared distances it estimates have a relative standard
deviation of about sqrt(2 / 1024), 4.4 %, the ratios about half that."""

COPY_RATIO = 0.1
"""Checkpoints closer than this ratio are copies (:mod:`edu.grading._copies`): a copy is
0, a copy with noise as large as a tenth of the training's move 0.1; independent moves of
equal length are sqrt(2) apart in high dimension."""


def moved_weights(
    state: Mapping[str, torch.Tensor], start: Mapping[str, torch.Tensor]
) -> torch.Tensor:
    """The move ``state - start`` of every multi-dimensional weight both hold, flattened.

    Only ``*.weight`` tensors of two or more dimensions count (convolutions and linear
    layers, the weights that training and pruning change), and only where ``state`` is
    not zero (a pruned weight's move is the shared pruning step, not training); they are
    concatenated in sorted key order, in float64, zeros where ``state`` is zero.

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
        weight = state[key].double()
        parts.append(((weight - start[key].double()) * (weight != 0)).flatten())
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
    >>> distance_ratio(start, start, start)  # nothing moved: nobody's copy
    inf
    """
    move_a, move_b = moved_weights(a, start), moved_weights(b, start)
    return _ratio(float((move_a - move_b).norm()), float(move_a.norm()), float(move_b.norm()))


def _ratio(between: float, move_a: float, move_b: float) -> float:
    """``between / min(move_a, move_b)``; infinite when either did not move."""
    smaller = min(move_a, move_b)
    return math.inf if smaller == 0.0 else between / smaller


@dataclass(frozen=True)
class WeightSketch:
    """A checkpoint's move from the start, sketched: its buckets and its exact length."""

    buckets: tuple[float, ...]
    move_norm: float

    def as_plain(self) -> dict[str, object]:
        """JSON-ready: a grading result carries it to the class report."""
        return {"buckets": list(self.buckets), "move_norm": self.move_norm}

    @classmethod
    def from_plain(cls, plain: Mapping[str, object]) -> WeightSketch:
        """The sketch :meth:`as_plain` wrote."""
        return cls(tuple(float(x) for x in plain["buckets"]), float(plain["move_norm"]))


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
    return _ratio(math.dist(a.buckets, b.buckets), a.move_norm, b.move_norm)


@dataclass(frozen=True)
class CheckpointPair:
    """Two students whose checkpoints of one name are near-identical."""

    checkpoint: str
    students: tuple[str, str]
    ratio: float


def similar_checkpoints(
    sketches: Mapping[str, Mapping[str, WeightSketch]], threshold: float = COPY_RATIO
) -> list[CheckpointPair]:
    """Every pair of students whose sketches of one checkpoint are closer than ``threshold``.

    Parameters
    ----------
    sketches : mapping of student to (mapping of checkpoint name to WeightSketch)
        What each submission's grading sketched.
    threshold : float
        Report pairs with :func:`sketch_ratio` below it.

    Returns
    -------
    list of CheckpointPair
        By checkpoint name, closest pairs first.
    """
    pairs = []
    names = sorted({name for per_student in sketches.values() for name in per_student})
    for name in names:
        holders = sorted(student for student in sketches if name in sketches[student])
        for i, first in enumerate(holders):
            for second in holders[i + 1 :]:
                ratio = sketch_ratio(sketches[first][name], sketches[second][name])
                if ratio < threshold:
                    pairs.append(CheckpointPair(name, (first, second), ratio))
    return sorted(pairs, key=lambda pair: (pair.checkpoint, pair.ratio, pair.students))


def checkpoint_pairs_html(pairs: list[CheckpointPair], students: int) -> str:
    """The section of the similarity page on checkpoints: the measure, then the pairs."""
    parts = [
        "<h2>Checkpoints</h2>",
        f"<p>{students} submissions' checkpoints compared, name by name. A pair is listed "
        "when the distance between the two checkpoints' convolution and linear weights is "
        f"less than {COPY_RATIO:g} times the shorter of their moves away from the pretrained "
        "model they all start from (estimated from a sketch of each move). Independent "
        "training runs end about as far from each other as from their start; a copied file "
        "is at 0. Both students of a listed pair earn nothing for the checks of that file, "
        "and their feedback says why without naming the other: the grader cannot tell who "
        "trained it. Read the two submissions and give the points back, as a manual grade "
        "in formgrader, to the student who did the work.</p>",
    ]
    if not pairs:
        parts.append("<p>No pair of checkpoints is that close.</p>")
        return "\n".join(parts)
    rows = "".join(
        f"<tr><td><code>{html.escape(p.checkpoint)}</code></td>"
        f"<td>{html.escape(p.students[0])}</td><td>{html.escape(p.students[1])}</td>"
        f'<td class="num">{p.ratio:.3f}</td></tr>'
        for p in pairs
    )
    parts.append(
        "<table><tr><th>checkpoint</th><th>student</th><th>student</th>"
        f"<th>distance / move</th></tr>{rows}</table>"
    )
    return "\n".join(parts)
