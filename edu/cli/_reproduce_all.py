"""``edu reproduce all``: the whole course's reference, from an untrained network to every table.

Three stages, each an ordinary ``edu`` command run in this process, so that each
stage's outputs carry the command that made them (``command.txt``) and can be rerun
alone:

1. ``edu train`` the pretrained ResNet-20 into ``OUTPUT_DIR/pretrained/`` with the
   course's recipe (:data:`PRETRAIN_RECIPE`), then its final weights are written as a
   bare float32 state dict (:func:`edu.cli.train.export_weights`), the file the package
   ships;
2. ``edu reproduce lab2`` from those weights, with extra seeds;
3. ``edu reproduce lab3`` likewise (its row (d) starts from the better of Lab 2's
   70 %-sparse models (c) and (e));
4. ``edu reproduce lab4``, the compression lab, from the same weights.

Every stage resumes: the training from its last epoch, the tables from their
finished rows. ``OUTPUT_DIR/all.json`` sums the wall time of every epoch and row.
"""

from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path
from typing import Any

import torch

from edu.cli import _common
from edu.cli.train import export_weights
from edu.experiments import (
    COMPARED_ROWS,
    HOMEWORK_SEEDED,
    LABS,
    PRUNING_COMPARISON,
    file_sha256,
)
from edu.train import resolve_device

__all__ = ["PRETRAIN_RECIPE", "add_arguments", "run_all"]

PRETRAIN_RECIPE = {
    "--schedule": "cosine",
    "--lr": "0.1",
    "--batch-size": "128",
    "--momentum": "0.9",
    "--weight-decay": "5e-4",
    "--cutout": "16",
}
"""The pretrained model's training, besides its epochs and seed: SGD with Nesterov
momentum 0.9, weight decay 5e-4, batch 128, cosine learning rate from 0.1 to 0 over
all steps, a random crop and flip per image (``edu train``'s data) and cutout, a random
16 x 16 square of every training image masked: without it the same recipe's model
reached 0.8917 on the JPEG copy's test split with 0.993 training accuracy, a gap that
cutout narrows (README, "The whole reference at the course's protocol")."""

PRETRAIN_EPOCHS = 200
"""Epochs of the pretrained model's training (``--pretrain-epochs``)."""

DEFAULT_EXTRA_SEEDS = (1, 2)
"""Extra seeds of the compared rows when ``--extra-seeds`` is not given."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options only ``edu reproduce all`` reads."""
    group = parser.add_argument_group("all")
    group.add_argument(
        "--pretrain-epochs",
        type=_common.positive_int,
        default=None,
        help=f"epochs of the pretrained model; default {PRETRAIN_EPOCHS} (1 with --smoke)",
    )
    group.add_argument(
        "--seed-scope",
        choices=("auto", "pruning", "homework", "compared"),
        default="auto",
        help="rows run with the extra seeds: pruning = Lab 2 (d) and (e); homework = those, "
        "and with the first extra seed the other rows of the homework's checkpoints, 2(c), "
        "3(c) and 3(d) at 4 bits; compared = every compared training row of Labs 2 and 3 and "
        "the homework's; auto = compared on CUDA, homework on a CPU",
    )


def _passed_on(args: argparse.Namespace) -> list[str]:
    """The options every stage shares: data, device, threads, progress."""
    words = []
    for flag, value in (
        ("--data-root", args.data_root),
        ("--limit-train", args.limit_train),
        ("--limit-test", args.limit_test),
        ("--device", args.device),
        ("--threads", args.threads),
    ):
        if value is not None:
            words += [flag, str(value)]
    words += ["--download"] if args.download else []
    return words + (["--no-progress"] if args.no_progress else [])


def _seeded(args: argparse.Namespace, lab: str) -> tuple[list[str], list[str]]:
    """The rows every extra seed runs, and those the first extra seed runs besides."""
    scope = args.seed_scope
    if scope == "auto":
        scope = "compared" if resolve_device(args.device).type == "cuda" else "homework"
    if scope == "compared":
        return list(dict.fromkeys(HOMEWORK_SEEDED[lab] + COMPARED_ROWS[lab])), []
    every = list(PRUNING_COMPARISON[lab])
    first = [row for row in HOMEWORK_SEEDED[lab] if row not in every]
    return every, (first if scope == "homework" else [])


