"""Edits that change a checkpoint's weights and not what its network computes: how a copy
would be dressed up to pass for a student's own run (tests of the copy refusal)."""

import torch

from edu.quant import quantize_weights

BLOCK = "body_op.{}.conv{}.0.{}"


def _copied(state):
    return {key: value.clone() for key, value in state.items()}


def rescaled(state, block, factor):
    """Block ``block``'s first convolution times ``factor``, its BatchNorm's running mean
    times ``factor`` and variance times ``factor**2``: the same normalized output."""
    edited = _copied(state)
    edited[BLOCK.format(block, 1, "conv.weight")] *= factor
    edited[BLOCK.format(block, 1, "bn.running_mean")] *= factor
    edited[BLOCK.format(block, 1, "bn.running_var")] *= factor**2
    return edited


def sign_flipped(state, block):
    """Every filter of the block's first convolution negated, with its BatchNorm's scale
    and running mean: ``-g (-y + m) / s + b = g (y - m) / s + b``."""
    edited = _copied(state)
    for name in ("conv.weight", "bn.weight", "bn.running_mean"):
        edited[BLOCK.format(block, 1, name)] *= -1
    return edited


def permuted(state, block, seed=0):
    """The block's inner channels reordered: the first convolution's filters and its
    BatchNorm's entries, and the second convolution's input channels, alike."""
    edited = _copied(state)
    width = state[BLOCK.format(block, 1, "conv.weight")].shape[0]
    order = torch.randperm(width, generator=torch.Generator().manual_seed(seed))
    for name in ("conv.weight", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"):
        edited[BLOCK.format(block, 1, name)] = state[BLOCK.format(block, 1, name)][order]
    second = BLOCK.format(block, 2, "conv.weight")
    edited[second] = state[second][:, order]
    return edited


def moved_in_bins(state, nbits, seed=0):
    """Every stage convolution's non-zero weights moved inside their quantization bins
    (by up to 0.45 of a step, the extremes kept, the zeros too), so that the quantizer
    returns the same levels."""
    generator = torch.Generator().manual_seed(seed)
    edited = _copied(state)
    for key, value in state.items():
        if not (key.startswith("body_op.") and key.endswith("conv.weight")):
            continue
        kept = value != 0
        low, high = value[kept].min(), value[kept].max()
        step = (high - low) / (2**nbits - 1)
        nudge = (torch.rand(value.shape, generator=generator) - 0.5) * 0.9 * step
        moved = (quantize_weights(value, nbits) + nudge).clamp(low, high)
        moved = torch.where((value == low) | (value == high), value, moved)
        edited[key] = torch.where(kept, moved, value)
    return edited


def disguised(state, nbits=None):
    """All of the above at once: what a copier with time would hand in."""
    edited = permuted(sign_flipped(rescaled(state, 0, 1.7), 4), 7)
    return moved_in_bins(edited, nbits) if nbits else edited
