"""One training epoch and one evaluation pass over a loader of ``(x, y)`` batches."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F
from tqdm import tqdm

from edu.train._distill import Distillation

__all__ = ["EpochResult", "evaluate", "train_one_epoch"]


@dataclass(frozen=True)
class EpochResult:
    """Mean cross-entropy loss and accuracy over ``num_images`` images."""

    loss: float
    accuracy: float
    num_images: int


def _autocast(device: torch.device, mixed_precision: bool) -> contextlib.AbstractContextManager:
    if mixed_precision and device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def _progress(loader: Iterable, description: str, enabled: bool) -> Iterable:
    total = len(loader) if hasattr(loader, "__len__") else None
    return tqdm(
        loader, desc=description, total=total, leave=False, disable=not enabled, mininterval=2
    )


def train_one_epoch(
    net: nn.Module,
    loader: Iterable[tuple[torch.Tensor, torch.Tensor]],
    optimizer: torch.optim.Optimizer,
    *,
    criterion: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
    after_step: Callable[[nn.Module], None] | None = None,
    device: torch.device | str = "cpu",
    mixed_precision: bool = False,
    progress: bool = True,
    description: str = "train",
    distillation: Distillation | None = None,
) -> EpochResult:
    """Run one epoch of minibatch training and return the running loss and accuracy.

    Parameters
    ----------
    net : nn.Module
        Put in training mode for the epoch.
    loader : iterable of (x, y)
        Batches already on ``device`` or movable there.
    optimizer : torch.optim.Optimizer
    criterion : callable, optional
        Loss ``criterion(logits, y)``; default cross-entropy.
    distillation : Distillation, optional
        Train on :meth:`Distillation.loss` (the teacher's soft outputs with the labels)
        in place of ``criterion``; the epoch's loss is then that loss.
    scheduler : LRScheduler, optional
        Stepped after every optimizer step (schedules are defined per step).
    after_step : callable, optional
        Called with ``net`` after every optimizer step; pruning uses it to re-apply
        masks so that pruned weights stay exactly 0.
    device : torch.device or str
    mixed_precision : bool
        bfloat16 autocast, on CUDA only.
    progress : bool
        Show a tqdm bar.

    Returns
    -------
    EpochResult
        Loss and accuracy of the batches as seen during training (before each step).
    """
    if distillation is not None and criterion is not None:
        raise ValueError("give criterion or distillation, not both")
    device = torch.device(device)
    criterion = criterion or F.cross_entropy
    net.train()
    total_loss = torch.zeros((), device=device)
    correct = torch.zeros((), device=device, dtype=torch.long)
    seen = 0
    for x, y in _progress(loader, description, progress):
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        with _autocast(device, mixed_precision):
            logits = net(x)
            loss = criterion(logits, y) if distillation is None else distillation.loss(logits, x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        if after_step is not None:
            after_step(net)
        total_loss += loss.detach() * y.numel()
        correct += (logits.argmax(1) == y).sum()
        seen += y.numel()
    if seen == 0:
        raise ValueError("the training loader yielded no batches")
    return EpochResult(total_loss.item() / seen, correct.item() / seen, seen)


@torch.no_grad()
def evaluate(
    net: nn.Module,
    loader: Iterable[tuple[torch.Tensor, torch.Tensor]],
    *,
    device: torch.device | str = "cpu",
    progress: bool = False,
    description: str = "test",
) -> EpochResult:
    """Mean cross-entropy loss and top-1 accuracy of ``net`` (in eval mode) on ``loader``.

    Parameters
    ----------
    net : nn.Module
        Evaluated in eval mode; its previous mode is restored afterwards.
    loader : iterable of (x, y)
    device : torch.device or str
    progress : bool
        Show a tqdm bar.
    description : str
        Label of the bar.

    Returns
    -------
    EpochResult
        ``loss`` is the mean cross-entropy over all images, ``accuracy`` the fraction
        whose arg-max logit is the label.

    Notes
    -----
    Always in float32, also on a GPU: under bfloat16 autocast the weights of a
    quantized model would leave their N-bit grid (bfloat16 keeps 8 significant bits),
    and one checkpoint would score differently on a CPU and a GPU.
    """
    device = torch.device(device)
    was_training = net.training
    net.eval()
    total_loss = torch.zeros((), device=device)
    correct = torch.zeros((), device=device, dtype=torch.long)
    seen = 0
    for x, y in _progress(loader, description, progress):
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        logits = net(x)
        total_loss += F.cross_entropy(logits, y, reduction="sum")
        correct += (logits.argmax(1) == y).sum()
        seen += y.numel()
    net.train(was_training)
    if seen == 0:
        raise ValueError("the evaluation loader yielded no batches")
    return EpochResult(total_loss.item() / seen, correct.item() / seen, seen)
