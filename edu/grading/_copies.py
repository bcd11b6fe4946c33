"""Checkpoints that earn nothing because they are copies: of the course's reference runs,
or of a classmate's file.

Both are measured by :func:`edu.grading._output_similarity.move_ratio`: the distance
between what two checkpoints' networks compute, relative to the shorter of their moves
away from the pretrained model, below
:data:`~edu.grading._output_similarity.COPY_RATIO`.

- **Reference copies.** The hidden checks' folder holds the reference checkpoints of the
  reproduction (``grader/reference/``, and under it ``retired/``: those of earlier
  versions of the course, which earlier releases of the package shipped to every
  student). A submitted checkpoint near any of them, run the way the submission's
  checkpoint is graded, is refused by :class:`edu.grading.CheckpointSet`, so every check
  of that file fails with the reason. It takes no part in the class pass: two students
  who copied the reference are each told so, not paired with each other.
- **Untrained checkpoints.** A checkpoint that computes what its
  :func:`untrained_counterpart` computes (the pretrained model pruned to the same zeros,
  and quantized as graded), within the threshold, is nobody's copy: two students who
  prune the pretrained model and skip the training hand in the same file honestly, and
  the accuracy and training checks are the ones that refuse it.
- **Classmate copies.** Two students' checkpoints of one name closer than the threshold
  (from the moves each grading keeps) cost both of them every check of that file: the
  grader cannot tell who trained and who copied. Their feedback says so without naming
  the other; ``similarity.html`` lists the pair for the instructor, who restores the
  points of the one who did the work (a manual grade in formgrader).
"""

from __future__ import annotations

import functools
from collections.abc import Hashable, Mapping
from pathlib import Path

import torch

from edu.grading._output_similarity import (
    COPY_RATIO,
    OutputMove,
    move_ratio,
    output_signature,
    similar_checkpoints,
)
from edu.models import pretrained_resnet20, resnet_from_state_dict
from edu.notebook import SUBMISSION_CHECKPOINTS

__all__ = [
    "REFERENCES_IN_CHECKS",
    "References",
    "classmate_copies",
    "comparison_groups",
    "load_references",
    "pretrained_signature",
    "reference_copy_message",
    "untrained_counterpart",
]

REFERENCES_IN_CHECKS = "reference"
"""The subfolder of the hidden checks' folder that holds the reference checkpoints (in the
course repository, :data:`edu.experiments.REFERENCE_FOLDER`)."""

RETIRED_FOLDER = "retired"
"""Under :data:`REFERENCES_IN_CHECKS`: the sets of earlier releases."""

_INDEPENDENT = "independent runs of the course are 0.43 apart or more"


@functools.cache
def _pretrained_state() -> dict[str, torch.Tensor]:
    return pretrained_resnet20().state_dict()


@functools.lru_cache(maxsize=8)
def pretrained_signature(nbits: int | None, symmetric: bool) -> torch.Tensor:
    """The pretrained model's :func:`output_signature`, run at ``nbits`` (float: None):
    where every checkpoint's move starts."""
    net = resnet_from_state_dict(_pretrained_state(), Nbits=nbits, symmetric=symmetric)
    return output_signature(net)


