"""The epoch loop: train, evaluate, keep the best weights, checkpoint every epoch, resume.

Everything specific to an experiment comes in through two hooks, so that the same loop
trains from scratch, finetunes with fixed pruning masks, follows a pruning schedule
or runs quantization-aware training:

- ``before_epoch(epoch, net)`` runs before each epoch (e.g. prune to the schedule's
  sparsity);
- ``after_step(net)`` runs after every optimizer step (e.g. re-apply the masks).

An epoch of training written elsewhere (a student's ``finetune_after_prune``) can
replace the default one through ``train_epoch``; the loop around it stays the same.

With ``average_from``, the loop also keeps the average of the weights at the end of
every epoch from that one on (stochastic weight averaging, Izmailov et al., 2018, with
:class:`torch.optim.swa_utils.AveragedModel`): an average of the points a constant or
cyclic learning rate visits lies nearer the middle of a wide minimum than any of them,
and often generalizes better. Its BatchNorm statistics are computed afresh at the end,
with one pass over the training data (:func:`torch.optim.swa_utils.update_bn`).
"""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn.utils import parametrize
from torch.optim import swa_utils

from edu.prune import plain_state_dict
from edu.train._checkpoint import load_checkpoint, save_checkpoint
from edu.train._distill import Distillation
from edu.train._loops import evaluate, train_one_epoch

__all__ = ["AveragedWeights", "FitResult", "fit"]


@dataclass
class FitResult:
    """What a run produced: per-epoch history and the best test accuracy and weights."""

    history: list[dict[str, float]] = field(default_factory=list)
    best_accuracy: float = float("nan")
    best_epoch: int = -1
    best_state: dict[str, torch.Tensor] | None = None
    average: AveragedWeights | None = None

    @property
    def final(self) -> dict[str, float]:
        """The last epoch's row of the history."""
        return self.history[-1]


@dataclass
class AveragedWeights:
    """The average of the weights of the last ``epochs`` epochs, with its test result."""

    state: dict[str, torch.Tensor]
    epochs: int
    test_accuracy: float
    test_loss: float


def _cpu_state(net: nn.Module) -> dict[str, torch.Tensor]:
    """The weights as a plain CPU state dict (masks folded in), loadable into a bare model."""
    return {
        key: value.detach().to("cpu", copy=True) for key, value in plain_state_dict(net).items()
    }


