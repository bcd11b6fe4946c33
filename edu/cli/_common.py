"""Options and output helpers shared by the subcommands that train or evaluate models."""

from __future__ import annotations

import argparse
import json
import shlex
import textwrap
from pathlib import Path
from typing import Any

import torch

from edu import __version__
from edu.data import BatchLoader, load_cifar10, take
from edu.train import load_state_dict, resolve_device

__all__ = [
    "HelpFormatter",
    "add_data_arguments",
    "add_device_argument",
    "apply_threads",
    "cifar10_loaders",
    "cifar10_test_loader",
    "command_line",
    "markdown_table",
    "non_negative_int",
    "positive_float",
    "positive_int",
    "start_checkpoint_sweep",
    "write_json",
    "write_results",
    "write_run_record",
]


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Help with the defaults shown, wrapped at spaces only: an option (``--seeded-rows``)
    or a row id (``iterative-70``) is never split at its hyphen, at any width."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        return textwrap.fill(
            " ".join(text.split()),
            width,
            initial_indent=indent,
            subsequent_indent=indent,
            break_on_hyphens=False,
        )


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


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def non_negative_int(text: str) -> int:
    """argparse type: an integer >= 0."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or a positive integer, got {text}")
    return value


def positive_float(text: str) -> float:
    """argparse type: a float > 0."""
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def command_line(args: argparse.Namespace) -> str:
    """The command that is running, quoted so that it can be pasted into a shell.

    Built from the arguments :func:`edu.cli.main.main` parsed (kept as ``args.argv``),
    not from ``sys.argv``, so that it is right when ``main`` is called in-process.
    """
    return shlex.join(["edu", *args.argv])


def write_json(path: Path, payload: Any) -> Path:
    """Write ``payload`` as indented JSON (creating the folder) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, sort_keys=False) + "\n")
    return path


def write_run_record(output_dir: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Write ``command.txt`` beside a run's outputs and return the arguments as plain values."""
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "command.txt").write_text(command_line(args) + "\n")
    plain = {
        key: (str(value) if isinstance(value, Path) else value)
        for key, value in vars(args).items()
        if key not in {"func", "argv"}
    }
    plain["command"] = command_line(args)
    plain["edu_version"] = __version__
    return plain


def cifar10_loaders(
    args: argparse.Namespace, device: torch.device, generator: torch.Generator
) -> tuple[BatchLoader, BatchLoader]:
    """Training and test loaders of CIFAR-10 as the data options of ``args`` say.

    ``--limit-train`` / ``--limit-test`` keep the first images, which are class-balanced
    (the data layer interleaves the classes); ``--cutout`` (``edu train``'s) masks a
    square of every training image.
    """
    train = load_cifar10("train", args.data_root, download=args.download)
    train_loader = BatchLoader(
        train.images[: args.limit_train],
        train.labels[: args.limit_train],
        args.batch_size,
        train=True,
        device=device,
        generator=generator,
        channels_last=True,
        cutout=getattr(args, "cutout", 0),
        source=train.source,
    )
    return train_loader, cifar10_test_loader(args, device)


def cifar10_test_loader(args: argparse.Namespace, device: torch.device) -> BatchLoader:
    """The CIFAR-10 test split in batches of 1,000, as the data options of ``args`` say.

    Channels-last layout is used on every device: it makes a ResNet-20 training step
    1.3x faster on a 2-core CPU as well as on GPUs.
    """
    test = load_cifar10("test", args.data_root, download=args.download)
    return BatchLoader(
        test.images[: args.limit_test],
        test.labels[: args.limit_test],
        1000,
        train=False,
        device=device,
        channels_last=True,
        source=test.source,
    )


SCAN_IMAGES = 2000
"""Training images a sensitivity scan measures on (the first, class-balanced)."""


def cifar10_scan_loader(args: argparse.Namespace, device: torch.device) -> BatchLoader:
    """:data:`SCAN_IMAGES` class-balanced training images (within ``--limit-train``), unaugmented.

    Choices made from data (Lab 4's sensitivity scan) are made on these, never on the
    test split that reports the result.
    """
    train = load_cifar10("train", args.data_root, download=args.download)
    count = min(SCAN_IMAGES, args.limit_train or SCAN_IMAGES)
    scan = take(train, count)
    return BatchLoader(
        scan.images,
        scan.labels,
        1000,
        train=False,
        device=device,
        channels_last=True,
        source=train.source,
    )


def start_checkpoint_sweep(
    args: argparse.Namespace,
) -> tuple[torch.device, dict[str, Any], dict[str, torch.Tensor], BatchLoader]:
    """Common start of ``edu prune`` and ``edu quantize``: one checkpoint, many settings.

    Applies ``--threads``, resolves ``--device``, writes ``command.txt``, reads
    ``args.checkpoint`` (``weights_only=True``) and builds the test loader. Returns the
    device, the run's arguments as plain values, the weights and the loader.
    """
    apply_threads(args.threads)
    device = resolve_device(args.device)
    run_args = write_run_record(args.output_dir, args)
    return device, run_args, load_state_dict(args.checkpoint), cifar10_test_loader(args, device)


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """A GitHub-flavoured markdown table with aligned columns."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def write_results(output_dir: Path, table: str, payload: dict[str, Any]) -> None:
    """Write ``results.md`` (the table under the command that made it) and ``results.json``.

    The command is ``payload["args"]["command"]``, as :func:`write_run_record` records it.
    """
    output_dir.mkdir(parents=True, exist_ok=True)
    command = payload["args"]["command"]
    (output_dir / "results.md").write_text(f"Command: `{command}`\n\n{table}\n")
    write_json(output_dir / "results.json", payload)
