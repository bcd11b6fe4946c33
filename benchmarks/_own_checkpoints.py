"""Checkpoints of a benchmark's class: each full solution hands in files of its own.

The grader refuses a checkpoint that is near-identical to a classmate's
(:func:`edu.grading._copies.classmate_copies`): a benchmark class whose full solutions
all submit the same files would time the refusal of copies and their second grading,
not the grading of a class that trained. Training one run per student is out of reach
for a benchmark, so each full solution gets the demo's independent run with its own
noise on the weights that moved: Gaussian, per tensor ``relative`` times the root mean
square of the tensor's move from the pretrained model, on its non-zero entries only
(zeros stay zeros, so sparsity and the kept zeros of Lab 3 (d) hold). Two students then
differ by about ``sqrt(2) * relative`` of a move (0.25 to 0.28 measured on the reference
set), well above the copy ratio of 0.1, if closer than independent runs (0.6 and more).
A quantized checkpoint (``<name>_<N>bit``) keeps each weight in its ``N``-bit bin, and
its smallest and largest weights, so that its quantized model, which the accuracy checks
evaluate, is the demo's exactly; only the float weights under it differ, as those of two
students who trained through the quantizer do.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import torch

from edu.models import pretrained_resnet20
from edu.quant import quantize_weights
from edu.train import load_state_dict

RELATIVE_NOISE = 0.2
"""Each student's noise, relative to the root mean square of a tensor's move."""


def own_checkpoints(
    source: Mapping[str, Path], students: int, folder: Path, relative: float = RELATIVE_NOISE
) -> list[dict[str, Path]]:
    """``students`` sets of ``source``'s checkpoints, each with its own noise (module docstring).

    Parameters
    ----------
    source : mapping of str to Path
        Checkpoint name -> file (bare state dicts of ResNet-20), e.g. the demo's set.
    students : int
        How many sets.
    folder : Path
        Where the sets are written, ``folder/<index>/<name>.pt``.
    relative : float
        The noise's standard deviation per tensor, relative to its move's RMS.

    Returns
    -------
    list of dict of str to Path
        One mapping like ``source`` per student, seeded by its index.
    """
    pretrained = pretrained_resnet20().state_dict()
    states = {name: load_state_dict(path) for name, path in source.items()}
    sets = []
    for index in range(students):
        generator = torch.Generator().manual_seed(index)
        own = {}
        for name, state in states.items():
            path = folder / str(index) / f"{name}.pt"
            path.parent.mkdir(parents=True, exist_ok=True)
            bits = re.search(r"_(\d+)bit$", name)
            noisy = _with_noise(state, pretrained, relative, generator, bits and int(bits[1]))
            torch.save(noisy, path)
            own[name] = path
        sets.append(own)
    return sets


def _with_noise(
    state, pretrained, relative: float, generator: torch.Generator, nbits: int | None
) -> dict:
    noisy = {}
    for key, tensor in state.items():
        base = pretrained.get(key)
        trained = tensor.is_floating_point() and base is not None and base.shape == tensor.shape
        kept = tensor != 0
        if not trained or tensor.dim() < 2 or not kept.any():
            noisy[key] = tensor.clone()
            continue
        scale = relative * (tensor - base)[kept].pow(2).mean().sqrt()
        noise = torch.randn(tensor.shape, generator=generator, dtype=tensor.dtype) * scale
        moved = tensor + noise
        if nbits is not None:
            moved = _in_own_bin(tensor, moved, nbits)
        noisy[key] = torch.where(kept, moved, tensor)
    return noisy


def _in_own_bin(weight: torch.Tensor, moved: torch.Tensor, nbits: int) -> torch.Tensor:
    """``moved`` kept within 0.45 of a step from ``weight``'s ``nbits``-bit level and within
    its range, the extremes (which set the grid) unmoved: it quantizes as ``weight``.

    The grid is the asymmetric quantizer's (:func:`edu.quant.quantize_weights`): from
    the smallest to the largest non-zero weight; the zeros are left out of it, as there.
    """
    level = quantize_weights(weight, nbits)
    kept = weight[weight != 0]
    low, high = kept.min(), kept.max()
    step = (high - low) / (2**nbits - 1)
    moved = torch.minimum(torch.maximum(moved, level - 0.45 * step), level + 0.45 * step)
    moved = moved.clamp(low, high)
    extreme = (weight == high) | (weight == low)
    return torch.where(extreme, weight, moved)
