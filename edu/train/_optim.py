"""The optimizer and per-step learning-rate schedules every training command uses."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["SCHEDULES", "make_scheduler", "make_sgd"]

SCHEDULES = ("onecycle", "cosine", "constant")
"""Names accepted by :func:`make_scheduler`."""


def make_sgd(net: nn.Module, *, lr: float, momentum: float, weight_decay: float) -> torch.optim.SGD:
    """SGD over ``net``'s parameters, with Nesterov momentum whenever momentum is used.

    Parameters
    ----------
    net : nn.Module
    lr, momentum, weight_decay : float

    Returns
    -------
    torch.optim.SGD
    """
    return torch.optim.SGD(
        net.parameters(),
        lr=lr,
        momentum=momentum,
        nesterov=momentum > 0,
        weight_decay=weight_decay,
    )


def make_scheduler(
    optimizer: torch.optim.Optimizer, schedule: str, peak_lr: float, total_steps: int
) -> torch.optim.lr_scheduler.LRScheduler:
    """A learning-rate schedule stepped after every optimizer step.

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
    schedule : {"onecycle", "cosine", "constant"}
        ``onecycle``: warm up to ``peak_lr`` over the first 15% of the steps, then
        anneal (Smith and Topin, 2019). ``cosine``:
        :math:`\\eta_t = \\eta_0 (1 + \\cos(\\pi t / T)) / 2` from the optimizer's lr
        to 0 (Loshchilov and Hutter, "SGDR", 2017, without restarts). ``constant``.
    peak_lr : float
        Peak of the one-cycle schedule.
    total_steps : int
        Optimizer steps of the whole run (epochs times batches per epoch).

    Returns
    -------
    LRScheduler
    """
    total_steps = max(1, total_steps)
    if schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=peak_lr, total_steps=total_steps, pct_start=0.15
        )
    if schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps)
    if schedule == "constant":
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    raise ValueError(f"unknown schedule {schedule!r}; choose one of {', '.join(SCHEDULES)}")
