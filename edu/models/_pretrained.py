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
    """Path of the shipped ResNet-20 weights (a state dict saved with ``torch.save``)."""
    path = Path(str(resources.files("edu.models") / "weights" / _WEIGHTS))
    if not path.is_file():
        raise FileNotFoundError(
            f"the pretrained ResNet-20 weights are missing from the installed package "
            f"(expected {path}); reinstall the package"
        )
    return path


def pretrained_metadata() -> dict[str, Any]:
    """How the shipped weights were made and how well they do (see the module docstring)."""
    return json.loads(pretrained_path().with_name(_METADATA).read_text())


def pretrained_resnet20(
    Nbits: int | None = None,  # the course's name
    symmetric: bool = False,
    quantizer: object | None = None,
) -> ResNetCIFAR:
    """ResNet-20 with the shipped CIFAR-10 weights, float or with ``Nbits``-bit stage convs.

    The file is read with ``torch.load(weights_only=True)``. Parameters are those of
    :class:`ResNetCIFAR`.
    """
    state_dict = torch.load(pretrained_path(), map_location="cpu", weights_only=True)
    return resnet_from_state_dict(state_dict, Nbits=Nbits, symmetric=symmetric, quantizer=quantizer)
