"""``edu reproduce``: every row of a lab's table (Lab 2 or 3 beside the spec's numbers, or 4).

All rows start from one float checkpoint (default: the shipped pretrained ResNet-20)
and are declared in :mod:`edu.experiments`. Each row writes ``OUTPUT_DIR/LAB/ROW/``:
``row.json`` (accuracy, loss, per-layer sparsity, weight levels, history, checks, the
spec's reference, the settings) and, for rows that prune or train, ``model.pt`` (the
best weights) and ``checkpoint.pt`` (the last epoch, resumable). ``OUTPUT_DIR/LAB/``
gets ``results.md``, ``results.json`` and ``command.txt``.

Rows already finished with the same settings are skipped, so an interrupted run is
continued by repeating its command; a finetuning row resumes from its last epoch.
Lab 3 (d) starts from the more accurate 70 %-sparse model of Lab 2 (rows
``finetune-70`` and ``global-iterative-70``, the two the homework saves): run
``edu reproduce lab2`` first, with the same options.

Extra seeds (see the options) run rows again, into ``OUTPUT_DIR/seeds/SEED/LAB/ROW/``:
every extra seed the ``--seeded-rows`` (default the compared rows), each from the main
run's start, and the first extra seed also the ``--first-seed-rows``; a seed that made
both of Lab 2's 70 %-sparse models starts its Lab 3 (d) from its own. The table shows
the mean and sample standard deviation of each row over the seeds that ran it beside
the main seed's number.

``edu reproduce all`` runs the whole course's reference: the pretrained ResNet-20
(``edu train``, 200 epochs, into ``OUTPUT_DIR/pretrained/``), then Labs 2, 3 and 4 from
it, with extra seeds; repeating the command resumes where it stopped.

Finetuning (the project's choice; the spec fixes only batch 256 and 20 epochs): SGD,
momentum 0.9, Nesterov, weight decay 5e-4, cosine learning rate from ``--lr`` to 0
over all steps. The iterative rows prune before each of the first ``EPOCHS // 2``
epochs to ``70 (e + 1) / (EPOCHS // 2)`` %, as the spec's 10 of 20.

``--smoke`` checks that every row runs end to end in seconds: 256 training and 200
test images, 1 epoch per finetuning row (so the iterative rows prune once, to 70 %,
before that epoch), outputs in ``outputs/reproduce-smoke``; its numbers mean nothing.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Any

from edu.cli import _common, _reproduce_all
from edu.data import describe_source
from edu.experiments import (
    COMPARED_ROWS,
    LABS,
    RESULTS_HEADER,
    Experiment,
    MissingPrerequisiteError,
    Settings,
    add_seed_spread,
    file_sha256,
    results_cells,
    run_lab,
    seed_experiment,
    select_rows,
    sparsity_cells,
)
from edu.models import pretrained_path
from edu.train import load_state_dict, resolve_device

SMOKE = {"epochs": 1, "limit_train": 256, "limit_test": 200}
"""What ``--smoke`` sets (unless the option is given explicitly)."""

FULL_EPOCHS = 20
"""Epochs per finetuning row without ``--smoke``: the spec's 20."""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``reproduce`` subcommand."""
    parser = subparsers.add_parser(
        "reproduce",
        help="run every row of Lab 2, 3 or 4 (beside the spec's numbers where it has them)",
        description=__doc__,
        formatter_class=_common.HelpFormatter,
    )
    parser.add_argument(
        "lab",
        choices=[*sorted(LABS), "all"],
        help="which lab's table to reproduce; all: the pretrained model, then every lab",
    )
    parser.add_argument(
        "--rows",
        nargs="+",
        default=None,
        metavar="ROW",
        help="run only these rows (the others are still reported); default all. "
        + "; ".join(f"{lab}: {' '.join(row.id for row in rows)}" for lab, rows in LABS.items()),
    )
    parser.add_argument(
        "--checkpoint",
        type=Path,
        default=None,
        help="float weights every row starts from; default the shipped pretrained ResNet-20",
    )
    parser.add_argument(
        "--epochs",
        type=_common.positive_int,
        default=None,
        help=f"epochs per finetuning row; default {FULL_EPOCHS} (1 with --smoke)",
    )
    parser.add_argument(
        "--lr", type=_common.positive_float, default=0.01, help="initial learning rate (cosine)"
    )
    parser.add_argument(
        "--batch-size", type=_common.positive_int, default=256, help="the spec's batch size"
    )
    parser.add_argument("--seed", type=int, default=0, help="seeds each row's data order")
    parser.add_argument(
        "--extra-seeds",
        type=int,
        nargs="+",
        default=None,
        metavar="SEED",
        help="run the compared rows again with these seeds and report their mean and "
        "spread (default: none; with all: 1 2)",
    )
    parser.add_argument(
        "--seeded-rows",
        nargs="*",
        default=None,
        metavar="ROW",
        help="rows run with every one of --extra-seeds (none if the option is given alone); "
        "if it is absent, every compared training row: "
        + "; ".join(f"{lab}: {' '.join(rows)}" for lab, rows in COMPARED_ROWS.items())
        + " (all passes its own: see --seed-scope)",
    )
    parser.add_argument(
        "--first-seed-rows",
        nargs="+",
        default=None,
        metavar="ROW",
        help="rows run with the first of --extra-seeds only, besides --seeded-rows (all on a "
        "CPU passes the homework's rows beyond the pruning comparison, 2(c), 3(c) and 3(d) "
        "at 4 bits: with --seeded-rows, one independent chain of the homework's rows)",
    )
    _reproduce_all.add_arguments(parser)
    parser.add_argument("--force", action="store_true", help="rerun rows already finished")
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=None,
        help="default outputs/reproduce (outputs/reproduce-smoke with --smoke)",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny run: 256 training and 200 test images, 1 epoch per finetuning row",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    _common.add_data_arguments(parser)
    _common.add_device_argument(parser)
    parser.set_defaults(func=run_command)