def untrained_counterpart(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The pretrained model with ``state``'s zeros: what pruning alone gives, without any
    training (every convolution and linear weight of ``state``'s shape, zero where it is)."""
    counterpart = {}
    for key, value in _pretrained_state().items():
        mine = state.get(key)
        fits = mine is not None and mine.shape == value.shape and key.endswith(".weight")
        counterpart[key] = value * (mine != 0) if fits and value.dim() >= 2 else value
    return counterpart


class References:
    """The reference checkpoints a submission must not copy, by label.

    Each is run the way the submitted checkpoint it is compared with is graded (a
    reference of Lab 2 handed in as a Lab 3 checkpoint runs through that checkpoint's
    quantizer); its moves are computed once per way of running it.

    Parameters
    ----------
    states : mapping of str to (mapping of str to torch.Tensor)
        Each reference's state dict by label (its path under the reference folder).
    """

    def __init__(self, states: Mapping[str, Mapping[str, torch.Tensor]]) -> None:
        self.states = dict(states)
        self._moves: dict[tuple[int | None, bool], dict[str, OutputMove]] = {}

    def __bool__(self) -> bool:
        return bool(self.states)

    def moves(self, nbits: int | None, symmetric: bool) -> dict[str, OutputMove]:
        """Every reference's move, run at ``nbits`` with the ``symmetric`` quantizer."""
        key = (nbits, symmetric)
        if key not in self._moves:
            start = pretrained_signature(nbits, symmetric)
            self._moves[key] = {
                label: OutputMove.between(
                    resnet_from_state_dict(state, Nbits=nbits, symmetric=symmetric), start
                )
                for label, state in self.states.items()
            }
        return self._moves[key]

    def copied(
        self, move: OutputMove, nbits: int | None, symmetric: bool
    ) -> tuple[str, float] | None:
        """The reference ``move`` copies, and their ratio; None when it copies none."""
        ratios = [
            (move_ratio(move, ref), label) for label, ref in self.moves(nbits, symmetric).items()
        ]
        copies = [(ratio, label) for ratio, label in ratios if ratio < COPY_RATIO]
        if not copies:
            return None
        ratio, label = min(copies)
        return label, ratio


def load_references(folder: Path) -> References:
    """Every ``.pt`` state dict under ``folder`` (the instructor's own files), by path
    relative to it; none when the folder does not exist.

    Raises
    ------
    ValueError
        When a file cannot be read as the finite weights of a CIFAR ResNet, naming it: a
        broken reference would otherwise let copies of it through unnoticed.
    """
    if not folder.is_dir():
        return References({})
    found = {}
    for path in sorted(folder.rglob("*.pt")):
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
            resnet_from_state_dict(state)
        except Exception as error:
            raise ValueError(f"reference checkpoint {path} cannot be read: {error}") from None
        if not all(torch.isfinite(value).all() for value in state.values()):
            raise ValueError(f"reference checkpoint {path} holds weights that are not finite")
        found[path.relative_to(folder).as_posix()] = state
    return References(found)


def reference_copy_message(filename: str, label: str, ratio: float) -> str:
    """What the student reads when ``filename`` is a copy of the reference ``label``."""
    if label.startswith(f"{RETIRED_FOLDER}/"):
        whose = f"an earlier release's reference checkpoint {label.rpartition('/')[2]}"
    else:
        whose = f"the course's reference checkpoint {label}"
    return (
        f"{filename} is a copy of {whose} (what their networks compute differs by "
        f"{ratio:.3f} of the training's effect; {_INDEPENDENT}, copies below "
        f"{COPY_RATIO:g}): a checkpoint earns points only as the result of your own training"
    )


def classmate_copies(
    moves: Mapping[str, Mapping[str, OutputMove]],
    filenames: Mapping[str, str],
    groups: Mapping[str, Hashable],
) -> dict[str, dict[str, str]]:
    """The checkpoints each student loses to a classmate's near-identical one.

    Parameters
    ----------
    moves : mapping of student to (mapping of checkpoint name to OutputMove)
        What each graded submission measured.
    filenames : mapping of str to str
        Each checkpoint's file name, for the message.
    groups : mapping of str to a hashable
        The checkpoints compared with each other across names
        (:func:`edu.grading._output_similarity.similar_checkpoints`), e.g. by how they are
        run: float, or quantized with the same bits and grid.

    Returns
    -------
    dict of str to (dict of str to str)
        ``{student: {checkpoint: message}}`` for every student of a pair; the message
        names no other student, nor the distance (which a resubmitted copy would change
        without changing the verdict).
    """
    copies: dict[str, dict[str, str]] = {}
    for pair in similar_checkpoints(moves, groups):
        for student, name in zip(pair.students, pair.checkpoints, strict=True):
            filename = filenames.get(name, f"{name}.pt")
            copies.setdefault(student, {})[name] = (
                f"{filename} is nearly identical to another student's checkpoint in what it "
                f"computes (closer than {COPY_RATIO:g} of the training's effect; "
                f"{_INDEPENDENT}): a checkpoint earns points only as the result of your own "
                "training, and the grader cannot tell which of the two did it, so neither "
                "earns the points of this file. Your instructor reviews the pair and restores "
                "the points of the student who trained it"
            )
    return copies


def comparison_groups() -> dict[str, tuple[int | None, bool]]:
    """The homework's checkpoints by how the grader runs them (bits, symmetric grid):
    those run alike are compared with each other whatever their names."""
    return {name: (spec.nbits, spec.symmetric) for name, spec in SUBMISSION_CHECKPOINTS.items()}
