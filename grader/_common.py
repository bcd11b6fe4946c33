"""Helpers shared by the hidden checks: thresholds, state dicts as arrays, messages."""

import contextlib
import tomllib
from pathlib import Path

import numpy as np
import torch

THRESHOLDS = tomllib.loads((Path(__file__).parent / "thresholds.toml").read_text())


def min_accuracy(name: str) -> float:
    """The accuracy a checkpoint must reach: its reference minus the margin."""
    accuracy = THRESHOLDS["accuracy"]
    return accuracy["reference"][name] - accuracy["margin"]


@contextlib.contextmanager
def sandbox_threads():
    """Run torch, inside the block, on one thread, as the sandbox runs the student's code.

    float32 sums depend on how many threads share them: on some CPUs one SGD epoch of a
    small network then ends 1e-4 apart, as much as a wrong step may. A reference computed
    on the sandbox's thread count matches a right submission bit for bit on the same
    machine, however many threads the grading process has (``edu grade --jobs``).
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


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
