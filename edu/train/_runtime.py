"""Choosing the device and seeding every random number generator the training uses."""

from __future__ import annotations

import torch

__all__ = ["resolve_device", "seed_everything"]


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """Return the torch device to run on.

    Parameters
    ----------
    device : str, torch.device or None, default "auto"
        ``"auto"`` (or ``None``) picks CUDA when one is available and the CPU
        otherwise; anything else (``"cpu"``, ``"cuda"``, ``"cuda:1"``, a
        :class:`torch.device`) is passed to :class:`torch.device`.

    Returns
    -------
    torch.device

    Raises
    ------
    RuntimeError
        If a CUDA device is asked for and CUDA is not available (a clear error now
        rather than a failure later, at the first tensor moved), or, from
        :class:`torch.device`, if the string names no device type.

    Examples
    --------
    >>> resolve_device("cpu")
    device(type='cpu')
    >>> resolve_device("auto").type in ("cpu", "cuda")
    True
    """
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    resolved = torch.device(device)
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device {device!r} was asked for, but CUDA is not available here")
    return resolved


def seed_everything(seed: int) -> torch.Generator:
    """Seed torch's global generator and return a CPU generator seeded with ``seed``.

    Parameters
    ----------
    seed : int
        The run's seed (the ``--seed`` of the command line).

    Returns
    -------
    torch.Generator
        A new CPU generator seeded with ``seed``, for the data order and
        augmentation.

    Notes
    -----
    Model initialization draws from torch's global generator
    (:func:`torch.manual_seed` seeds it, and the CUDA ones); data order and
    augmentation draw from the returned generator, so they do not depend on how
    many numbers the model drew. Neither Python's :mod:`random` nor numpy's global
    generator is touched: the package does not use them. GPU results may still
    differ between runs where cuDNN picks non-deterministic kernels.

    Examples
    --------
    >>> g = seed_everything(0)
    >>> a = torch.rand(2), torch.rand(2, generator=g)
    >>> g = seed_everything(0)
    >>> b = torch.rand(2), torch.rand(2, generator=g)
    >>> torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    True
    """
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)