def fit(
    net: nn.Module,
    optimizer: torch.optim.Optimizer,
    train_loader: Iterable,
    test_loader: Iterable,
    *,
    epochs: int,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
    device: torch.device | str = "cpu",
    before_epoch: Callable[[int, nn.Module], None] | None = None,
    after_step: Callable[[nn.Module], None] | None = None,
    best_from_epoch: int = 0,
    checkpoint_path: str | os.PathLike | None = None,
    resume: bool = False,
    generator: torch.Generator | None = None,
    args: dict[str, Any] | None = None,
    mixed_precision: bool = False,
    progress: bool = True,
    log: Callable[[str], None] | None = print,
    train_epoch: Callable[[nn.Module, int], object] | None = None,
    average_from: int | None = None,
    distillation: Distillation | None = None,
) -> FitResult:
    """Train ``net`` for ``epochs`` epochs, evaluating on ``test_loader`` after each.

    Parameters
    ----------
    net, optimizer, scheduler
        The model and its optimizer; the scheduler is stepped after every batch.
    train_loader, test_loader : iterable of (x, y)
    epochs : int
        Total number of epochs, counting those already done when resuming.
    before_epoch, after_step : callable, optional
        Hooks, see the module docstring.
    best_from_epoch : int, default 0
        Only epochs from this one on compete for the best accuracy (Lab 2 (d) keeps
        the best from the epoch where the final mask is enforced).
    checkpoint_path : path, optional
        Written after every epoch: model, optimizer, scheduler, epoch, history, best
        weights, the data generator's state and ``args``. Weights are saved as plain
        state dicts (pruning masks folded in), so they load into a bare model.
    resume : bool
        Continue from ``checkpoint_path`` if it exists.
    generator : torch.Generator, optional
        The generator that shuffles and augments the training data; its state is
        checkpointed so that a resumed run sees the same batches as an uninterrupted one.
    args : dict, optional
        Plain values describing the run (the command's arguments), stored in checkpoints.
    train_epoch : callable ``(net, epoch) -> object``, optional
        Trains one epoch in place of :func:`edu.train.train_one_epoch`; it must step the
        optimizer (and the scheduler, which is then not stepped here) itself. When it
        returns an object with ``loss`` and ``accuracy``, they are the epoch's
        ``train_loss`` and ``train_accuracy``; otherwise the history has none.
    average_from : int, optional
        Average the weights at the end of every epoch from this one on (0-based; see
        the module docstring); the result's ``average`` holds the average, its
        BatchNorm statistics recomputed on ``train_loader``, and its test accuracy.
        The running average is checkpointed with the rest.
    distillation : Distillation, optional
        Train the default epoch on the teacher's soft outputs with the labels
        (:class:`edu.train.Distillation`).

    Returns
    -------
    FitResult

    Raises
    ------
    ValueError
        If ``train_epoch`` is given with ``after_step``, ``scheduler`` or
        ``distillation``, which only the default epoch uses.
    """
    if train_epoch is not None and (
        after_step is not None or scheduler is not None or distillation is not None
    ):
        raise ValueError(
            "after_step, scheduler and distillation apply to the default epoch, not train_epoch"
        )
    device = torch.device(device)
    result = FitResult()
    averaged = None if average_from is None else swa_utils.AveragedModel(net)
    start_epoch = 0
    if resume and checkpoint_path is not None and Path(checkpoint_path).exists():
        start_epoch = _restore(
            checkpoint_path, net, optimizer, scheduler, generator, result, averaged
        )
        if log:
            log(f"resumed from {checkpoint_path} after epoch {start_epoch}")
    for epoch in range(start_epoch, epochs):
        started = time.perf_counter()
        if before_epoch is not None:
            before_epoch(epoch, net)
        if train_epoch is None:
            train = train_one_epoch(
                net,
                train_loader,
                optimizer,
                scheduler=scheduler,
                after_step=after_step,
                device=device,
                mixed_precision=mixed_precision,
                progress=progress,
                description=f"epoch {epoch + 1}/{epochs}",
                distillation=distillation,
            )
        else:
            train = train_epoch(net, epoch)
        test = evaluate(net, test_loader, device=device)
        if averaged is not None and epoch >= average_from:
            averaged.update_parameters(net)
        row = {"epoch": epoch + 1, "lr": optimizer.param_groups[0]["lr"]}
        trained = ""
        if hasattr(train, "loss") and hasattr(train, "accuracy"):
            row |= {"train_loss": train.loss, "train_accuracy": train.accuracy}
            trained = f"  train loss {train.loss:.4f} acc {train.accuracy:.4f}"
        row |= {
            "test_loss": test.loss,
            "test_accuracy": test.accuracy,
            "seconds": time.perf_counter() - started,
        }
        result.history.append(row)
        if epoch >= best_from_epoch and (
            result.best_epoch < 0 or test.accuracy > result.best_accuracy
        ):
            result.best_accuracy, result.best_epoch = test.accuracy, epoch + 1
            result.best_state = _cpu_state(net)
        if log:
            log(
                f"epoch {epoch + 1:3d}/{epochs}{trained}"
                f"  test loss {test.loss:.4f} acc {test.accuracy:.4f}  ({row['seconds']:.0f} s)"
            )
        if checkpoint_path is not None:
            save_checkpoint(
                checkpoint_path,
                {
                    "model": _cpu_state(net),
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict() if scheduler is not None else None,
                    "epoch": epoch + 1,
                    "history": result.history,
                    "best_accuracy": result.best_accuracy,
                    "best_epoch": result.best_epoch,
                    "best_state": result.best_state,
                    "generator_state": generator.get_state() if generator is not None else None,
                    "args": dict(args or {}),
                    "average": (
                        {k: v.detach().cpu() for k, v in averaged.state_dict().items()}
                        if averaged is not None
                        else None
                    ),
                },
            )
    if averaged is not None and int(averaged.n_averaged) > 0:
        result.average = _finish_average(averaged, train_loader, test_loader, device)
        if log:
            log(
                f"average of the last {result.average.epochs} epochs: test loss "
                f"{result.average.test_loss:.4f} acc {result.average.test_accuracy:.4f}"
            )
    return result


def _finish_average(
    averaged: swa_utils.AveragedModel,
    train_loader: Iterable,
    test_loader: Iterable,
    device: torch.device,
) -> AveragedWeights:
    """The average with BatchNorm statistics of its own (one pass over the training
    data, as the average was never run), evaluated on the test data."""
    model = averaged.module
    swa_utils.update_bn(train_loader, model, device=device)
    test = evaluate(model, test_loader, device=device)
    return AveragedWeights(_cpu_state(model), int(averaged.n_averaged), test.accuracy, test.loss)


def _restore(
    checkpoint_path: str | os.PathLike,
    net: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None,
    generator: torch.Generator | None,
    result: FitResult,
    averaged: swa_utils.AveragedModel | None,
) -> int:
    """Load a checkpoint written by :func:`fit` into the live objects; return its epoch."""
    if any(parametrize.is_parametrized(module) for module in net.modules()):
        raise ValueError(
            "cannot resume into a model with attached masks: checkpoints hold plain weights. "
            "Resume into the bare model and rebuild the masks from its non-zeros "
            "(edu.prune.masks_from_nonzeros) in before_epoch."
        )
    state = load_checkpoint(checkpoint_path)
    net.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    if scheduler is not None and state.get("scheduler") is not None:
        scheduler.load_state_dict(state["scheduler"])
    if generator is not None and state.get("generator_state") is not None:
        generator.set_state(state["generator_state"])
    result.history = copy.deepcopy(list(state["history"]))
    result.best_accuracy = float(state["best_accuracy"])
    result.best_epoch = int(state["best_epoch"])
    result.best_state = state.get("best_state")
    if averaged is not None:
        if state.get("average") is None:
            raise ValueError(
                f"cannot resume {checkpoint_path} with weight averaging: it was written without it"
            )
        averaged.load_state_dict(state["average"])
    return int(state["epoch"])
