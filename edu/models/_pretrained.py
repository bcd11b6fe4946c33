"""The pretrained ResNet-20 shipped with the package, from which Labs 2 and 3 start.

The weights were trained by the package's own ``edu train`` on CIFAR-10; the metadata
file beside them records the exact command, seed, epochs, data, hardware, wall time
and the test accuracy and loss of the shipped weights.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import torch

from edu.models._from_state_dict import resnet_from_state_dict
from edu.models._resnet import ResNetCIFAR

__all__ = ["pretrained_metadata", "pretrained_path", "pretrained_resnet20"]

_WEIGHTS = "resnet20_cifar10.pt"
_METADATA = "resnet20_cifar10.json"


def pretrained_path() -> Path:
    """Path of the shipped ResNet-20 weights (a state dict saved with ``torch.save``).

    Returns
    -------
    Path
        ``edu/models/weights/resnet20_cifar10.pt`` inside the installed package.

    Raises
    ------
    FileNotFoundError
        If the file is not there (an incomplete installation); the message says
        where it was expected.

    Notes
    -----
    The file holds a bare state dict of ``ResNetCIFAR(num_layers=20)``; read it
    with ``torch.load(path, weights_only=True)`` or
    :func:`edu.train.load_state_dict`, never with ``weights_only=False``.

    Examples
    --------
    >>> pretrained_path().name
    'resnet20_cifar10.pt'
    """
    path = Path(str(resources.files("edu.models") / "weights" / _WEIGHTS))
    if not path.is_file():
        raise FileNotFoundError(
            f"the pretrained ResNet-20 weights are missing from the installed package "
            f"(expected {path}); reinstall the package"
        )
    return path


def pretrained_metadata() -> dict[str, Any]:
    """How the shipped weights were made and how well they do (see the module docstring).

    Returns
    -------
    dict of str to object
        The JSON file ``resnet20_cifar10.json`` beside the weights: among others
        ``"command"`` (the exact ``edu train ...`` command), ``"seed"``,
        ``"epochs"``, ``"data"`` and ``"data_sha256"``, ``"hardware"``,
        ``"wall_seconds_all_epochs"``, and ``"test_images"``, ``"test_accuracy"``,
        ``"test_loss"`` of the shipped weights.

    Raises
    ------
    FileNotFoundError
        If the weights (see :func:`pretrained_path`) or the metadata file are
        missing.

    Examples
    --------
    >>> meta = pretrained_metadata()
    >>> meta["command"].startswith("edu train "), meta["test_images"]
    (True, 10000)
    """
    return json.loads(pretrained_path().with_name(_METADATA).read_text())


def pretrained_resnet20(
    Nbits: int | None = None,  # the course's name
    symmetric: bool = False,
    quantizer: object | None = None,
) -> ResNetCIFAR:
    """ResNet-20 with the shipped CIFAR-10 weights, float or with ``Nbits``-bit stage convs.

    Parameters
    ----------
    Nbits : int or None, default None
        Bits of the stage convolutions' weights; ``None`` keeps them float. (Named
        as in the course's code.)
    symmetric : bool, default False
        Symmetric quantizer instead of the asymmetric one.
    quantizer : callable or autograd.Function subclass, optional
        The quantizer; default the reference :class:`edu.quant.STE` (a notebook
        passes the student's own).

    Returns
    -------
    ResNetCIFAR
        ``num_layers=20``, the shipped weights loaded, on the CPU, in training
        mode (call ``.eval()`` to evaluate). A new model on every call.

    Raises
    ------
    FileNotFoundError
        If the weights file is missing (see :func:`pretrained_path`).

    Notes
    -----
    The file is read with ``torch.load(weights_only=True)``, so it cannot run code,
    and loaded strictly by :func:`resnet_from_state_dict`. The quantized variant
    holds the same float weights: quantization happens in every forward pass
    (Lab 3 starts from it). Accuracy and provenance: :func:`pretrained_metadata`.

    Examples
    --------
    >>> net = pretrained_resnet20(Nbits=4).eval()
    >>> net.num_layers, net.Nbits
    (20, 4)
    """
    state_dict = torch.load(pretrained_path(), map_location="cpu", weights_only=True)
    return resnet_from_state_dict(state_dict, Nbits=Nbits, symmetric=symmetric, quantizer=quantizer)
