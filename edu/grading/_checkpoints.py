"""The submitted checkpoints: read in a sandbox, checked in the grader as plain tensors.

A ``.pt`` file is parsed by ``torch.load(weights_only=True)`` in a sandboxed process
that runs no student code (:class:`edu.grading._student.StudentCode` with no cells),
and only its tensors come back, as arrays. So a malicious file (a pickle with code in
it) is refused by the loader and can at worst crash that process; a malformed one
(truncated, not a state dict, tensors of the wrong shapes) is a failed check whose
message says what is wrong. The grader then builds the model the checkpoint is for
(:data:`edu.notebook.SUBMISSION_CHECKPOINTS`: depth, bits, symmetric), loads the
weights strictly and measures sparsity, weight levels and CIFAR-10 accuracy with the
reference code only. A file that is a copy of a reference checkpoint, or that the class
pass found near-identical to a classmate's (:mod:`edu.grading._copies`), is refused when
its model is built, so no check of it earns a point.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from pathlib import Path

import torch

from edu.data import BatchLoader, DataNotFoundError, find_data_root, load_cifar10, take
from edu.experiments import level_budget
from edu.grading._checks import CheckFailed, StudentError
from edu.grading._copies import (
    References,
    pretrained_signature,
    reference_copy_message,
    untrained_counterpart,
)
from edu.grading._output_similarity import COPY_RATIO, OutputMove, move_ratio
from edu.grading._student import StudentCode
from edu.models import (
    ResNetCIFAR,
    infer_inner_channels,
    infer_num_layers,
    resnet_from_state_dict,
)
from edu.notebook import SUBMISSION_CHECKPOINTS, SubmissionCheckpoint
from edu.prune import prunable_layers
from edu.quant import count_weight_levels
from edu.train import evaluate
from edu.train._checkpoint import load_failure_reason

__all__ = ["CheckpointSet", "cifar10_test_subset", "find_cifar10"]

_MAX_MESSAGE = 400


def find_cifar10(root: str | None = None) -> str | None:
    """The data root the accuracy checks would read, or None when nothing is there.

    :func:`edu.data.find_data_root` names the per-user folder even when it does not
    exist; grading needs to know before it starts whether there is data at all.
    """
    try:
        path = find_data_root(root)
    except DataNotFoundError:
        return None
    if (path.is_dir() and any(path.iterdir())) or path.is_file():
        return str(path)
    return None


@functools.lru_cache(maxsize=4)
def cifar10_test_subset(root: str | None, images: int) -> BatchLoader:
    """The first ``images`` CIFAR-10 test images (class-balanced) in batches of 500.

    ``images = 0`` means all 10,000. Cached per process: every submission a worker
    grades is evaluated on the same tensors.
    """
    test = load_cifar10("test", root)
    if images:
        test = take(test, images)
    return BatchLoader(test.images, test.labels, 500, train=False, source=test.source)


class CheckpointSet:
    """The checkpoints of one submission, by name (``SUBMISSION_CHECKPOINTS``).

    Parameters
    ----------
    files : mapping of str to bytes
        The submission's files by relative path.
    reader : callable
        Returns the :class:`StudentCode` (no cells) that parses files; called once,
        when the first checkpoint is read.
    folder : Path
        Where the files are put for the reader to see.
    data_root : str or None
        Where CIFAR-10 is (``None``: ``$EDU_DATA_ROOT``, then the cache).
    max_bytes : int
        Largest file read.
    specs : mapping, optional
        Default :data:`edu.notebook.SUBMISSION_CHECKPOINTS`.
    references : References, optional
        The reference checkpoints that a submitted one must not be a copy of
        (:func:`edu.grading._copies.load_references`); none by default.
    shared : mapping of str to str, optional
        Checkpoints refused as near-identical to a classmate's, with the message
        (:func:`edu.grading._copies.classmate_copies`).
    """

    def __init__(
        self,
        files: Mapping[str, bytes],
        reader: Callable[[], StudentCode],
        folder: Path,
        data_root: str | None,
        max_bytes: int,
        specs: Mapping[str, SubmissionCheckpoint] = SUBMISSION_CHECKPOINTS,
        references: References | None = None,
        shared: Mapping[str, str] | None = None,
    ) -> None:
        self.files = files
        self.reader = functools.cache(reader)
        self.folder = folder
        self.data_root = data_root
        self.max_bytes = max_bytes
        self.specs = specs
        self.references = references or References({})
        self.shared = shared or {}
        self._states: dict[str, dict[str, torch.Tensor] | CheckFailed] = {}
        self._verdicts: dict[str, str | None] = {}
        self._moves: dict[str, OutputMove] = {}
        self._accuracy: dict[tuple[str, int, bool], float] = {}

    def spec(self, name: str) -> SubmissionCheckpoint:
        """What the checkpoint ``name`` must be."""
        return self.specs[name]

    def moves(self) -> dict[str, list[float]]:
        """The :class:`OutputMove` of every submitted checkpoint that builds, as plain values.

        For the class pass on near-identical checkpoints, which must see a file again the
        next time even when it was refused as a classmate's copy. A file that is missing,
        unreadable, or not the model it must be has none; so has a copy of a reference
        checkpoint (refused as such, not paired with other copies of it), and so has an
        untrained one (:func:`edu.grading._copies.untrained_counterpart`: honest students
        who skip the training hand in the same file).
        """
        moves = {}
        for name, spec in self.specs.items():
            if spec.filename not in self.files:
                continue
            try:
                if not self._untrained(name) and self._reference_verdict(name) is None:
                    moves[name] = self._move(name).as_plain()
            except CheckFailed:
                continue
        return moves

    def state(self, name: str) -> dict[str, torch.Tensor]:
        """The tensors of ``<name>.pt``, read in the sandbox with ``weights_only=True``.

        Raises
        ------
        CheckFailed
            When the file is missing, too large, refused by the safe loader, or not a
            dict of tensors (the message says which). The verdict is cached.
        """
        if name not in self._states:
            try:
                self._states[name] = self._read(name)
            except CheckFailed as error:
                self._states[name] = error
        state = self._states[name]
        if isinstance(state, CheckFailed):
            raise type(state)(str(state))
        return state

    def _read(self, name: str) -> dict[str, torch.Tensor]:
        spec = self.spec(name)
        data = self.files.get(spec.filename)
        if data is None:
            raise CheckFailed(
                f"{spec.filename} is not in the submission: it is saved by the training cell "
                f"of part {spec.part} in {spec.notebook} (save_submission(net, {name!r}))"
            )
        if len(data) > self.max_bytes:
            raise CheckFailed(f"{spec.filename} is larger than {self.max_bytes >> 20} MiB")
        self.folder.mkdir(parents=True, exist_ok=True)
        self.folder.chmod(0o755)
        path = self.folder / spec.filename
        path.write_bytes(data)
        path.chmod(0o644)
        what = f"reading {spec.filename}"
        try:
            _, arrays = self.reader().request(
                "load_checkpoint", "load_checkpoint", {"path": str(path)}, {}, what
            )
        except StudentError as error:
            reason = str(error).removeprefix(f"{what} raised ").replace(str(path), spec.filename)
            kind, _, message = reason.partition(": ")
            if message:
                reason = f"{kind}: {load_failure_reason(message)}"
            raise CheckFailed(
                f"{spec.filename} was refused: it must hold a plain state dict (tensors only), "
                f"which torch.load(weights_only=True) reads without running code; "
                f"{reason[:_MAX_MESSAGE]}"
            ) from None
        state = {
            key.removeprefix("state/"): torch.from_numpy(value) for key, value in arrays.items()
        }
        if not state:
            raise CheckFailed(f"{spec.filename} holds no tensors")
        return state

    def model(self, name: str, *, quantized: bool = True) -> ResNetCIFAR:
        """The model ``name`` is for, with its weights loaded strictly, in eval mode.

        With ``quantized=False`` the same weights run in float, without the quantizer of
        a quantized checkpoint (what they compute unquantized).

        Raises
        ------
        CheckFailed
            When the file cannot be read (:meth:`state`), when its tensors do not fit
            the model (missing or extra keys, wrong shapes, another depth, blocks
            narrower than the model's: padding a model with zero channels cannot pass
            for pruning), or when it is a copy of a reference checkpoint or of a
            classmate's (the message says which; the verdict is cached).
        """
        net = self._built(name, quantized)
        if name not in self._verdicts:
            self._verdicts[name] = self._reference_verdict(name) or self.shared.get(name)
        if self._verdicts[name] is not None:
            raise CheckFailed(self._verdicts[name])
        return net

    def starting_point(self, name: str) -> ResNetCIFAR:
        """The model ``name`` is for, as the start of a later checkpoint: read and built
        as :meth:`model` does, without the copy checks.

        Whether a later checkpoint kept this one's zeros, or moved from its weights, is
        a fact of that later checkpoint whoever trained this one: a copied start costs
        its own checks, not those of what was trained from it.

        Raises
        ------
        CheckFailed
            When the file cannot be read or does not fit the model.
        """
        return self._built(name, True)

    def _move(self, name: str) -> OutputMove:
        """What the checkpoint's network, run as graded, computes differently from the
        pretrained model run the same way."""
        if name not in self._moves:
            spec = self.spec(name)
            start = pretrained_signature(spec.nbits, spec.symmetric)
            self._moves[name] = OutputMove.between(self._built(name, True), start)
        return self._moves[name]

    def _untrained(self, name: str) -> bool:
        """Whether the checkpoint computes what the pretrained model pruned to its zeros
        computes, run the same way: it holds no training of its own."""
        move = self._move(name)
        if move.norm == 0.0:
            return True
        spec = self.spec(name)
        counterpart = resnet_from_state_dict(
            untrained_counterpart(self.state(name)), Nbits=spec.nbits, symmetric=spec.symmetric
        )
        start = pretrained_signature(spec.nbits, spec.symmetric)
        return move_ratio(move, OutputMove.between(counterpart, start)) < COPY_RATIO

    def _reference_verdict(self, name: str) -> str | None:
        """Why ``name`` copies a reference checkpoint, or None when it copies none."""
        if not self.references:
            return None
        spec = self.spec(name)
        copied = self.references.copied(self._move(name), spec.nbits, spec.symmetric)
        return reference_copy_message(spec.filename, *copied) if copied else None

    def _built(self, name: str, quantized: bool) -> ResNetCIFAR:
        """:meth:`model` without the copy checks."""
        spec = self.spec(name)
        state = self.state(name)
        try:  # depth and widths from the shapes, before building anything
            depth, widths = infer_num_layers(state), infer_inner_channels(state)
        except ValueError as error:
            raise CheckFailed(
                f"{spec.filename} does not hold the weights of a ResNet-{spec.num_layers}: "
                f"{str(error)[:_MAX_MESSAGE]}"
            ) from None
        if depth != spec.num_layers:
            raise CheckFailed(
                f"{spec.filename} holds a ResNet-{depth}, not a ResNet-{spec.num_layers}"
            )
        with torch.device("meta"):
            full = ResNetCIFAR(num_layers=spec.num_layers).inner_channels
        if widths != full:
            raise CheckFailed(
                f"{spec.filename}: blocks of inner widths {widths}, a ResNet-{spec.num_layers} "
                f"has {full}"
            )
        try:
            net = resnet_from_state_dict(
                state, Nbits=spec.nbits if quantized else None, symmetric=spec.symmetric
            )
        except ValueError as error:
            raise CheckFailed(
                f"{spec.filename} does not hold the weights of a ResNet-{spec.num_layers}: "
                f"{str(error)[:_MAX_MESSAGE]}"
            ) from None
        return net.eval()

    def layer_sparsity(self, name: str) -> dict[str, float]:
        """Fraction of exactly-zero weights of every prunable layer, by layer name."""
        net = self.model(name)
        return {
            layer: int((module.weight == 0).sum()) / module.weight.numel()
            for layer, module in prunable_layers(net)
        }

    def total_sparsity(self, name: str) -> float:
        """Fraction of exactly-zero weights over all prunable layers together."""
        net = self.model(name)
        weights = torch.cat([m.weight.detach().flatten() for _, m in prunable_layers(net)])
        return int((weights == 0).sum()) / weights.numel()

    def weight_levels(self, name: str) -> tuple[dict[str, int], int]:
        """Distinct values of each quantized layer's weight as the forward uses it, and
        the most the checkpoint's bit width allows (:func:`edu.experiments.level_budget`)."""
        spec = self.spec(name)
        net = self.model(name)
        budget = level_budget(spec.nbits, spec.symmetric, pruned=spec.sparsity is not None)
        return count_weight_levels(net), budget

    def accuracy(self, name: str, images: int, *, quantized: bool = True) -> float:
        """Top-1 accuracy on the first ``images`` CIFAR-10 test images (0: all).

        ``quantized=False``: of the same weights run in float (:meth:`model`).
        """
        key = (name, images, quantized)
        if key not in self._accuracy:
            net = self.model(name, quantized=quantized)
            with torch.no_grad():
                result = evaluate(net, cifar10_test_subset(self.data_root, images))
            self._accuracy[key] = result.accuracy
        return self._accuracy[key]
