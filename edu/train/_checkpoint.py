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

__all__ = [
    "CheckpointError",
    "load_checkpoint",
    "load_state_dict",
    "save_atomically",
    "save_checkpoint",
]

FORMAT_VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint file that cannot be read safely or lacks what is asked of it."""


def save_checkpoint(path: str | os.PathLike, payload: Mapping[str, Any]) -> Path:
    """Write ``payload`` (tensors, state dicts, plain Python values) to ``path`` atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Destination file; missing parent folders are created, an existing file is
        replaced.
    payload : mapping of str to object
        What to save: tensors, state dicts, and plain Python values (numbers,
        strings, lists, dicts, ``None``), e.g. ``{"model": ..., "optimizer": ...,
        "epoch": ..., "args": ...}``. Anything else (a module, a custom class)
        is saved, but :func:`load_checkpoint` will then refuse the file.

    Returns
    -------
    Path
        ``path`` as a :class:`pathlib.Path`.

    Notes
    -----
    The saved dict is ``{"format_version": 1, **payload}`` (a ``"format_version"``
    key of ``payload`` wins), written by :func:`save_atomically`: an interrupted run
    leaves either the old checkpoint or the new one, never a truncated file.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = save_checkpoint(Path(folder) / "run" / "last.pt", {"epoch": 3})
    ...     load_checkpoint(path)
    {'format_version': 1, 'epoch': 3}
    """
    return save_atomically(path, {"format_version": FORMAT_VERSION, **payload})


def save_atomically(path: str | os.PathLike, obj: object) -> Path:
    """``torch.save(obj)`` to ``path`` through a temporary file renamed over it.

    Parameters
    ----------
    path : str or os.PathLike
        Destination file; missing parent folders are created, an existing file is
        replaced.
    obj : object
        What to save (keep it to tensors and plain values, so that it can be read
        with ``weights_only=True``).

    Returns
    -------
    Path
        ``path`` as a :class:`pathlib.Path`.

    Notes
    -----
    The temporary file is in the same folder, so :func:`os.replace` is an atomic
    rename: an interrupted save leaves the old file or the new one, never a truncated
    file. The temporary file is removed on failure.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            torch.save(obj, file)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def load_failure_reason(message: str) -> str:
    """The line of ``torch.load``'s error that says what is wrong with the file.

    A refused pickle's message opens with advice to retry with ``weights_only=False``
    (which would run the file's code); the line naming the refused global is the
    reason, so it is the one kept.
    """
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    refused = [line for line in lines if "GLOBAL" in line or "Unsupported global" in line]
    return (refused or lines or [""])[0]


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Read a checkpoint with ``weights_only=True`` onto the CPU.

    Parameters
    ----------
    path : str or os.PathLike
        A file written by :func:`save_checkpoint` or by :func:`torch.save` of a dict.

    Returns
    -------
    dict of str to object
        The saved dict, every tensor on the CPU (move the model afterwards).

    Raises
    ------
    CheckpointError
        When the file is missing, truncated, not a torch file, holds anything but
        tensors and plain Python values (for example a pickle with code in it), or
        holds something other than a dict. The message names the file.

    Notes
    -----
    ``torch.load(path, map_location="cpu", weights_only=True)`` unpickles only
    tensors, containers and primitive values, so loading never runs code from the
    file (see the module docstring).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "bad.pt"
    ...     _ = path.write_bytes(b"not a checkpoint")
    ...     try:
    ...         load_checkpoint(path)
    ...     except CheckpointError as error:
    ...         print("refused:", "cannot be loaded safely" in str(error))
    refused: True
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist or is not a file")
    try:
        contents = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for bad files; all mean "unreadable"
        raise CheckpointError(
            f"checkpoint {path} cannot be loaded safely (weights_only=True): "
            f"{type(error).__name__}: {load_failure_reason(str(error))}"
        ) from error
    if not isinstance(contents, dict):
        raise CheckpointError(f"checkpoint {path} holds a {type(contents).__name__}, not a dict")
    return contents


def load_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Return the model weights held by ``path``, whatever its layout.

    Parameters
    ----------
    path : str or os.PathLike
        A training checkpoint (key ``"model"``), a weights file (key
        ``"state_dict"``) or a bare state dict (every value a tensor), read with
        :func:`load_checkpoint`.

    Returns
    -------
    dict of str to torch.Tensor
        The state dict, on the CPU, ready for ``net.load_state_dict``.

    Raises
    ------
    CheckpointError
        When :func:`load_checkpoint` refuses the file, or the weights found are
        empty or hold a value that is not a tensor.

    Notes
    -----
    ``"model"`` is looked for first, then ``"state_dict"``; with neither, the whole
    file is taken as the state dict (so a plain checkpoint with ``"format_version"``
    and no weights is refused).

    Examples
    --------
    >>> import tempfile
    >>> from torch import nn
    >>> net = nn.Linear(2, 1)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = save_checkpoint(Path(folder) / "c.pt", {"model": net.state_dict()})
    ...     weights = load_state_dict(path)
    >>> sorted(weights)
    ['bias', 'weight']
    >>> net.load_state_dict(weights)
    <All keys matched successfully>
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
