"""Choosing the device and seeding every random number generator the training uses."""

from __future__ import annotations

import torch

__all__ = ["resolve_device", "seed_everything"]


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """Return the torch device to run on.

    ``"auto"`` (or ``None``) picks CUDA when one is available and the CPU otherwise;
    anything else is passed to :class:`torch.device`. Asking for CUDA on a machine
    without it raises a clear error instead of failing later.
    """
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    resolved = torch.device(device)
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device {device!r} was asked for, but CUDA is not available here")
    return resolved


def seed_everything(seed: int) -> torch.Generator:
    """Seed torch's global generator and return a CPU generator seeded with ``seed``.

    Model initialization draws from torch's global generator; data order and
    augmentation draw from the returned generator, so they do not depend on how many
    numbers the model drew.
    """
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)
