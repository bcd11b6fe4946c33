"""How close two checkpoints are, by what their networks compute.

Every student's checkpoint of one part starts from the same model (the pretrained
ResNet-20) and moves away from it by training. The measure compares the moves of the
networks' outputs, not of their weights: many edits change the weights and leave the
network's function as it was (scaling a convolution by ``c`` and its BatchNorm's running
mean by ``c`` and variance by ``c**2``; flipping the signs of a filter and of its
BatchNorm scale; permuting a block's inner channels; moving a weight inside its
quantization bin), and a copy dressed up that way must still read as a copy.

The probe is a fixed batch of :data:`PROBE_IMAGES` images drawn from a standard normal
distribution in the network's normalized input space (seed :data:`PROBE_SEED`), the same
for every checkpoint and needing no data set. A network's *signature* is its
log-probabilities of the ten classes on the probe, in float64, the network run the way
the grader runs it (through the quantizer for a quantized checkpoint). A checkpoint's
*move* is its signature minus the signature of the pretrained model run the same way,
and two checkpoints are compared by

.. math::

    r(a, b) = \\frac{\\|m_a - m_b\\|_2}{\\min(\\|m_a\\|_2, \\|m_b\\|_2)}.

A copy is at 0 (a function-preserving edit too); independent moves of equal length in
independent directions are sqrt(2) apart. Honest runs of the course share their start
and recipe, so they are closer: two 20-epoch runs of one homework checkpoint with
different seeds from the same pretrained model are 0.43 to 1.4 apart (the closest, two
runs of Lab 2 (c)), and a copy of a float checkpoint whose weights got Gaussian noise
of 2 % of each layer's spread 0.11 to 0.14 (``scripts/checkpoint_distances.py``
measures both on the reproduction's runs; ``grader/README.md`` gives the numbers). A
copy with noise of about 10 %, which costs it about two points of accuracy, is as far
as an independent run: no measure of the file alone tells them apart, and it stays a
matter for the code similarity report and for the instructor.

A checkpoint whose network computes what the pretrained model computes has no move: it
is nobody's copy (its ratio to anything is infinite). Nor is one that computes what the
pretrained model pruned to the same zeros computes (:mod:`edu.grading._copies`): students
who skip the training hand in that file honestly, and the accuracy checks refuse it.
"""

from __future__ import annotations

import functools
import html
import math
from collections.abc import Hashable, Mapping
from dataclasses import dataclass

import torch
from torch import nn

__all__ = [
    "COPY_RATIO",
    "PROBE_IMAGES",
    "PROBE_SEED",
    "CheckpointPair",
    "OutputMove",
    "checkpoint_pairs_html",
    "move_ratio",
    "output_signature",
    "similar_checkpoints",
]

PROBE_IMAGES = 128
"""Images of the probe: the ratio of two runs varies by about 0.03 between probes of this
size, and a move is 1,280 numbers, small enough to travel with a grading result."""

PROBE_SEED = 0
"""The seed of the probe's images."""

COPY_RATIO = 0.14
"""Checkpoints closer than this ratio are copies (:mod:`edu.grading._copies`): a copy is
0, and the closest independent runs of the course measured are 0.43 apart, three times
this (module docstring)."""


@functools.cache
def _probe() -> torch.Tensor:
    generator = torch.Generator().manual_seed(PROBE_SEED)
    return torch.randn(PROBE_IMAGES, 3, 32, 32, generator=generator)


def output_signature(net: nn.Module, probe: torch.Tensor | None = None) -> torch.Tensor:
    """The log-probabilities ``net`` gives the probe's images, flattened, in float64.

    ``net`` runs in eval mode (BatchNorm on its running statistics, as graded) on the CPU;
    its mode is restored afterwards. ``probe`` replaces the grader's Gaussian images
    (normalized images, N x 3 x 32 x 32) where a study compares probes
    (``scripts/checkpoint_distances.py``); grading always uses the default.
    """
    training = net.training
    net.eval()
    try:
        with torch.no_grad():
            logits = net(_probe() if probe is None else probe)
    finally:
        net.train(training)
    return torch.log_softmax(logits.double(), dim=1).flatten()


@dataclass(frozen=True)
class OutputMove:
    """A checkpoint's move: its signature minus its start's (module docstring)."""

    values: tuple[float, ...]

    @classmethod
    def between(
        cls, net: nn.Module, start: torch.Tensor, probe: torch.Tensor | None = None
    ) -> OutputMove:
        """The move of ``net`` from the signature ``start`` (:func:`output_signature`,
        on the same ``probe``)."""
        return cls(tuple((output_signature(net, probe) - start).tolist()))

    @functools.cached_property
    def norm(self) -> float:
        """Its Euclidean length."""
        return math.hypot(*self.values)

    def as_plain(self) -> list[float]:
        """JSON-ready: a grading result carries it to the class pass."""
        return list(self.values)

    @classmethod
    def from_plain(cls, plain: object) -> OutputMove:
        """The move :meth:`as_plain` wrote.

        Raises
        ------
        ValueError
            When ``plain`` is not a list of as many numbers as the probe gives (a result
            recorded by another version of the grader, or a damaged file).
        """
        if (
            not isinstance(plain, list)
            or len(plain) != PROBE_IMAGES * 10
            or not all(isinstance(x, int | float) and not isinstance(x, bool) for x in plain)
        ):
            raise ValueError(f"not a move of {PROBE_IMAGES} images' outputs")
        return cls(tuple(float(x) for x in plain))


