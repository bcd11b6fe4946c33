"""Finetuning in the notebooks: the recipe of ``edu reproduce``, run on the student's code.

The training rows of Labs 2 and 3 (:mod:`edu.experiments`) finetune with SGD (Nesterov
momentum 0.9, weight decay 5e-4) and a per-step cosine learning rate from 0.01 to 0,
keeping the weights of the epoch with the best test accuracy. :func:`finetune` runs the
same recipe with one difference that lets a notebook plug in the functions its student
wrote: an epoch can be the student's ``finetune_after_prune`` (and
:class:`edu.prune.IterativePruning` takes the student's pruning step). There is no
per-epoch checkpoint to resume from; the notebook saves the final model with
:func:`edu.notebook.save_submission`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import torch
from torch import nn

from edu.experiments import Settings, make_optimizer
from edu.train import FitResult, fit

__all__ = ["finetune"]

Batches = Iterable[tuple[torch.Tensor, torch.Tensor]]
TrainEpoch = Callable[[nn.Module, Batches, Callable, torch.optim.Optimizer], object]


class _SchedulerSteps:
    """The batches of ``loader``; ``scheduler.step()`` runs after each has been used.

    An epoch written by a student takes no scheduler; stepping it when the next batch
    is asked for (after the optimizer step on the previous one) keeps the per-step
    cosine schedule of the reference recipe.
    """

    def __init__(self, loader: Batches, scheduler: torch.optim.lr_scheduler.LRScheduler) -> None:
        self.loader = loader
        self.scheduler = scheduler

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for batch in self.loader:
            yield batch
            self.scheduler.step()


def finetune(
    net: nn.Module,
    train_loader: Batches,
    test_loader: Batches,
    *,
    epochs: int,
    train_epoch: TrainEpoch | None = None,
    before_epoch: Callable[[int, nn.Module], None] | None = None,
    after_step: Callable[[nn.Module], None] | None = None,
    best_from_epoch: int = 0,
    lr: float = Settings.lr,
    device: torch.device | str = "cpu",
    progress: bool = True,
    log: Callable[[str], None] | None = print,
) -> FitResult:
    """Finetune ``net`` with the reference recipe; leave it holding its best weights.

    Parameters
    ----------
    net : nn.Module
        On ``device``; trained in place.
    train_loader, test_loader : iterable of (x, y)
        Training batches (a sized iterable, e.g. :class:`edu.data.BatchLoader`) and
        the test batches evaluated after every epoch.
    epochs : int
        Number of epochs (the course's runs use 20).
    train_epoch : callable ``(net, loader, criterion, optimizer) -> object``, optional
        One epoch of training, e.g. a student's ``finetune_after_prune``; its return
        value is ignored. Default: :func:`edu.train.train_one_epoch` with
        ``after_step``.
    before_epoch : callable ``(epoch, net) -> None``, optional
        Runs before each epoch (e.g. :meth:`edu.prune.IterativePruning.before_epoch`).
    after_step : callable ``(net) -> None``, optional
        Runs after every optimizer step of the default epoch (e.g. re-applying
        masks). Not allowed with ``train_epoch``, which must keep its own masks.
    best_from_epoch : int, default 0
        First epoch (0-based) whose test accuracy competes for the best.
    lr : float, default 0.01
        The initial learning rate (:class:`edu.experiments.Settings`).
    device : torch.device or str, default "cpu"
    progress : bool, default True
        Progress bars for the default epoch.
    log : callable str -> None or None, default print
        Receives one line per epoch.

    Returns
    -------
    FitResult
        Per-epoch ``epoch``, ``lr`` (after the epoch), ``test_loss``,
        ``test_accuracy``, ``seconds`` (plus ``train_loss`` and ``train_accuracy``
        when the epoch returns an :class:`edu.train.EpochResult`), the best accuracy,
        its epoch and weights: :func:`edu.train.fit`'s loop runs the epochs.

    Raises
    ------
    ValueError
        If ``epochs < 1``, ``best_from_epoch`` is not below ``epochs``, or both
        ``train_epoch`` and ``after_step`` are given.

    Notes
    -----
    The optimizer and schedule are :func:`edu.experiments.make_optimizer` of
    :class:`edu.experiments.Settings` with ``epochs`` and ``lr``: SGD (Nesterov,
    momentum 0.9, weight decay 5e-4), cosine learning rate
    :math:`\\eta_t = \\eta_0 (1 + \\cos(\\pi t / T)) / 2` stepped after every optimizer
    step. The loss is cross-entropy. Given the same batches, the default epoch
    reproduces :func:`edu.experiments.finetune` (in float32).
    """
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    if not 0 <= best_from_epoch < epochs:
        raise ValueError(f"best_from_epoch must be in [0, {epochs - 1}], got {best_from_epoch}")
    if train_epoch is not None and after_step is not None:
        raise ValueError("after_step applies to the default epoch only; train_epoch keeps its own")
    settings = Settings(checkpoint_sha256="", epochs=epochs, lr=lr)
    optimizer, scheduler = make_optimizer(net, settings, epochs * len(train_loader))
    student_epoch = None
    if train_epoch is not None:
        criterion = nn.CrossEntropyLoss()
        steps = _SchedulerSteps(train_loader, scheduler)

        def student_epoch(net: nn.Module, epoch: int) -> object:
            return train_epoch(net, steps, criterion, optimizer)

    result = fit(
        net,
        optimizer,
        train_loader,
        test_loader,
        epochs=epochs,
        scheduler=None if train_epoch is not None else scheduler,
        device=device,
        before_epoch=before_epoch,
        after_step=after_step,
        best_from_epoch=best_from_epoch,
        progress=progress,
        log=log,
        train_epoch=student_epoch,
    )
    net.load_state_dict(result.best_state)
    return result
