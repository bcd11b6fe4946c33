"""What one forward pass costs: parameters and multiply-accumulates (MACs).

MACs are counted from the shapes each convolution and linear layer sees in a real
forward pass (through hooks), so a narrower, channel-pruned model is counted as what it
is. A zero weight is still a multiply for a dense kernel: unstructured sparsity does
not change these counts, and only a smaller dense network does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

__all__ = ["ModelCost", "model_cost"]


@dataclass(frozen=True)
class ModelCost:
    """Parameters (weights and biases) and MACs of one image's forward pass."""

    parameters: int
    macs: int


def _layer_macs(layer: nn.Module, output: torch.Tensor) -> int:
    """MACs per image of one convolution or linear layer, given its output."""
    per_output = layer.weight[0].numel()  # one output value: a dot product this long
    if isinstance(layer, nn.Conv2d):
        per_output = layer.in_channels // layer.groups * math.prod(layer.kernel_size)
    return output[0].numel() * per_output


def model_cost(net: nn.Module, image_shape: tuple[int, ...] = (3, 32, 32)) -> ModelCost:
    """Count the parameters of ``net`` and the MACs of its forward pass on one image.

    Parameters
    ----------
    net : nn.Module
        Any model; its convolutions and linear layers (subclasses included, such as the
        quantized ones) are counted. BatchNorm, ReLU and pooling are not counted as
        MACs (they are a few per activation, not per weight).
    image_shape : tuple of int, default (3, 32, 32)
        The shape of one input, without the batch dimension.

    Returns
    -------
    ModelCost
        ``parameters``: every element of ``net.parameters()``; ``macs``: the sum over
        layers of (output elements) x (inputs per output).

    Examples
    --------
    >>> model_cost(nn.Conv2d(3, 16, 3, padding=1, bias=False))  # 16*32*32 outputs x 27
    ModelCost(parameters=432, macs=442368)
    """
    counts: list[int] = []

    def count(layer: nn.Module, _inputs: tuple, output: torch.Tensor) -> None:
        counts.append(_layer_macs(layer, output))

    layers = [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    handles = [layer.register_forward_hook(count) for layer in layers]
    parameter = next(net.parameters(), None)
    was_training = net.training
    try:
        net.eval()
        with torch.no_grad():
            net(
                torch.zeros(
                    1, *image_shape, device=parameter.device if parameter is not None else "cpu"
                )
            )
    finally:
        net.train(was_training)
        for handle in handles:
            handle.remove()
    return ModelCost(parameters=sum(p.numel() for p in net.parameters()), macs=sum(counts))