def move_ratio(a: OutputMove, b: OutputMove) -> float:
    """:math:`r(a, b)` of the module docstring; infinite when either did not move, or
    when either is not finite (a network whose outputs overflow is nobody's copy).

    Examples
    --------
    >>> a, b = OutputMove((1.0, 0.0)), OutputMove((0.0, 1.0))
    >>> round(move_ratio(a, b), 4), move_ratio(a, a)
    (1.4142, 0.0)
    >>> move_ratio(OutputMove((1.0, 0.0)), OutputMove((3.0, 0.0)))  # by the shorter one
    2.0
    >>> move_ratio(OutputMove((0.0, 0.0)), OutputMove((0.0, 0.0)))  # nothing moved
    inf
    """
    if len(a.values) != len(b.values):
        raise ValueError("moves on probes of different sizes cannot be compared")
    smaller = min(a.norm, b.norm)
    if smaller == 0.0 or not math.isfinite(a.norm + b.norm):
        return math.inf
    return math.dist(a.values, b.values) / smaller


@dataclass(frozen=True)
class CheckpointPair:
    """Two students' checkpoints that compute nearly the same function:
    ``checkpoints[i]`` is the name under which ``students[i]`` handed theirs in."""

    checkpoints: tuple[str, str]
    students: tuple[str, str]
    ratio: float


def similar_checkpoints(
    moves: Mapping[str, Mapping[str, OutputMove]],
    groups: Mapping[str, Hashable] | None = None,
    threshold: float = COPY_RATIO,
) -> list[CheckpointPair]:
    """Every two students' checkpoints whose moves are closer than ``threshold``.

    Parameters
    ----------
    moves : mapping of student to (mapping of checkpoint name to OutputMove)
        What each submission's grading measured.
    groups : mapping of checkpoint name to a hashable, optional
        Checkpoints of one group are compared with each other whatever their names
        (those run the same way: a classmate's file handed in under another name is a
        copy too); by default each name is its own group.
    threshold : float
        Report pairs with :func:`move_ratio` below it.

    Returns
    -------
    list of CheckpointPair
        By checkpoint names, closest pairs first.
    """
    group = (lambda name: name) if groups is None else (lambda name: groups.get(name, name))
    pairs = []
    students = sorted(moves)
    for i, first in enumerate(students):
        for second in students[i + 1 :]:
            for name_a, move_a in sorted(moves[first].items()):
                for name_b, move_b in sorted(moves[second].items()):
                    if group(name_a) != group(name_b):
                        continue
                    ratio = move_ratio(move_a, move_b)
                    if ratio < threshold:
                        pairs.append(CheckpointPair((name_a, name_b), (first, second), ratio))
    return sorted(pairs, key=lambda pair: (pair.checkpoints, pair.ratio, pair.students))


def checkpoint_pairs_html(pairs: list[CheckpointPair], students: int) -> str:
    """The section of the similarity page on checkpoints: the measure, then the pairs."""
    parts = [
        "<h2>Checkpoints</h2>",
        f"<p>{students} submissions' checkpoints compared, each with the classmates' "
        "checkpoints run the same way (float, or quantized alike), by what their "
        f"networks compute: the log-probabilities they give a fixed probe of {PROBE_IMAGES} "
        "random images, minus those of the pretrained model they all start from (run the "
        "same way, quantized where the checkpoint is). A pair is listed when the distance "
        f"between two such moves is less than {COPY_RATIO:g} times the shorter of them. "
        "Independent training runs of the course are 0.43 apart or more; a copied file is at "
        "0, also when its weights were rescaled, permuted or moved within their "
        "quantization bins. Files that copy a reference checkpoint are refused as such and "
        "not listed. Both students of a listed pair earn nothing for the checks of their "
        "file (two names when one was handed in under the other's), and their feedback "
        "says why without naming the other: the grader cannot tell who trained it. Read "
        "the two submissions and give the points back, as a manual grade in formgrader, to "
        "the student who did the work.</p>",
    ]
    if not pairs:
        parts.append("<p>No pair of checkpoints is that close.</p>")
        return "\n".join(parts)
    rows = "".join(
        f"<tr><td><code>{' / '.join(html.escape(name) for name in dict.fromkeys(p.checkpoints))}"
        f"</code></td><td>{html.escape(p.students[0])}</td><td>{html.escape(p.students[1])}</td>"
        f'<td class="num">{p.ratio:.3f}</td></tr>'
        for p in pairs
    )
    parts.append(
        "<table><tr><th>checkpoint</th><th>student</th><th>student</th>"
        f"<th>distance / move</th></tr>{rows}</table>"
    )
    return "\n".join(parts)
