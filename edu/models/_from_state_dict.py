"""Rebuild a CIFAR ResNet of the right depth and widths from its weights alone."""

from __future__ import annotations

import re
from collections.abc import Mapping

import torch

from edu.models._resnet import ResNetCIFAR

__all__ = ["infer_inner_channels", "infer_num_layers", "resnet_from_state_dict"]


def infer_num_layers(state_dict: Mapping[str, torch.Tensor]) -> int:
    """Depth ``6n + 2`` of the CIFAR ResNet whose weights these are.

    Parameters
    ----------
    state_dict : mapping of str to torch.Tensor
        Weights of a :class:`ResNetCIFAR` (keys ``body_op.<k>.…``), e.g. from
        :func:`edu.train.load_state_dict`. Only the keys are read.

    Returns
    -------
    int
        The ``num_layers`` to build the model with.

    Raises
    ------
    ValueError
        If there are no ``body_op.<k>.`` keys, or their number of blocks is not a
        multiple of 3 (three stages of equal length).

    Notes
    -----
    With :math:`b` distinct block indices :math:`k` in the keys, there are
    :math:`n = b / 3` blocks per stage and the depth is :math:`6n + 2 = 2b + 2`
    (two convolutions per block, plus the first convolution and the classifier).

    Examples
    --------
    >>> infer_num_layers(ResNetCIFAR(num_layers=32).state_dict())
    32
    """
    blocks = {int(m.group(1)) for key in state_dict if (m := re.match(r"body_op\.(\d+)\.", key))}
    if not blocks or len(blocks) % 3:
        raise ValueError("these weights are not those of a CIFAR ResNet (no body_op blocks)")
    return 2 * len(blocks) + 2


def infer_inner_channels(state_dict: Mapping[str, torch.Tensor]) -> list[int]:
    """The inner width of each block, read from its first convolution's weight shape.

    A channel-pruned model (:func:`edu.prune.remove_channels`) records its narrower
    blocks this way: its checkpoint is an ordinary state dict whose shapes say the
    widths, so no side file is needed.

    Raises
    ------
    ValueError
        If the depth cannot be inferred, or a block's first convolution weight is
        missing or not 4-D.

    Examples
    --------
    >>> infer_inner_channels(ResNetCIFAR(num_layers=8).state_dict())
    [16, 32, 64]
    """
    widths = []
    for block in range((infer_num_layers(state_dict) - 2) // 2):
        weight = state_dict.get(f"body_op.{block}.conv1.0.conv.weight")
        if weight is None or weight.dim() != 4:
            raise ValueError(f"block {block} has no 4-D first convolution weight")
        widths.append(int(weight.shape[0]))
    return widths


def resnet_from_state_dict(
    state_dict: Mapping[str, torch.Tensor],
    Nbits: int | None = None,  # the course's name
    symmetric: bool = False,
    quantizer: object | None = None,
) -> ResNetCIFAR:
    """A :class:`ResNetCIFAR` of the depth the weights imply, with the weights loaded.

    Parameters
    ----------
    state_dict : mapping of str to torch.Tensor
        Weights of a float or quantized :class:`ResNetCIFAR` (their keys are the
        same), e.g. from :func:`edu.train.load_state_dict`.
    Nbits : int or None, default None
        Bits of the stage convolutions' weights; ``None`` keeps them float. (Named
        as in the course's code.)
    symmetric : bool, default False
        Symmetric quantizer instead of the asymmetric one.
    quantizer : callable or autograd.Function subclass, optional
        The quantizer; default the reference :class:`edu.quant.STE`. See
        :class:`ResNetCIFAR`.

    Returns
    -------
    ResNetCIFAR
        With ``num_layers = infer_num_layers(state_dict)``, the blocks' inner widths
        of :func:`infer_inner_channels` (narrower after channel pruning), 10 classes, the weights
        loaded, on the CPU, in training mode (call ``.eval()`` to evaluate).

    Raises
    ------
    ValueError
        If the depth cannot be inferred (:func:`infer_num_layers`), or loading is
        refused: loading is strict, so missing, unexpected or wrongly shaped tensors
        are listed in the message and a checkpoint of another model is reported
        rather than half-loaded.

    Examples
    --------
    >>> weights = ResNetCIFAR(num_layers=32).state_dict()
    >>> net = resnet_from_state_dict(weights, Nbits=4)
    >>> net.num_layers, net.Nbits
    (32, 4)
    >>> torch.equal(net.final_fc.linear.weight, weights["final_fc.linear.weight"])
    True
    """
    net = ResNetCIFAR(
        num_layers=infer_num_layers(state_dict),
        inner_channels=infer_inner_channels(state_dict),
        Nbits=Nbits,
        symmetric=symmetric,
        quantizer=quantizer,
    )
    try:
        net.load_state_dict(state_dict)
    except RuntimeError as error:
        raise ValueError(f"the weights do not fit a CIFAR ResNet: {error}") from error
    return net
