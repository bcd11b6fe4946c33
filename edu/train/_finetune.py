"""Finetuning pruned models: a fixed mask (Lab 2 (c)) or an iterative schedule (Lab 2 (d), (e)).

Both keep the weights as plain tensors and re-apply the masks after every optimizer
step (the course's recipe), so checkpoints hold ordinary state dicts and a resumed run
rebuilds its masks from the non-zeros of the restored weights.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch import nn

from edu.prune import apply_masks, iterative_sparsity, masks_from_nonzeros, prune_model
from edu.train._loops import EpochResult, train_one_epoch

__all__ = ["IterativePruning", "finetune_after_prune"]


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


class IterativePruning:
    """The hooks of :func:`edu.train.fit` for iterative magnitude pruning (Lab 2 (d), (e)).

    Before epoch ``e < prune_epochs`` every prunable layer (``scope="layer"``) or all
    of them together (``scope="global"``) is pruned to
    :func:`edu.prune.iterative_sparsity` ``(e)``; pruned weights may grow back
    during those epochs. From the last pruning step on, the mask is enforced after
    every optimizer step.

    Parameters
    ----------
    final : float, default 70.0
        Final sparsity in percent.
    prune_epochs : int, default 10
        Number of pruning steps, one before each of the first epochs.
    scope : {"layer", "global"}
        Per-layer percentile thresholds or one global threshold.
    """

    def __init__(self, final: float = 70.0, prune_epochs: int = 10, scope: str = "layer") -> None:
        if scope not in {"layer", "global"}:
            raise ValueError(f"scope must be 'layer' or 'global', got {scope!r}")
        self.final = final
        self.prune_epochs = prune_epochs
        self.scope = scope
        self._masks: dict[str, torch.Tensor] | None = None

    def before_epoch(self, epoch: int, net: nn.Module) -> None:
        """Prune to this epoch's target; fix the mask at the last pruning step."""
        if epoch < self.prune_epochs:
            prune_model(net, iterative_sparsity(epoch, self.final, self.prune_epochs), self.scope)
        if epoch >= self.prune_epochs - 1 and self._masks is None:
            self._masks = masks_from_nonzeros(net)

    def after_step(self, net: nn.Module) -> None:
        """Re-apply the mask once it is fixed; before that, weights may grow back."""
        if self._masks is not None:
            apply_masks(net, self._masks)

    @property
    def best_from_epoch(self) -> int:
        """First epoch (0-based) whose test accuracy competes for the best: ``prune_epochs``.

        The spec keeps "the best test accuracy from epoch 10 on" with pruning before
        epochs 0..9: the first epoch after the whole schedule, as the course's code does.
        """
        return self.prune_epochs
