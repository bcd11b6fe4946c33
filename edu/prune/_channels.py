"""Channel pruning: remove a block's least important inner channels, physically.

Unstructured pruning zeroes single weights; a dense kernel multiplies the zeros all
the same, so the network is no faster. Removing a whole inner channel of a basic
block (the output channel of its first convolution, the BatchNorm entries that follow
it, and the matching input channel of its second convolution) leaves a smaller dense
network: every multiply it skips is gone from the computation.

Only inner channels are removed. The channels on the residual path (the outputs of
each block's second convolution, its shortcut and the stage's other blocks) must
stay aligned across the additions, so they stay.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from edu.models import ResNetCIFAR, resnet_from_state_dict
from edu.prune._masks import plain_state_dict

__all__ = ["CRITERIA", "channel_importance", "live_channels", "remove_channels"]

CRITERIA = ("l2", "bn")
"""The importance measures of an inner channel: its filter's L2 norm, its BatchNorm scale."""


def _block_prefixes(net: ResNetCIFAR) -> list[str]:
    return [f"body_op.{index}" for index in range(len(net.body_op))]


def channel_importance(
    state: dict[str, torch.Tensor], block: str, criterion: str = "l2"
) -> torch.Tensor:
    """The importance of each inner channel of one block, from its weights.

    Parameters
    ----------
    state : dict of str to torch.Tensor
        Plain weights of a :class:`~edu.models.ResNetCIFAR` (masks folded in).
    block : str
        The block's prefix, ``body_op.<k>``.
    criterion : {"l2", "bn"}
        ``"l2"``: the L2 norm of the channel's filter in the first convolution (Li et
        al., 2017, "Pruning Filters for Efficient ConvNets", use the L1 norm; both rank
        a zeroed filter last). ``"bn"``: the magnitude of the channel's BatchNorm scale
        :math:`|\\gamma_c|` (Liu et al., 2017, "network slimming"), which multiplies
        the normalized channel, so a small one silences it whatever the filter.

    Returns
    -------
    torch.Tensor
        One float per inner channel; larger is more important.
    """
    if criterion == "l2":
        weight = state[f"{block}.conv1.0.conv.weight"]
        return weight.detach().flatten(1).norm(dim=1)
    if criterion == "bn":
        return state[f"{block}.conv1.0.bn.weight"].detach().abs()
    raise ValueError(f"criterion must be one of {CRITERIA}, got {criterion!r}")


def live_channels(net: ResNetCIFAR) -> list[int]:
    """How many inner channels of each block still act: those not zeroed as a group.

    A channel whose input slice in the block's second convolution is all zero adds
    nothing to the block's output, whatever its filter and BatchNorm do; group-lasso
    training (:class:`edu.prune.FilterGroupLasso`) zeroes such groups, the filter
    with the slice. Passing the result to :func:`remove_channels`, which ranks by the
    filter, then removes exactly the dead channels when their filters are zero too (as
    the group lasso leaves them), and the outputs do not change. At least one channel
    per block is counted as live.
    """
    state = plain_state_dict(net)
    counts = []
    for block in _block_prefixes(net):
        inner = state[f"{block}.conv2.0.conv.weight"].detach().transpose(0, 1).flatten(1)
        counts.append(max(1, int((inner != 0).any(dim=1).sum())))
    return counts


def _widths(net: ResNetCIFAR, keep: float | Sequence[int]) -> list[int]:
    """The inner width to keep in each block, from a fraction or one count per block."""
    current = net.inner_channels
    if isinstance(keep, (int, float)) and not isinstance(keep, bool):
        if not 0.0 < keep <= 1.0:
            raise ValueError(f"keep must be a fraction in (0, 1], got {keep}")
        return [max(1, math.ceil(keep * width)) for width in current]
    widths = list(keep)
    if len(widths) != len(current) or any(
        isinstance(w, bool) or not isinstance(w, int) or not 1 <= w <= c
        for w, c in zip(widths, current, strict=True)
    ):
        raise ValueError(
            f"keep must give each of the {len(current)} blocks a width between 1 and its "
            f"current width {current}, got {widths}"
        )
    return widths


def remove_channels(
    net: ResNetCIFAR, keep: float | Sequence[int] = 0.5, criterion: str = "l2"
) -> ResNetCIFAR:
    """A narrower copy of ``net`` without each block's least important inner channels.

    Parameters
    ----------
    net : ResNetCIFAR
        The model to prune; it is not modified. Pruning masks are folded in first.
    keep : float or sequence of int, default 0.5
        A fraction of each block's inner channels to keep (rounded up, at least one),
        or the number to keep in each block (e.g. :func:`live_channels`).
    criterion : {"l2", "bn"}
        How the channels are ranked (:func:`channel_importance`); ties keep the
        lower-numbered channel.

    Returns
    -------
    ResNetCIFAR
        A new model whose block ``k`` has ``keep[k]`` inner channels: the kept rows of
        the first convolution and of its BatchNorm (weights and running statistics),
        and the kept input slices of the second convolution; every other tensor
        copied. On the CPU, float32, with the same ``Nbits`` and ``symmetric`` and the
        reference quantizer (pass another one by rebuilding it with
        :func:`edu.models.resnet_from_state_dict`); its state dict records the widths,
        so that function rebuilds it from a checkpoint.

    Notes
    -----
    For a float model the result computes exactly what ``net`` computes with the
    removed channels' input slices of each second convolution set to zero: those
    slices are the only path from the channel to the block's output. A quantized
    model's grid depends on each layer's range, which removal can change.

    Examples
    --------
    >>> net = ResNetCIFAR(num_layers=8)
    >>> remove_channels(net, 0.5).inner_channels
    [8, 16, 32]
    """
    if not isinstance(net, ResNetCIFAR):
        raise ValueError(f"channels can be removed from a ResNetCIFAR, got {type(net).__name__}")
    widths = _widths(net, keep)
    state = {key: value.detach().clone() for key, value in plain_state_dict(net).items()}
    for block, width in zip(_block_prefixes(net), widths, strict=True):
        score = channel_importance(state, block, criterion)
        order = torch.sort(-score, stable=True).indices  # stable: ties keep lower channels
        kept = torch.sort(order[:width]).values
        for key in [k for k in state if k.startswith(f"{block}.conv1.")]:
            if state[key].dim() > 0:  # not BatchNorm's num_batches_tracked
                state[key] = state[key][kept].clone()
        conv2 = f"{block}.conv2.0.conv.weight"
        state[conv2] = state[conv2][:, kept].clone()
    pruned = resnet_from_state_dict(state, Nbits=net.Nbits, symmetric=net.symmetric)
    return pruned.train(net.training)