def resolve_options(args: argparse.Namespace) -> None:
    """Fill in the defaults that depend on ``--smoke`` (in place, so they are recorded)."""
    for key, value in SMOKE.items():
        if getattr(args, key) is None and args.smoke:
            setattr(args, key, value)
    if args.epochs is None:
        args.epochs = FULL_EPOCHS
    if args.output_dir is None:
        args.output_dir = Path("outputs/reproduce-smoke" if args.smoke else "outputs/reproduce")


def _float_checkpoint(args: argparse.Namespace) -> Path:
    if args.checkpoint is not None:
        return args.checkpoint
    try:
        return pretrained_path()
    except FileNotFoundError as error:
        raise FileNotFoundError(f"{error}; or pass --checkpoint PATH") from error


def prerequisite_command(args: argparse.Namespace, lab: str, row: str) -> str:
    """The command that makes ``row`` of ``lab`` with the settings of this one."""
    words = ["edu", "reproduce", lab, "--rows", row]
    options = {
        "--checkpoint": args.checkpoint,
        "--epochs": args.epochs,
        "--lr": args.lr,
        "--batch-size": args.batch_size,
        "--seed": args.seed,
        "--limit-train": args.limit_train,
        "--limit-test": args.limit_test,
        "--data-root": args.data_root,
        "--output-dir": args.output_dir,
    }
    for flag, value in options.items():
        if value is not None:
            words += [flag, str(value)]
    return shlex.join(words + (["--smoke"] if args.smoke else []))