def _stage(argv: list[str]) -> None:
    from edu.cli.main import main  # the entry point imports this module: import it late

    print("edu reproduce all: $ " + " ".join(["edu", *argv]), flush=True)
    status = main(argv)
    if status != 0:
        raise SystemExit(status)


def _wall_times(output_dir: Path) -> dict[str, Any]:
    """Seconds of every training epoch and every row, per stage, to the millisecond.

    Milliseconds, not tenths: a smoke run's stages take a few hundredths of a second,
    and a stage that ran must never read as taking no time.
    """
    metrics = json.loads((output_dir / "pretrained" / "metrics.json").read_text())
    times: dict[str, Any] = {
        "pretrained": round(sum(row["seconds"] for row in metrics["history"]), 3)
    }
    for lab in LABS:
        rows = json.loads((output_dir / lab / "results.json").read_text())["rows"]
        times[lab] = round(sum(row.get("seconds", 0.0) for row in rows), 3)
        times[f"{lab} extra seeds"] = round(
            sum(
                json.loads(path.read_text())["seconds"]
                for path in output_dir.glob(f"seeds/*/{lab}/*/row.json")
            ),
            3,
        )
    times["total"] = round(sum(times.values()), 3)
    return times


def run_all(args: argparse.Namespace) -> int:
    """Train the pretrained model, then reproduce Labs 2, 3 and 4 from it; resumable."""
    single = (args.rows, args.checkpoint, args.seeded_rows, args.first_seed_rows)
    if any(option is not None for option in single):
        raise ValueError(
            "edu reproduce all runs every row from its own pretrained model: --rows, "
            "--checkpoint, --seeded-rows and --first-seed-rows apply to one lab alone"
        )
    smoke = args.smoke
    output_dir = args.output_dir or Path(
        "outputs/reproduce-smoke" if smoke else "outputs/reproduce"
    )
    epochs = args.pretrain_epochs or (1 if smoke else PRETRAIN_EPOCHS)
    extra_seeds = DEFAULT_EXTRA_SEEDS if args.extra_seeds is None else args.extra_seeds
    shared = _passed_on(args) + (["--smoke"] if smoke else [])
    run_dir = output_dir / "pretrained"

    train = ["train", "--epochs", str(epochs), "--seed", str(args.seed)]
    train += [word for pair in PRETRAIN_RECIPE.items() for word in pair]
    train += ["--output-dir", str(run_dir), "--resume", *_passed_on(args)]
    if smoke:
        train += [] if args.limit_train else ["--limit-train", "256"]
        train += [] if args.limit_test else ["--limit-test", "200"]
    _stage(train)
    weights = export_weights(run_dir)

    for lab in LABS:
        argv = ["reproduce", lab, "--checkpoint", str(weights), "--output-dir", str(output_dir)]
        argv += ["--lr", str(args.lr), "--batch-size", str(args.batch_size)]
        argv += ["--seed", str(args.seed)]
        argv += ["--epochs", str(args.epochs)] if args.epochs is not None else []
        argv += ["--force"] if args.force else []
        every, first = _seeded(args, lab)
        if (every or first) and extra_seeds:
            argv += ["--extra-seeds", *map(str, extra_seeds), "--seeded-rows", *every]
            argv += ["--first-seed-rows", *first] if first else []
        _stage(argv + shared)

    summary = {
        "command": _common.command_line(args),
        "pretrained_sha256": file_sha256(weights),
        "wall_seconds": _wall_times(output_dir),
        "hardware": f"{platform.machine()}, {torch.get_num_threads()} torch threads",
        "torch_version": str(torch.__version__),
    }
    _common.write_json(output_dir / "all.json", summary)
    print(json.dumps(summary, indent=2))
    return 0
