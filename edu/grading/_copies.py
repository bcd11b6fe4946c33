"""Checkpoints that earn nothing because they are copies: of the course's reference runs,
or of a classmate's file.

Both are measured by :func:`edu.grading._weight_similarity.distance_ratio`: the distance
between two checkpoints relative to the shorter of their moves away from the pretrained
model, below :data:`~edu.grading._weight_similarity.COPY_RATIO`.

- **Reference copies.** The hidden checks' folder holds the reference checkpoints of the
  reproduction (``grader/reference/``, and under it ``retired/``: those of earlier
  versions of the course, which earlier releases of the package shipped to every
  student). A submitted checkpoint near any of them is refused by
  :class:`edu.grading.CheckpointSet` while it is read, so every check of that file fails
  with the reason.
- **Classmate copies.** Two students' checkpoints of one name closer than the threshold
  (estimated from the sketches each grading keeps) cost both of them every check of that
  file: the grader cannot tell who trained and who copied. Their feedback says so without
  naming the other; ``similarity.html`` lists the pair for the instructor, who restores
  the points of the one who did the work (a manual grade in formgrader).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch

from edu.grading._weight_similarity import (
    COPY_RATIO,
    WeightSketch,
    distance_ratio,
    similar_checkpoints,
)

__all__ = [
    "REFERENCE_FOLDER",
    "classmate_copies",
    "load_references",
    "reference_copy",
    "reference_copy_message",
]

REFERENCE_FOLDER = "reference"
"""The folder of the hidden checks that holds the reference checkpoints."""


def load_references(folder: Path) -> dict[str, dict[str, torch.Tensor]]:
    """Every ``.pt`` state dict under ``folder`` (the instructor's own files), by path
    relative to it; nothing when the folder does not exist."""
    if not folder.is_dir():
        return {}
    found = {}
    for path in sorted(folder.rglob("*.pt")):
        state = torch.load(path, map_location="cpu", weights_only=True)
        if isinstance(state, dict):
            found[path.relative_to(folder).as_posix()] = state
    return found


def reference_copy(
    state: Mapping[str, torch.Tensor],
    references: Mapping[str, Mapping[str, torch.Tensor]],
    start: Mapping[str, torch.Tensor],
) -> tuple[str, float] | None:
    """The reference checkpoint ``state`` is a copy of, and their ratio; None when none.

    References whose weights do not fit ``state`` (another depth or width) are skipped.
    """
    closest = None
    for label, reference in references.items():
        try:
            ratio = distance_ratio(state, reference, start)
        except ValueError:
            continue
        if ratio < COPY_RATIO and (closest is None or ratio < closest[1]):
            closest = (label, ratio)
    return closest


def reference_copy_message(filename: str, label: str, ratio: float) -> str:
    """What the student reads when ``filename`` is a copy of the reference ``label``."""
    return (
        f"{filename} is a copy of the course's reference checkpoint {label} (their distance "
        f"is {ratio:.3f} of the training's move; independent runs are about 1 apart, copies "
        f"below {COPY_RATIO:g}): a checkpoint earns points only as the result of your own "
        "training"
    )


def classmate_copies(
    sketches: Mapping[str, Mapping[str, WeightSketch]], filenames: Mapping[str, str]
) -> dict[str, dict[str, str]]:
    """The checkpoints each student loses to a classmate's near-identical one.

    Parameters
    ----------
    sketches : mapping of student to (mapping of checkpoint name to WeightSketch)
        What each graded submission sketched.
    filenames : mapping of str to str
        Each checkpoint's file name, for the message.

    Returns
    -------
    dict of str to (dict of str to str)
        ``{student: {checkpoint: message}}`` for every student of a pair; the message
        names no other student.
    """
    copies: dict[str, dict[str, str]] = {}
    for pair in similar_checkpoints(sketches):
        filename = filenames.get(pair.checkpoint, f"{pair.checkpoint}.pt")
        message = (
            f"{filename} is nearly identical to another student's (their distance is "
            f"{pair.ratio:.3f} of the shorter training move; independent runs are about 1 "
            f"apart, copies below {COPY_RATIO:g}): a checkpoint earns points only as the "
            "result of your own training, and the grader cannot tell which of the two did "
            "it, so neither earns the points of this file. Your instructor reviews the pair "
            "and restores the points of the student who trained it"
        )
        for student in pair.students:
            copies.setdefault(student, {})[pair.checkpoint] = message
    return copies
