"""Helpers shared by the hidden checks: thresholds, state dicts as arrays, messages."""

import tomllib
from pathlib import Path

import numpy as np
import torch

THRESHOLDS = tomllib.loads((Path(__file__).parent / "thresholds.toml").read_text())


def min_accuracy(name: str) -> float:
    """The accuracy a checkpoint must reach: its reference minus the margin."""
    accuracy = THRESHOLDS["accuracy"]
    return accuracy["reference"][name] - accuracy["margin"]


def to_arrays(state: dict) -> dict:
    """A state dict as the ``state/<key>`` arrays the sandbox operations take."""
    return {f"state/{k}": v.detach().cpu().numpy().copy() for k, v in state.items()}


def from_arrays(arrays: dict) -> dict:
    """The ``state/<key>`` arrays of a reply as a state dict of tensors."""
    return {
        k.removeprefix("state/"): torch.from_numpy(np.array(v))
        for k, v in arrays.items()
        if k.startswith("state/")
    }
