"""What every row of a reproduction needs: weights, data, device, settings, output folder.

An :class:`Experiment` is built once per command and handed to each row; a row returns
a :class:`RowResult`. The data comes in as loader factories, so this layer does not
decide where CIFAR-10 is read from (the command line does) and tests can pass small
in-memory loaders.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from edu.experiments._settings import Settings
from edu.models import ResNetCIFAR, resnet_from_state_dict
from edu.train import FitResult

__all__ = ["MODEL_FILE", "ROW_FILE", "Experiment", "RowResult"]

MODEL_FILE = "model.pt"
"""A row's weights: ``{"state_dict": ..., "meta": ...}`` (:func:`edu.train.save_checkpoint`)."""

ROW_FILE = "row.json"
"""A finished row's record: its numbers, settings, history and checks."""

Batches = Iterable[tuple[torch.Tensor, torch.Tensor]]


@dataclass
class Experiment:
    """The shared inputs of the rows of ``edu reproduce``.

    Parameters
    ----------
    weights : mapping of str to torch.Tensor
        The float checkpoint's state dict; every row starts from it (or from a row
        of Lab 2 that started from it).
    settings : Settings
    output_dir : Path
        Root of the outputs; a row writes into ``output_dir / lab / row``.
    train_loader : callable torch.Generator -> iterable of (x, y)
        Builds the shuffled, augmented training batches drawing from the generator
        (called once per finetuning row, so that each row's data order is seeded
        and checkpointed on its own).
    test_loader : iterable of (x, y)
        The test batches every row is evaluated on.
    device : torch.device
    progress : bool, default True
        Show progress bars while finetuning.
    log : callable str -> None or None, default print
        Where progress lines go.
    about : dict, optional
        Plain facts recorded in every ``row.json`` (checkpoint, data, device).
    scan_loader : iterable of (x, y), optional
        Training images without augmentation, for the choices a row makes from data
        (Lab 4's sensitivity scan), so that the test set chooses nothing.
    prerequisites : Experiment, optional
        Where the rows this one starts from live (:attr:`Row.requires`), with their
        settings: a run of extra seeds starts from the rows of the main seed's run.
        Default: this experiment itself.
    """

    weights: Mapping[str, torch.Tensor]
    settings: Settings
    output_dir: Path
    train_loader: Callable[[torch.Generator], Batches]
    test_loader: Batches
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    progress: bool = True
    log: Callable[[str], None] | None = print
    about: dict[str, Any] = field(default_factory=dict)
    scan_loader: Batches | None = None
    prerequisites: Experiment | None = None

    @property
    def base(self) -> Experiment:
        """The experiment whose rows this one's rows start from (:attr:`prerequisites`)."""
        return self if self.prerequisites is None else self.prerequisites

    def row_dir(self, lab: str, row: str) -> Path:
        """The folder of one row's outputs."""
        return self.output_dir / lab / row

    def model_path(self, lab: str, row: str) -> Path:
        """Where a row's weights (:data:`MODEL_FILE`) are written."""
        return self.row_dir(lab, row) / MODEL_FILE

    def model(
        self,
        weights: Mapping[str, torch.Tensor] | None = None,
        Nbits: int | None = None,  # the course's name
        symmetric: bool = False,
    ) -> ResNetCIFAR:
        """A ResNet with ``weights`` (default the float checkpoint), on the device.

        The model is in ``channels_last`` memory format, as everywhere in the package.
        """
        net = resnet_from_state_dict(
            self.weights if weights is None else weights, Nbits=Nbits, symmetric=symmetric
        )
        return net.to(self.device, memory_format=torch.channels_last)

    def say(self, message: str) -> None:
        """Pass ``message`` to :attr:`log` if there is one."""
        if self.log is not None:
            self.log(message)


@dataclass
class RowResult:
    """What a row function returns: the model to report on, and how it got there.

    Attributes
    ----------
    net : nn.Module
        The model the row reports (the best weights for finetuning rows).
    fit : FitResult or None
        The finetuning history, for rows that train.
    details : dict
        Row-specific facts recorded in ``row.json`` (e.g. the pruning threshold).
    verify : callable Path -> dict, optional
        Checks run on the saved ``model.pt`` (read back from disk); the returned
        facts are added to ``details``, and a ``False`` under a key ending in
        ``"_ok"`` marks the row as failed.
    """

    net: nn.Module
    fit: FitResult | None = None
    details: dict[str, Any] = field(default_factory=dict)
    verify: Callable[[Path], dict[str, Any]] | None = None
