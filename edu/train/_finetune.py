"""Finetuning a pruned model with a fixed mask (Lab 2 (c)), one epoch at a time.

The weights stay plain tensors and the mask is re-applied after every optimizer step
(the course's recipe), so checkpoints hold ordinary state dicts. The iterative
schedule of Lab 2 (d), (e) is :class:`edu.prune.IterativePruning`, whose hooks plug
into :func:`edu.train.fit`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch import nn

from edu.prune import apply_masks, masks_from_nonzeros
from edu.train._loops import EpochResult, train_one_epoch

__all__ = ["finetune_after_prune"]


def finetune_after_prune(
    net: nn.Module,
    trainloader: Iterable[tuple[torch.Tensor, torch.Tensor]],
    criterion: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None,
    optimizer: torch.optim.Optimizer,
    prune: bool = True,
    *,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
    device: torch.device | str = "cpu",
    progress: bool = True,
) -> EpochResult:
    """Finetune ``net`` for one epoch, keeping its pruned weights at exactly 0.

    Parameters
    ----------
    net : nn.Module
        A pruned model: its zero weights in prunable layers are the pruned ones.
    trainloader : iterable of (x, y)
    criterion : callable or None
        Loss ``criterion(logits, y)``; None means cross-entropy.
    optimizer : torch.optim.Optimizer
    prune : bool, default True
        Keep the mask; ``False`` finetunes freely (pruned weights may grow back).
    scheduler, device, progress
        As in :func:`edu.train.train_one_epoch`.

    Returns
    -------
    EpochResult

    Notes
    -----
    The mask :math:`m = [w \\neq 0]` is built before the first step, from the
    non-zeros of every prunable layer, and :math:`w \\leftarrow w \\odot m` is applied
    after every optimizer step, so neither momentum nor weight decay can revive a
    pruned weight (course notes, chapter "Pruning DNNs").
    """
    masks = masks_from_nonzeros(net) if prune else None
    return train_one_epoch(
        net,
        trainloader,
        optimizer,
        criterion=criterion,
        scheduler=scheduler,
        after_step=(lambda model: apply_masks(model, masks)) if prune else None,
        device=device,
        progress=progress,
        description="finetune",
    )
