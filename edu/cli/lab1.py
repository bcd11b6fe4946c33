"""``edu lab1``: run Lab 1 parts (b)-(f) and two extras, write figures and a summary.

A thin layer: the runs are :data:`edu.sparse.LAB1_PARTS` (the spec's hyperparameters),
the figures come from :mod:`edu.plots`. Written to ``--out``:

- ``<part>_<method>[_lam<lam>]_loss.png`` and ``..._weights.png``: each run's figure pair;
- ``<part>_family.png``: the loss curves of a part's runs overlaid;
- ``f_vs_c_first20_loss.png`` and ``f_vs_c_first20_weights.png``: the first 20 steps
  of trimmed L1 (f) against projected GD (c), as part (f) asks;
- ``summary.json``: per run its part, method, lam, threshold, final loss, final W and
  number of non-zeros, with the package version and the command;
- ``command.txt``: the command that made these outputs.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure
from tqdm import tqdm

from edu import __version__
from edu.cli import _common
from edu.plots import plot_loss_family, plot_run, plot_weights_family, run_label, save_figure
from edu.sparse import LAB1_PARTS, LabPart, RunResult, run_part

COMPARE_STEPS = 20
"""How many first steps the (f)-versus-(c) comparison shows."""

COMPARISONS = (
    ("e_vs_d", ("d", "e"), "L1: proximal gradient (e) vs subgradient (d)", None),
    ("f_vs_e", ("e", "f"), "trimmed L1 (f) vs L1 proximal gradient (e)", None),
    (
        f"f_vs_c_first{COMPARE_STEPS}",
        ("c", "f"),
        f"first {COMPARE_STEPS} steps: trimmed L1 (f) vs projected GD (c)",
        COMPARE_STEPS,
    ),
)
"""The comparisons the spec asks for: (file stem, parts overlaid, title, steps shown)."""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``lab1`` subcommand to ``subparsers``."""
    parser = subparsers.add_parser(
        "lab1",
        help="Lab 1: sparse optimization of a linear model (parts b-f, figures, summary)",
        description=(
            "Run every part (b)-(f) of Lab 1 with the spec's hyperparameters (gradient "
            "descent, projected GD, L1 subgradient, ISTA, trimmed L1), plus FISTA and group "
            "lasso as extras beyond the homework; write the figures (PNG), summary.json and "
            "command.txt to --out and print a table of the final weights."
        ),
        formatter_class=_common.HelpFormatter,
    )
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="DIR",
        default=argparse.SUPPRESS,  # required: no default to show
        help="folder for the figures, summary.json and command.txt (created if missing)",
    )
    parser.add_argument(
        "--steps", type=_common.positive_int, default=200, help="gradient steps of every run"
    )
    parser.add_argument("--lr", type=_common.positive_float, default=0.02, help="step size mu")
    parser.set_defaults(func=run_lab1)


def _prefix(part: LabPart) -> str:
    return "extra (not in the homework)" if part.beyond_homework else f"Lab 1({part.name})"


def _stem(part: LabPart, result: RunResult) -> str:
    stem = f"{part.name}_{result.method}"
    return stem if result.lam is None else f"{stem}_lam{result.lam:g}"


def _record(part: LabPart, result: RunResult, figures: list[str]) -> dict[str, Any]:
    return {
        "part": part.name,
        "beyond_homework": part.beyond_homework,
        "method": result.method,
        "lam": result.lam,
        "threshold": result.threshold,
        "steps": result.steps,
        "lr": result.lr,
        "final_loss": result.final_loss,
        "final_penalized_loss": float(result.penalized_losses[-1]),
        "final_weights": result.final_weights.tolist(),
        "nonzeros": result.nonzeros,
        "figures": figures,
    }


def _format_table(records: list[dict[str, Any]]) -> str:
    header = ("part", "method", "lam", "threshold", "final L", "nnz", "final W")
    rows = [
        (
            r["part"],
            r["method"],
            "-" if r["lam"] is None else f"{r['lam']:g}",
            "-" if r["threshold"] is None else f"{r['threshold']:.3g}",
            f"{r['final_loss']:.4g}",
            str(r["nonzeros"]),
            "[" + " ".join(f"{w:+.4f}" for w in r["final_weights"]) + "]",
        )
        for r in records
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in (header, *rows)
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)


def run_lab1(args: argparse.Namespace) -> int:
    """Run Lab 1 into ``args.out``; print the table and the folder; return 0."""
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    command = shlex.join(
        ["edu", "lab1", "--out", str(out), "--steps", str(args.steps), "--lr", repr(args.lr)]
    )
    written: list[str] = []

    def save(figure: Figure, name: str) -> str:
        written.append(save_figure(figure, out / name).name)
        return written[-1]

    records: list[dict[str, Any]] = []
    by_part: dict[str, list[RunResult]] = {}
    for part in tqdm(LAB1_PARTS, desc="lab1", unit="part", disable=None):
        results = by_part[part.name] = run_part(part, steps=args.steps, lr=args.lr)
        for result in results:
            stem = _stem(part, result)
            loss_figure, weights_figure = plot_run(
                result, title=f"{_prefix(part)}: {run_label(result)}"
            )
            figures = [
                save(loss_figure, f"{stem}_loss.png"),
                save(weights_figure, f"{stem}_weights.png"),
            ]
            records.append(_record(part, result, figures))
        save(plot_loss_family(results, title=part.title), f"{part.name}_family.png")

    for stem, parts, title, max_step in COMPARISONS:
        runs = [result for part in parts for result in by_part[part]]
        save(plot_loss_family(runs, title=title, max_step=max_step), f"{stem}_loss.png")
        save(plot_weights_family(runs, title=title, max_step=max_step), f"{stem}_weights.png")

    summary = {
        "package": "edu-dnn-compression",
        "version": __version__,
        "command": command,
        "python": sys.version.split()[0],
        "steps": args.steps,
        "lr": args.lr,
        "figures": written,
        "runs": records,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    (out / "command.txt").write_text(command + "\n")
    print(_format_table(records))
    print(f"\nLab 1 outputs (figures, summary.json, command.txt) are in {out}")
    return 0
