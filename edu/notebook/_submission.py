"""The checkpoints a student submits beside the homework notebooks, and how they are saved.

Training does not run while a notebook is graded (:func:`edu.notebook.training_enabled`),
so the trained results of Labs 2 and 3 are graded from files: the notebooks save them
with :func:`save_submission` under the names of :data:`SUBMISSION_CHECKPOINTS`, and the
grader reads them back with ``torch.load(weights_only=True)`` (:func:`load_submission`
does the same). A file holds a plain state dict, tensors only, so that reading it can
never run code.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from torch import nn

from edu.experiments import level_budget
from edu.models import ResNetCIFAR, resnet_from_state_dict
from edu.prune import plain_state_dict
from edu.train import load_state_dict, save_atomically

__all__ = [
    "SUBMISSION_CHECKPOINTS",
    "SubmissionCheckpoint",
    "load_submission",
    "save_submission",
]


@dataclass(frozen=True)
class SubmissionCheckpoint:
    """One checkpoint of the homework: what it holds and how it is checked.

    Attributes
    ----------
    name : str
        The name passed to :func:`save_submission`; the file is ``<name>.pt``.
    notebook : str
        The notebook whose training cell saves it.
    part : str
        The part of the course spec it answers, e.g. ``"2(c)"``.
    description : str
        What the model is.
    nbits : int or None
        The bit width the model is trained and evaluated with (``None``: float).
        The float weights are saved; the quantizer is applied when the model runs.
    symmetric : bool
        Whether the quantizer is the symmetric one.
    sparsity : float or None
        The fraction of zero weights expected in the prunable layers.
    sparsity_scope : {"layer", "global"} or None
        ``"layer"``: in every prunable layer; ``"global"``: over all of them together.
    num_layers : int
        The depth of the CIFAR ResNet (20).
    """

    name: str
    notebook: str
    part: str
    description: str
    nbits: int | None = None
    symmetric: bool = False
    sparsity: float | None = None
    sparsity_scope: str | None = None
    num_layers: int = 20

    @property
    def filename(self) -> str:
        """The file name: ``<name>.pt``."""
        return f"{self.name}.pt"

    @property
    def checks(self) -> tuple[str, ...]:
        """What is checked on the file, in words (the grader holds the checks themselves)."""
        model = f"ResNetCIFAR(num_layers={self.num_layers}"
        if self.nbits is not None:
            model += f", Nbits={self.nbits}, symmetric={self.symmetric}"
        checks = [f"loads with torch.load(weights_only=True) into {model})"]
        if self.sparsity is not None:
            where = (
                "of every prunable layer"
                if self.sparsity_scope == "layer"
                else "of all prunable layers together"
            )
            checks.append(f"{self.sparsity:.0%} of the weights {where} are exactly 0")
        if self.nbits is not None:
            budget = level_budget(self.nbits, self.symmetric, pruned=self.sparsity is not None)
            checks.append(f"every quantized layer uses at most {budget} distinct weight values")
        checks.append("its CIFAR-10 test accuracy is above the course's threshold")
        return tuple(checks)


SUBMISSION_CHECKPOINTS = MappingProxyType(
    {
        spec.name: spec
        for spec in (
            SubmissionCheckpoint(
                "lab2_finetune_70",
                "lab2_pruning.ipynb",
                "2(c)",
                "float ResNet-20 pruned to 70 % in every prunable layer, then finetuned "
                "with the mask kept",
                sparsity=0.70,
                sparsity_scope="layer",
            ),
            SubmissionCheckpoint(
                "lab2_global_iterative_70",
                "lab2_pruning.ipynb",
                "2(e)",
                "float ResNet-20 pruned iteratively with one global threshold to 70 % of "
                "all prunable weights together, finetuned",
                sparsity=0.70,
                sparsity_scope="global",
            ),
            SubmissionCheckpoint(
                "lab3_qat_4bit",
                "lab3_quantization.ipynb",
                "3(c)",
                "ResNet-20 finetuned with 4-bit asymmetric weights (quantization-aware); "
                "the float weights are saved",
                nbits=4,
            ),
            SubmissionCheckpoint(
                "lab3_sparse_qat_4bit",
                "lab3_quantization.ipynb",
                "3(d)",
                "the better 70 %-sparse model of Lab 2, (c) or (e), finetuned with 4-bit "
                "asymmetric weights; its pruned weights exactly 0",
                nbits=4,
                sparsity=0.70,
                sparsity_scope="global",
            ),
        )
    }
)
"""The checkpoints of the homework by name (read-only): Lab 2 (c), (e) and Lab 3 (c), (d)."""


def _spec(name: str) -> SubmissionCheckpoint:
    if name not in SUBMISSION_CHECKPOINTS:
        raise ValueError(
            f"unknown checkpoint name {name!r}; the homework's checkpoints are "
            f"{', '.join(SUBMISSION_CHECKPOINTS)} (without '.pt')"
        )
    return SUBMISSION_CHECKPOINTS[name]


def save_submission(net: nn.Module, name: str, folder: str | os.PathLike = ".") -> Path:
    """Save ``net``'s weights as the submission checkpoint ``<folder>/<name>.pt``.

    Parameters
    ----------
    net : nn.Module
        A CIFAR ResNet of the depth the checkpoint asks for (ResNet-20), on any
        device, with or without pruning masks attached (:func:`edu.prune.prepare`).
        A :class:`edu.models.ResNetCIFAR` must also have the checkpoint's ``Nbits``
        and ``symmetric``.
    name : str
        One of :data:`SUBMISSION_CHECKPOINTS`, without ``.pt``.
    folder : str or path-like, default "."
        Where to write; the notebook's own folder by default, which is where the
        submission is collected from. Created if missing.

    Returns
    -------
    Path
        The file written. An existing file of that name is replaced.

    Raises
    ------
    ValueError
        If ``name`` is not a homework checkpoint, or ``net`` is not a CIFAR ResNet
        of the expected depth, ``Nbits`` and ``symmetric``.

    Notes
    -----
    The file holds :func:`edu.prune.plain_state_dict` ``(net)`` (masks folded into
    the weights, so pruned weights are stored as 0) with every tensor detached,
    copied to the CPU and made contiguous: tensors and nothing else, which
    ``torch.load(path, weights_only=True)`` reads without running any code. It is
    written to a temporary file in ``folder`` and renamed over ``<name>.pt``, so an
    interrupted save never leaves a truncated checkpoint.

    Examples
    --------
    >>> import tempfile
    >>> import torch
    >>> from edu.models import pretrained_resnet20
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = save_submission(pretrained_resnet20(Nbits=4), "lab3_qat_4bit", folder)
    ...     state = torch.load(path, weights_only=True)
    >>> path.name, len(state), all(isinstance(v, torch.Tensor) for v in state.values())
    ('lab3_qat_4bit.pt', 128, True)
    """
    spec = _spec(name)
    state = {
        key: value.detach().to("cpu").contiguous().clone()
        for key, value in plain_state_dict(net).items()
    }
    try:
        depth = resnet_from_state_dict(state).num_layers
    except ValueError as error:
        raise ValueError(f"{name} must be the weights of a CIFAR ResNet: {error}") from error
    if depth != spec.num_layers:
        raise ValueError(f"{name} must be a ResNet-{spec.num_layers}, got a ResNet-{depth}")
    if isinstance(net, ResNetCIFAR) and (net.Nbits, net.symmetric) != (spec.nbits, spec.symmetric):
        raise ValueError(
            f"{name} is the model with Nbits={spec.nbits}, symmetric={spec.symmetric}; "
            f"this model has Nbits={net.Nbits}, symmetric={net.symmetric}"
        )
    return save_atomically(Path(folder) / spec.filename, state)


def load_submission(
    name: str, folder: str | os.PathLike = ".", quantizer: object | None = None
) -> ResNetCIFAR:
    """Read the submission checkpoint ``<folder>/<name>.pt`` into the model it is for.

    Parameters
    ----------
    name : str
        One of :data:`SUBMISSION_CHECKPOINTS`, without ``.pt``.
    folder : str or path-like, default "."
        Where the file is.
    quantizer : callable or autograd.Function subclass, optional
        The quantizer of a quantized checkpoint's model (a notebook passes the
        student's ``STE``); default the reference :class:`edu.quant.STE`.

    Returns
    -------
    ResNetCIFAR
        With the checkpoint's ``Nbits`` and ``symmetric``, the weights loaded
        strictly, on the CPU, in eval mode.

    Raises
    ------
    FileNotFoundError
        If the file is missing; the message names the notebook part that saves it.
    edu.train.CheckpointError
        If the file cannot be read with ``weights_only=True`` (truncated, not a
        torch file, a pickle with code in it) or holds no tensors.
    ValueError
        If ``name`` is unknown, or the weights are not those of a CIFAR ResNet of
        the expected depth (wrong keys or shapes).

    Examples
    --------
    >>> import tempfile
    >>> from edu.models import pretrained_resnet20
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = save_submission(pretrained_resnet20(Nbits=4), "lab3_qat_4bit", folder)
    ...     net = load_submission("lab3_qat_4bit", folder)
    >>> net.num_layers, net.Nbits, net.training
    (20, 4, False)
    """
    spec = _spec(name)
    path = Path(folder) / spec.filename
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} not found: it is saved by the training cell of part {spec.part} in "
            f"{spec.notebook} (save_submission(net, {name!r}))"
        )
    state = load_state_dict(path)
    try:
        net = resnet_from_state_dict(
            state, Nbits=spec.nbits, symmetric=spec.symmetric, quantizer=quantizer
        )
    except ValueError as error:
        raise ValueError(f"{path} does not hold a CIFAR ResNet: {error}") from error
    if net.num_layers != spec.num_layers:
        raise ValueError(f"{path} holds a ResNet-{net.num_layers}, not a ResNet-{spec.num_layers}")
    return net.eval()
