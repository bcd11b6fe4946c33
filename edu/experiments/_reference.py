"""The reproduction's checkpoints of the rows a homework submission holds, shipped with ``edu``.

Four rows of ``edu reproduce`` answer the four checkpoints of the homework
(:data:`edu.notebook.SUBMISSION_CHECKPOINTS`): Lab 2 (c) and (e), Lab 3 (c) and (d) at 4
bits. Their weights ship in ``edu/experiments/checkpoints/<name>.pt`` as plain state
dicts, the format a student submits, with ``checkpoints.json`` recording the row, the
command and the accuracy of each. The course demo submits them as the full solution;
an instructor can compare a student's file with them.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = ["REFERENCE_ROWS", "reference_checkpoints", "reference_manifest"]

REFERENCE_ROWS: dict[str, tuple[str, str]] = {
    "lab2_finetune_70": ("lab2", "finetune-70"),
    "lab2_global_iterative_70": ("lab2", "global-iterative-70"),
    "lab3_qat_4bit": ("lab3", "qat-4"),
    "lab3_sparse_qat_4bit": ("lab3", "sparse-qat-4"),
}
"""Submission checkpoint name -> (lab, row id) of ``edu reproduce`` that makes it."""

_MANIFEST = "checkpoints.json"


def _folder() -> Path:
    return Path(str(resources.files("edu.experiments") / "checkpoints"))


def reference_manifest() -> dict[str, Any]:
    """What ``checkpoints.json`` records: per checkpoint its row, command, accuracy, SHA-256.

    Raises
    ------
    FileNotFoundError
        If the reference checkpoints are not in the package.
    """
    path = _folder() / _MANIFEST
    if not path.is_file():
        raise FileNotFoundError(
            f"the reference checkpoints are missing (expected {path}); they are made by "
            "`edu reproduce lab2` and `edu reproduce lab3`, then "
            "`python scripts/ship_reproduction.py OUTPUT_DIR`"
        )
    return json.loads(path.read_text())


def reference_checkpoints() -> dict[str, Path]:
    """The shipped reference checkpoint of every homework checkpoint, by name.

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
    manifest = reference_manifest()
    paths = {name: _folder() / f"{name}.pt" for name in REFERENCE_ROWS}
    for name, path in paths.items():
        if name not in manifest["checkpoints"] or not path.is_file():
            raise FileNotFoundError(f"the reference checkpoint {name} is missing (expected {path})")
    return paths
