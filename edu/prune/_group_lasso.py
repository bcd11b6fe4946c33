"""Group-lasso training that makes whole inner channels die.

Course notes: :ref:`channel-pruning`, on top of the group lasso of :ref:`ch-group-lasso`.

Each inner channel ``c`` of a basic block owns one group of weights: its filter in the
block's first convolution and its input slice in the second. Training minimizes the
loss plus :math:`\\lambda \\sum_g \\|w_g\\|_2` by proximal SGD: after every optimizer
step, each group goes through the block soft-thresholding of Lab 1
(:func:`edu.sparse.group_soft_threshold`) with threshold ``lr * strength``. A group
whose norm falls below the threshold becomes exactly zero, all at once, and its channel
no longer acts: :func:`edu.prune.live_channels` counts the survivors and
:func:`edu.prune.remove_channels` removes the rest without changing the outputs.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from edu.sparse import group_soft_threshold

__all__ = ["FilterGroupLasso", "channel_group_norms"]


def _channel_rows(block: nn.Module) -> torch.Tensor:
    """Each inner channel's group as one row: its conv1 filter, then its conv2 input slice.

    Row ``c`` holds ``conv1.weight[c]`` flattened, followed by ``conv2.weight[:, c]``
    flattened: the weights that act only through inner channel ``c``.
    """
    conv1, conv2 = block.conv1[0].conv.weight, block.conv2[0].conv.weight
    return torch.cat([conv1.flatten(1), conv2.transpose(0, 1).flatten(1)], dim=1)


def channel_group_norms(net: nn.Module) -> list[torch.Tensor]:
    """The L2 norm of every inner channel's group, one tensor per basic block.

    These are the norms the group lasso shrinks (:class:`FilterGroupLasso`); a zero
    entry is a dead channel that :func:`edu.prune.live_channels` leaves out.

    Examples
    --------
    >>> from edu.models import ResNetCIFAR
    >>> norms = channel_group_norms(ResNetCIFAR(num_layers=8))
    >>> [len(n) for n in norms]
    [16, 32, 64]
    """
    with torch.no_grad():
        return [_channel_rows(block).norm(dim=1) for block in net.body_op]


class FilterGroupLasso:
    """The ``after_step`` hook of :func:`edu.train.fit` for group-lasso channel pruning.

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
        The optimizer of the run; the threshold follows its current learning rate
        (that of its first parameter group), as the proximal step of a proximal
        gradient method does.
    strength : float
        The group-lasso weight :math:`\\lambda \\ge 0`.

    Notes
    -----
    With momentum the step is the proximal step applied after the momentum update (a
    common heuristic; the convergence theory of chapter 3 is for plain proximal
    gradient). Weights must be plain float tensors (no pruning parametrizations).

    Examples
    --------
    >>> from edu.models import ResNetCIFAR
    >>> net = ResNetCIFAR(num_layers=8)
    >>> optimizer = torch.optim.SGD(net.parameters(), lr=1.0)
    >>> FilterGroupLasso(optimizer, strength=1e3).after_step(net)  # every group dies
    >>> float(net.body_op[0].conv2[0].conv.weight.detach().abs().sum())
    0.0
    """

    def __init__(self, optimizer: torch.optim.Optimizer, strength: float) -> None:
        if not float(strength) >= 0.0:
            raise ValueError(f"strength must be a non-negative number, got {strength}")
        self.optimizer = optimizer
        self.strength = float(strength)

    def after_step(self, net: nn.Module) -> None:
        """Block-soft-threshold every inner-channel group of every block, in place."""
        threshold = self.optimizer.param_groups[0]["lr"] * self.strength
        for block in net.body_op:
            conv1, conv2 = block.conv1[0].conv.weight, block.conv2[0].conv.weight
            width = conv1.shape[0]
            with torch.no_grad():
                rows = _channel_rows(block)
                size = rows.shape[1]
                groups = [range(c * size, (c + 1) * size) for c in range(width)]
                shrunk = group_soft_threshold(
                    rows.double().flatten().cpu().numpy(), threshold, groups
                )
                rows = torch.from_numpy(np.asarray(shrunk)).view(width, size).to(conv1)
                first = conv1[0].numel()
                conv1.copy_(rows[:, :first].view_as(conv1))
                conv2.copy_(
                    rows[:, first:].view(width, conv2.shape[0], *conv2.shape[2:]).transpose(0, 1)
                )
