"""The reproduction's checkpoints of the rows a homework submission holds: instructor material.

Four rows of ``edu reproduce`` answer the four checkpoints of the homework
(:data:`edu.notebook.SUBMISSION_CHECKPOINTS`): Lab 2 (c) and (e), Lab 3 (c) and (d) at 4
bits. Their weights are plain state dicts, the format a student submits, kept beside
the hidden checks in the course repository (:data:`REFERENCE_FOLDER`,
``grader/reference/<name>.pt``) with ``checkpoints.json`` recording the row, the
command and the accuracy of each. They are not package data: a student who installs
``edu`` does not get them with it. A submitted checkpoint that copies one of them, or one
of the sets retired to ``grader/reference/retired/`` (which earlier releases of the
package shipped), earns nothing (:mod:`edu.grading._copies`).

The course demo's full solution submits the same rows of an independent run, the
reproduction's seed 1 (:data:`DEMO_FOLDER`): a student's own work, as the grader sees it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

__all__ = [
    "DEMO_FOLDER",
    "REFERENCE_FOLDER",
    "REFERENCE_ROWS",
    "reference_checkpoints",
    "reference_manifest",
]

REFERENCE_ROWS: dict[str, tuple[str, str]] = {
    "lab2_finetune_70": ("lab2", "finetune-70"),
    "lab2_global_iterative_70": ("lab2", "global-iterative-70"),
    "lab3_qat_4bit": ("lab3", "qat-4"),
    "lab3_sparse_qat_4bit": ("lab3", "sparse-qat-4"),
}
"""Submission checkpoint name -> (lab, row id) of ``edu reproduce`` that makes it."""

REFERENCE_FOLDER = Path("grader") / "reference"
"""Where the reference checkpoints live, relative to the course repository."""

DEMO_FOLDER = Path("grader") / "demo"
"""Where the checkpoints of the demo's full solution live (the same rows, seed 1),
relative to the course repository; laid out as :data:`REFERENCE_FOLDER`."""

_MANIFEST = "checkpoints.json"


def reference_manifest(folder: str | os.PathLike) -> dict[str, Any]:
    """What ``folder/checkpoints.json`` records: per checkpoint its row, command, accuracy, SHA-256.

    Parameters
    ----------
    folder : path-like
        The reference folder, ``<course repository>/grader/reference``.

    Raises
    ------
    FileNotFoundError
        If the manifest is not there.
    """
    path = Path(folder) / _MANIFEST
    if not path.is_file():
        raise FileNotFoundError(
            f"the reference checkpoints are missing (expected {path}); they are made by "
            "`edu reproduce all`, then `python scripts/ship_reproduction.py OUTPUT_DIR`"
        )
    return json.loads(path.read_text())


def reference_checkpoints(folder: str | os.PathLike) -> dict[str, Path]:
    """The reference checkpoint of every homework checkpoint, by name.

    Parameters
    ----------
    folder : path-like
        The reference folder, ``<course repository>/grader/reference``
        (:data:`REFERENCE_FOLDER`), or the demo's (:data:`DEMO_FOLDER`).

    Returns
    -------
    dict of str to Path
        ``lab2_finetune_70``, ``lab2_global_iterative_70``, ``lab3_qat_4bit``,
        ``lab3_sparse_qat_4bit`` -> their ``.pt`` files (plain state dicts; read them
        with ``torch.load(path, weights_only=True)``).

    Raises
    ------
    FileNotFoundError
        If the manifest or a file it lists is missing; the message names it.
    """
    manifest = reference_manifest(folder)
    paths = {name: Path(folder) / f"{name}.pt" for name in REFERENCE_ROWS}
    for name, path in paths.items():
        if name not in manifest["checkpoints"] or not path.is_file():
            raise FileNotFoundError(f"the reference checkpoint {name} is missing (expected {path})")
    return paths
