"""The values that define a reproduction run, recorded in every row it writes.

The spec fixes the batch size (256) and the number of finetuning epochs (20) and leaves
the optimizer open; :class:`Settings` holds the project's choice (COURSE-SPEC, Lab 2:
"the project chooses and documents its optimizer settings"). Two runs with equal
settings produce the same rows, so a finished row is not run again.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = ["Settings", "file_sha256"]


def file_sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes: identifies a checkpoint whatever its path."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class Settings:
    """Run-defining values of ``edu reproduce``: the float weights, data subset, finetuning.

    Parameters
    ----------
    checkpoint_sha256 : str
        SHA-256 of the float checkpoint every row starts from (:func:`file_sha256`).
    epochs : int, default 20
        Epochs of every finetuning row (the spec's 20).
    lr : float, default 0.01
        Initial learning rate of every finetuning row.
    batch_size : int, default 256
        Training batch size (the spec's 256).
    momentum, weight_decay : float, default 0.9, 5e-4
        SGD with Nesterov momentum and L2 weight decay.
    seed : int, default 0
        Seeds the data order and augmentation of every finetuning row (each row
        restarts from it, so rows do not depend on which ran before).
    limit_train, limit_test : int or None
        Use only the first N training / test images (smoke runs).

    Notes
    -----
    Every finetuning row uses SGD (momentum 0.9, Nesterov, weight decay 5e-4) with a
    cosine learning rate from ``lr`` to 0 over all its steps, stepped every batch. The
    iterative rows prune before each of the first :attr:`prune_epochs` epochs.
    """

    checkpoint_sha256: str
    epochs: int = 20
    lr: float = 0.01
    batch_size: int = 256
    momentum: float = 0.9
    weight_decay: float = 5e-4
    seed: int = 0
    limit_train: int | None = None
    limit_test: int | None = None

    def __post_init__(self) -> None:
        if self.epochs < 1:
            raise ValueError(f"epochs must be >= 1, got {self.epochs}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")

    @property
    def prune_epochs(self) -> int:
        """Pruning steps of the iterative rows: ``max(1, epochs // 2)``.

        Lab 2 (d) prunes before epochs 0..9 of 20; with other ``epochs`` the same
        ratio is kept: half of the epochs prune, the other half finetune under the
        final mask.

        Examples
        --------
        >>> Settings("x").prune_epochs, Settings("x", epochs=1).prune_epochs
        (10, 1)
        """
        return max(1, self.epochs // 2)

    def as_dict(self) -> dict[str, Any]:
        """The settings as plain JSON values, with :attr:`prune_epochs` added."""
        return {**asdict(self), "prune_epochs": self.prune_epochs}