def _summary_rows(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The results table as JSON: per row its numbers, without history and per-layer data."""
    keep = ("row", "part", "description", "reference", "status", "accuracy", "loss")
    keep += ("max_weight_levels", "epochs", "best_epoch", "checks_ok", "seconds")
    keep += ("seeds", "accuracy_mean", "accuracy_sd")
    return [
        {
            **{key: record[key] for key in keep if key in record},
            **(
                {"total_sparsity": record["sparsity"]["total_sparsity"]}
                if "sparsity" in record
                else {}
            ),
        }
        for record in records
    ]


def run_command(args: argparse.Namespace) -> int:
    """``edu reproduce LAB`` runs one lab's table; ``edu reproduce all`` the whole course."""
    if args.lab == "all":
        return _reproduce_all.run_all(args)
    return run_reproduce(args)


def seed_rows(args: argparse.Namespace, first: bool) -> list[str]:
    """The rows an extra seed runs, in the table's order: ``--seeded-rows`` of this lab (or
    the lab's compared rows), and for the ``first`` extra seed ``--first-seed-rows`` too.
    Validated; not narrowed by ``--rows``."""
    every = COMPARED_ROWS[args.lab] if args.seeded_rows is None else args.seeded_rows
    rows = [*every, *(args.first_seed_rows or [] if first else [])]
    valid = {row.id for row in select_rows(args.lab)}
    unknown = [row for row in rows if row not in valid]
    if unknown:
        raise ValueError(
            f"--seeded-rows / --first-seed-rows: unknown {args.lab} rows "
            f"{', '.join(unknown)}; valid rows: {', '.join(sorted(valid))}"
        )
    return [row.id for row in select_rows(args.lab, rows)] if rows else []


def _run_extra_seeds(args: argparse.Namespace, exp: Experiment) -> dict[int, list[dict]]:
    """Run each extra seed's rows that ``--rows`` selects; by seed, the records of all its
    rows (finished now or earlier), without rows its folder holds from other options."""
    extra = {}
    for index, seed in enumerate(args.extra_seeds or ()):
        rows = seed_rows(args, first=index == 0)
        if not rows:
            continue
        run = [row for row in rows if args.rows is None or row in args.rows]
        if run:
            exp.say(f"{args.lab}, seed {seed}: {' '.join(run)}")
        records = run_lab(args.lab, seed_experiment(exp, seed), run, force=args.force)
        extra[seed] = [record for record in records if record["row"] in rows]
    return extra


def run_reproduce(args: argparse.Namespace) -> int:
    """Run the chosen rows of the lab, write and print its results table."""
    resolve_options(args)
    select_rows(args.lab, args.rows)  # unknown rows: an error before anything loads
    seed_rows(args, first=True)  # unknown rows: an error before anything loads
    if args.seed in (args.extra_seeds or ()):
        raise ValueError(f"--extra-seeds {args.seed} is the main --seed; give other seeds")
    checkpoint = _float_checkpoint(args)
    _common.apply_threads(args.threads)
    device = resolve_device(args.device)
    weights = load_state_dict(checkpoint)
    settings = Settings(
        checkpoint_sha256=file_sha256(checkpoint),
        epochs=args.epochs,
        lr=args.lr,
        batch_size=args.batch_size,
        seed=args.seed,
        limit_train=args.limit_train,
        limit_test=args.limit_test,
    )
    lab_dir = args.output_dir / args.lab
    run_args = _common.write_run_record(lab_dir, args)
    test_loader = _common.cifar10_test_loader(args, device)
    exp = Experiment(
        weights=weights,
        settings=settings,
        output_dir=args.output_dir,
        train_loader=lambda generator: _common.cifar10_loaders(args, device, generator)[0],
        test_loader=test_loader,
        scan_loader=_common.cifar10_scan_loader(args, device) if args.lab == "lab4" else None,
        device=device,
        progress=not args.no_progress,
        about={
            "checkpoint": checkpoint.name,
            "data": describe_source(test_loader.source)["description"],
            "device": str(device),
        },
    )
    try:
        records = run_lab(args.lab, exp, args.rows, force=args.force)
        records = add_seed_spread(records, _run_extra_seeds(args, exp))
    except MissingPrerequisiteError as error:
        command = prerequisite_command(args, error.lab, error.row)
        raise ValueError(f"{error.reason}; make it first with:\n  {command}") from error

    table = _common.markdown_table(RESULTS_HEADER, results_cells(records))
    header, layers = sparsity_cells(records)
    described = ", ".join(f"{key} {value}" for key, value in settings.as_dict().items())
    text = f"{table}\n\nSettings: {described}; finetuning with SGD (Nesterov), cosine lr to 0."
    if layers:
        text += "\n\nPer-layer sparsity:\n\n" + _common.markdown_table(header, layers)
    payload = {
        "lab": args.lab,
        "args": run_args,
        "settings": settings.as_dict(),
        "rows": _summary_rows(records),
    }
    _common.write_results(lab_dir, text, payload)
    print(text)
    print(f"outputs in {lab_dir.resolve()}")
    failed = [record["row"] for record in records if record.get("checks_ok") is False]
    if failed:
        print(
            f"edu reproduce: checks failed for rows {', '.join(failed)} (see their row.json)",
            file=sys.stderr,
        )
        return 1
    return 0
