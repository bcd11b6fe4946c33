"""The finetuning recipe shared by every training row of Labs 2 and 3.

One recipe for all rows, so that they differ only in what the spec varies (the mask,
the pruning schedule, the bit width): SGD with Nesterov momentum 0.9 and weight decay
5e-4, a cosine learning rate from ``Settings.lr`` to 0 over all steps, the best test
accuracy kept. The run is checkpointed after every epoch into the row's folder and
resumed from there, so an interrupted row continues where it stopped.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from edu.experiments._experiment import Experiment
from edu.experiments._settings import Settings
from edu.train import (
    Distillation,
    FitResult,
    fit,
    load_checkpoint,
    make_scheduler,
    make_sgd,
    seed_everything,
)

__all__ = ["CHECKPOINT", "finetune", "float_teacher", "make_optimizer"]

CHECKPOINT = "checkpoint.pt"
"""Name of a training row's per-epoch (resumable) checkpoint in its folder."""


def float_teacher(exp: Experiment) -> tuple[Distillation, dict[str, Any]]:
    """Distillation from the float checkpoint every row starts from, with what a row's
    ``details`` record of it (the teacher, the temperature and the weight)."""
    distillation = Distillation(exp.model())
    return distillation, {"teacher": "float checkpoint", **distillation.describe()}


def make_optimizer(
    net: nn.Module, settings: Settings, total_steps: int
) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler]:
    """SGD (Nesterov, momentum, weight decay) and its per-step cosine schedule.

    Parameters
    ----------
    net : nn.Module
    settings : Settings
        ``lr``, ``momentum``, ``weight_decay``.
    total_steps : int
        Optimizer steps of the whole run (epochs times batches per epoch).

    Returns
    -------
    (torch.optim.SGD, torch.optim.lr_scheduler.CosineAnnealingLR)

    Notes
    -----
    :math:`\\eta_t = \\eta_0 (1 + \\cos(\\pi t / T)) / 2` for step :math:`t` of
    :math:`T`, from ``lr`` down to 0 (Loshchilov and Hutter, "SGDR", ICLR 2017,
    without restarts).
    """
    optimizer = make_sgd(
        net, lr=settings.lr, momentum=settings.momentum, weight_decay=settings.weight_decay
    )
    return optimizer, make_scheduler(optimizer, "cosine", settings.lr, total_steps)


def _discard_other_run(path: Path, settings: dict, exp: Experiment) -> None:
    """Delete a per-epoch checkpoint written with other settings (it cannot be resumed)."""
    if path.exists() and load_checkpoint(path).get("args") != settings:
        exp.say(f"{path} was written with other settings: starting this row afresh")
        path.unlink()


def finetune(
    exp: Experiment,
    net: nn.Module,
    row_dir: Path,
    *,
    before_epoch: Callable[[int, nn.Module], None] | None = None,
    after_step: Callable[[nn.Module], None] | None = None,
    best_from_epoch: int = 0,
    after_step_from_optimizer: Callable[[torch.optim.Optimizer], Callable[[nn.Module], None]]
    | None = None,
    distillation: Distillation | None = None,
) -> FitResult:
    """Finetune ``net`` for ``exp.settings.epochs`` epochs and load its best weights.

    Parameters
    ----------
    exp : Experiment
    net : nn.Module
        On ``exp.device``; trained in place, and left holding the weights of the
        epoch with the best test accuracy (from ``best_from_epoch`` on).
    row_dir : Path
        Where the per-epoch checkpoint :data:`CHECKPOINT` is written and resumed from.
    before_epoch, after_step : callable, optional
        The hooks of :func:`edu.train.fit` (pruning schedule, mask re-application).
    best_from_epoch : int, default 0
        First epoch (0-based) that competes for the best accuracy.
    after_step_from_optimizer : callable optimizer -> after_step, optional
        For a hook that needs the optimizer this function makes (a proximal step reads
        its learning rate); instead of ``after_step``.
    distillation : Distillation, optional
        Learn from a teacher's soft outputs as well as the labels (the same recipe
        otherwise).

    Returns
    -------
    FitResult

    Notes
    -----
    The data order restarts from ``exp.settings.seed`` in every row, and the
    generator's state is checkpointed, so a resumed row sees the batches an
    uninterrupted one would. A checkpoint left by a run with other settings is
    deleted, not resumed. On CUDA, float models train under bfloat16 autocast;
    quantized ones in float32, so that the forward pass sees weights on their
    ``N``-bit grid (bfloat16 keeps 8 significant bits).
    """
    settings = exp.settings
    args = settings.as_dict()
    checkpoint = row_dir / CHECKPOINT
    _discard_other_run(checkpoint, args, exp)
    generator = seed_everything(settings.seed)
    train_loader = exp.train_loader(generator)
    optimizer, scheduler = make_optimizer(net, settings, settings.epochs * len(train_loader))
    if after_step_from_optimizer is not None:
        if after_step is not None:
            raise ValueError("give after_step or after_step_from_optimizer, not both")
        after_step = after_step_from_optimizer(optimizer)
    result = fit(
        net,
        optimizer,
        train_loader,
        exp.test_loader,
        epochs=settings.epochs,
        scheduler=scheduler,
        device=exp.device,
        before_epoch=before_epoch,
        after_step=after_step,
        best_from_epoch=best_from_epoch,
        checkpoint_path=checkpoint,
        resume=True,
        generator=generator,
        args=args,
        mixed_precision=exp.device.type == "cuda" and getattr(net, "Nbits", None) is None,
        progress=exp.progress,
        log=exp.log,
        distillation=distillation,
    )
    net.load_state_dict(result.best_state)
    return result
