"""Options and output helpers shared by the subcommands that train or evaluate models."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import Any

import torch

from edu import __version__

__all__ = [
    "add_data_arguments",
    "add_device_argument",
    "command_line",
    "write_json",
    "write_run_record",
]


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """``--data-root``, ``--download`` and the subset limits used by smoke runs."""
    group = parser.add_argument_group("data")
    group.add_argument(
        "--data-root",
        default=None,
        help="folder holding CIFAR-10 (cifar-10-batches-py/, an image-folder tree, or a "
        ".tar.gz of one); default: $EDU_DATA_ROOT, then the per-user cache folder",
    )
    group.add_argument(
        "--download",
        action="store_true",
        help="download the original CIFAR-10 through torchvision if none is found",
    )
    group.add_argument(
        "--limit-train", type=int, default=None, help="use only the first N training images"
    )
    group.add_argument(
        "--limit-test", type=int, default=None, help="use only the first N test images"
    )


def add_device_argument(parser: argparse.ArgumentParser) -> None:
    """``--device`` (auto: CUDA when available, else CPU) and ``--threads``."""
    parser.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="CPU threads for torch (default: torch's choice)",
    )


def apply_threads(threads: int | None) -> None:
    """Set torch's intra-op thread count when asked to."""
    if threads is not None:
        torch.set_num_threads(threads)


def command_line() -> str:
    """The command that is running, quoted so that it can be pasted into a shell."""
    return shlex.join(["edu", *sys.argv[1:]])


def write_json(path: Path, payload: Any) -> Path:
    """Write ``payload`` as indented JSON (creating the folder) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, sort_keys=False) + "\n")
    return path


def write_run_record(output_dir: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Write ``command.txt`` beside a run's outputs and return the arguments as plain values."""
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "command.txt").write_text(command_line() + "\n")
    plain = {
        key: (str(value) if isinstance(value, Path) else value)
        for key, value in vars(args).items()
        if key != "func"
    }
    plain["edu_version"] = __version__
    return plain
