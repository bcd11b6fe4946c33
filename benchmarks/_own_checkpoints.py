"""Checkpoints of a benchmark's class: each full solution hands in files of its own.

The grader refuses a checkpoint whose network computes nearly what a classmate's does
(:func:`edu.grading._copies.classmate_copies`): a benchmark class whose full solutions
all submit the same files would time the refusal of copies and their second grading,
not the grading of a class that trained. Training one run per student is out of reach
for a benchmark, so each full solution gets the demo's independent run changed by a
seed of its own, on the non-zero weights only (zeros stay zeros, so sparsity and the
kept zeros of Lab 3 (d) hold):

- a float checkpoint gets Gaussian noise of :data:`RELATIVE_NOISE` times each weight
  tensor's root mean square;
- a quantized one has :data:`LEVEL_FLIPS` of its stage convolutions' weights moved one
  step of its grid up or down (its smallest and largest weights, which set the grid,
  unmoved): noise on its float weights would cost it its quantization-aware accuracy.

Each costs the model about a point of accuracy, within the checks' margin; whether every
full solution keeps its full marks is part of the benchmark's report
(``full_solutions_full_marks``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch

from edu.notebook import SUBMISSION_CHECKPOINTS
from edu.train import load_state_dict

RELATIVE_NOISE = 0.1
"""A float checkpoint's noise, relative to each weight tensor's root mean square."""

LEVEL_FLIPS = 0.05
"""The fraction of a quantized checkpoint's weights moved one step of its grid."""


def own_checkpoints(
    source: Mapping[str, Path], students: int, folder: Path
) -> list[dict[str, Path]]:
    """``students`` sets of ``source``'s checkpoints, each changed by its own seed
    (module docstring).

    Parameters
    ----------
    source : mapping of str to Path
        Checkpoint name (of ``SUBMISSION_CHECKPOINTS``) -> file (a bare state dict of
        ResNet-20), e.g. the demo's set.
    students : int
        How many sets.
    folder : Path
        Where the sets are written, ``folder/<index>/<name>.pt``.

    Returns
    -------
    list of dict of str to Path
        One mapping like ``source`` per student, seeded by its index.
    """
    states = {name: load_state_dict(path) for name, path in source.items()}
    sets = []
    for index in range(students):
        generator = torch.Generator().manual_seed(index)
        own = {}
        for name, state in states.items():
            path = folder / str(index) / f"{name}.pt"
            path.parent.mkdir(parents=True, exist_ok=True)
            nbits = SUBMISSION_CHECKPOINTS[name].nbits
            changed = {
                key: _changed(key, tensor, nbits, generator) for key, tensor in state.items()
            }
            torch.save(changed, path)
            own[name] = path
        sets.append(own)
    return sets


def _changed(key: str, tensor: torch.Tensor, nbits: int | None, generator) -> torch.Tensor:
    kept = tensor != 0
    if not key.endswith(".weight") or tensor.dim() < 2 or not kept.any():
        return tensor.clone()
    if nbits is None:
        scale = RELATIVE_NOISE * tensor[kept].pow(2).mean().sqrt()
        return torch.where(
            kept, tensor + scale * torch.randn(tensor.shape, generator=generator), tensor
        )
    if not (key.startswith("body_op.") and key.endswith("conv.weight")):
        return tensor.clone()  # the first convolution and the classifier stay float
    return _one_level_moved(tensor, nbits, generator)


def _one_level_moved(weight: torch.Tensor, nbits: int, generator) -> torch.Tensor:
    """:data:`LEVEL_FLIPS` of the non-zero weights moved one step of the asymmetric grid
    (:func:`edu.quant.quantize_weights`: from the smallest to the largest non-zero weight),
    kept within it, the extremes unmoved."""
    kept = weight != 0
    low, high = weight[kept].min(), weight[kept].max()
    step = (high - low) / (2**nbits - 1)
    chosen = torch.rand(weight.shape, generator=generator) < LEVEL_FLIPS
    sign = torch.where(torch.rand(weight.shape, generator=generator) < 0.5, -1.0, 1.0)
    moved = (weight + chosen * sign * step).clamp(low, high)
    movable = kept & (weight != low) & (weight != high)
    return torch.where(movable, moved, weight)
