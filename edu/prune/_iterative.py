"""Iterative magnitude pruning as two hooks of a training loop (Lab 2 (d), (e)).

Pruned weights may grow back while the schedule runs; from its last step on, the mask
is enforced after every optimizer step. The weights stay plain tensors, so a resumed
run rebuilds the mask from the non-zeros of the restored weights.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from edu.prune._magnitude import prune_model
from edu.prune._masks import apply_masks, masks_from_nonzeros
from edu.prune._schedules import iterative_sparsity

__all__ = ["IterativePruning"]


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
    prune : callable ``(net, q) -> object``, optional
        The pruning step, called with the epoch's target ``q`` in percent; its return
        value is ignored. Default: :func:`edu.prune.prune_model` with ``scope``. A
        notebook passes its student's pruning function here, so the schedule runs on
        the student's code.

    Examples
    --------
    >>> targets = []
    >>> schedule = IterativePruning(prune=lambda net, q: targets.append(q), prune_epochs=4)
    >>> for epoch in range(5):
    ...     schedule.before_epoch(epoch, nn.Linear(2, 2))
    >>> targets
    [17.5, 35.0, 52.5, 70.0]
    """

    def __init__(
        self,
        final: float = 70.0,
        prune_epochs: int = 10,
        scope: str = "layer",
        prune: Callable[[nn.Module, float], object] | None = None,
    ) -> None:
        if scope not in {"layer", "global"}:
            raise ValueError(f"scope must be 'layer' or 'global', got {scope!r}")
        if prune_epochs < 1:
            raise ValueError(f"prune_epochs must be >= 1, got {prune_epochs}")
        self.final = final
        self.prune_epochs = prune_epochs
        self.scope = scope
        self.prune = prune if prune is not None else self._prune_model
        self._masks: dict[str, torch.Tensor] | None = None

    def _prune_model(self, net: nn.Module, q: float) -> None:
        prune_model(net, q, self.scope)

    def before_epoch(self, epoch: int, net: nn.Module) -> None:
        """Prune to this epoch's target; fix the mask at the last pruning step."""
        if epoch < self.prune_epochs:
            self.prune(net, iterative_sparsity(epoch, self.final, self.prune_epochs))
        if epoch >= self.mask_from_epoch and self._masks is None:
            self._masks = masks_from_nonzeros(net)

    def after_step(self, net: nn.Module) -> None:
        """Re-apply the mask once it is fixed; before that, weights may grow back."""
        if self._masks is not None:
            apply_masks(net, self._masks)

    @property
    def mask_from_epoch(self) -> int:
        """First epoch (0-based) trained with the mask enforced: ``prune_epochs - 1``.

        The mask is fixed right after the last pruning step, before that epoch, so of
        ``E`` epochs in all the last ``E - prune_epochs + 1`` keep it (11 of 20 in
        Lab 2 (d): epochs 9 to 19).
        """
        return self.prune_epochs - 1

    @property
    def best_from_epoch(self) -> int:
        """First epoch (0-based) whose test accuracy competes for the best: ``prune_epochs``.

        The spec keeps "the best test accuracy from epoch 10 on" with pruning before
        epochs 0..9: the first epoch after the whole schedule, as the course's code does.
        """
        return self.prune_epochs
