"""A seed of the student's own: reproducible on their machine, different from classmates'.

Two students who run the same notebook with the same seed on the same kind of machine
get the same weights, bit for bit: finetuning starts from the same pretrained model and
nothing else is random but the data order and augmentation. A grader that flags
near-identical checkpoints would then flag honest work. Each notebook folder therefore
draws its own seed once, from the operating system's randomness, and keeps it in a file
beside the notebooks: reruns reproduce, classmates differ.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

__all__ = ["SEED_FILE", "personal_seed"]

SEED_FILE = "edu_seed.txt"
"""The file, in the notebook's folder, that keeps the seed."""


def personal_seed(folder: str | os.PathLike = ".") -> int:
    """The seed kept in ``folder/edu_seed.txt``, drawn at random the first time.

    Parameters
    ----------
    folder : path-like, default the current folder (the notebook's)

    Returns
    -------
    int
        A non-negative integer below :math:`2^{31}`: the same on every later call with
        the same folder.

    Raises
    ------
    ValueError
        If the file exists but does not hold such an integer (delete it to draw anew).
    """
    path = Path(folder) / SEED_FILE
    if path.exists():
        text = path.read_text().strip()
        if not text.isdigit() or int(text) >= 2**31:
            raise ValueError(f"{path} must hold one integer in [0, 2^31); delete it to draw anew")
        return int(text)
    seed = secrets.randbits(31)
    path.write_text(f"{seed}\n")
    return seed
