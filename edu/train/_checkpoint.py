"""Resumable training checkpoints, written atomically and read with ``weights_only=True``.

A checkpoint is a plain dictionary of tensors and Python scalars, so that
``torch.load(..., weights_only=True)`` can read it without executing any code from the
file: a malformed or malicious file is an error, never a program.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

__all__ = ["CheckpointError", "load_checkpoint", "load_state_dict", "save_checkpoint"]

FORMAT_VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint file that cannot be read safely or lacks what is asked of it."""


def save_checkpoint(path: str | os.PathLike, payload: Mapping[str, Any]) -> Path:
    """Write ``payload`` (tensors, state dicts, plain Python values) to ``path`` atomically.

    The file is written next to ``path`` and renamed over it, so an interrupted run
    never leaves a truncated checkpoint behind.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    contents = {"format_version": FORMAT_VERSION, **payload}
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            torch.save(contents, file)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Read a checkpoint with ``weights_only=True`` onto the CPU.

    Raises
    ------
    CheckpointError
        When the file is missing, truncated, not a torch file, or holds anything but
        tensors and plain Python values (for example a pickle with code in it).
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist or is not a file")
    try:
        contents = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for bad files; all mean "unreadable"
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise CheckpointError(
            f"checkpoint {path} cannot be loaded safely (weights_only=True): "
            f"{type(error).__name__}: {first_line}"
        ) from error
    if not isinstance(contents, dict):
        raise CheckpointError(f"checkpoint {path} holds a {type(contents).__name__}, not a dict")
    return contents


def load_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Return the model weights held by ``path``, whatever its layout.

    Accepts a training checkpoint (key ``"model"``), a weights file (key
    ``"state_dict"``) or a bare state dict (every value a tensor).
    """
    contents = load_checkpoint(path)
    for key in ("model", "state_dict"):
        if key in contents:
            contents = contents[key]
            break
    if not contents or not all(isinstance(value, torch.Tensor) for value in contents.values()):
        raise CheckpointError(
            f"checkpoint {path} holds no model weights: expected a state dict, or a dict "
            "with a 'model' or 'state_dict' entry"
        )
    return dict(contents)
