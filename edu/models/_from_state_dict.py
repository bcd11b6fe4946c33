"""Rebuild a CIFAR ResNet of the right depth from its weights alone."""

from __future__ import annotations

import re
from collections.abc import Mapping

import torch

from edu.models._resnet import ResNetCIFAR

__all__ = ["infer_num_layers", "resnet_from_state_dict"]


def infer_num_layers(state_dict: Mapping[str, torch.Tensor]) -> int:
    """Depth ``6n + 2`` of the CIFAR ResNet whose weights these are.

    Examples
    --------
    >>> infer_num_layers(ResNetCIFAR(num_layers=32).state_dict())
    32
    """
    blocks = {int(m.group(1)) for key in state_dict if (m := re.match(r"body_op\.(\d+)\.", key))}
    if not blocks or len(blocks) % 3:
        raise ValueError("these weights are not those of a CIFAR ResNet (no body_op blocks)")
    return 2 * len(blocks) + 2


def resnet_from_state_dict(
    state_dict: Mapping[str, torch.Tensor],
    Nbits: int | None = None,  # the course's name
    symmetric: bool = False,
    quantizer: object | None = None,
) -> ResNetCIFAR:
    """A :class:`ResNetCIFAR` of the depth the weights imply, with the weights loaded.

    Loading is strict: missing, unexpected or wrongly shaped tensors raise a
    ``ValueError`` that lists them, so a checkpoint of another model is reported
    rather than half-loaded.
    """
    net = ResNetCIFAR(
        num_layers=infer_num_layers(state_dict),
        Nbits=Nbits,
        symmetric=symmetric,
        quantizer=quantizer,
    )
    try:
        net.load_state_dict(state_dict)
    except RuntimeError as error:
        raise ValueError(f"the weights do not fit a CIFAR ResNet: {error}") from error
    return net
