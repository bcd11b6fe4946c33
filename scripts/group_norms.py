"""The norms of the inner-channel groups that Lab 4's group lasso shrinks, before and
after its rows: the measurements behind the choice of their strengths.

Usage::

    python scripts/group_norms.py outputs/reference [--pretrained FILE] [--json FILE]

A group is an inner channel's conv1 filter with its conv2 input slice
(:func:`edu.prune.channel_group_norms`). For the pretrained model and for the best
weights of every Lab 4 row that trained with the group lasso (its ``checkpoint.pt``
holds them at full width, before the dead channels were removed), it prints how many
groups there are, how many are zero, and their median, smallest and largest norm.

For each such row it also prints its shrinkage budget: the strength times the sum of
the learning rates its cosine schedule applied (its peak and number of steps read from
the checkpoint's scheduler), the most the proximal steps alone can take off a group's
norm over the run, and how many of the pretrained groups lie below it. A group far
below the budget survives only where the loss gradient holds it up.
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
from pathlib import Path

import torch

from edu.experiments import CHECKPOINT, LAB4_ROWS, ROW_FILE
from edu.models import pretrained_resnet20, resnet_from_state_dict
from edu.prune import channel_group_norms
from edu.train import load_checkpoint, load_state_dict, make_scheduler


def _group_norms(state: dict[str, torch.Tensor]) -> torch.Tensor:
    """Every inner channel's group norm of the model ``state`` holds, in block order."""
    return torch.cat(channel_group_norms(resnet_from_state_dict(state)))


def _statistics(group_norms: torch.Tensor) -> dict:
    """Count, zeros, median, smallest and largest of a model's channel-group norms."""
    norms = group_norms.tolist()
    return {
        "groups": len(norms),
        "zero": sum(n == 0 for n in norms),
        "median": statistics.median(norms),
        "min": min(norms),
        "max": max(norms),
    }


def learning_rate_sum(lr: float, steps: int) -> float:
    """The sum of the learning rates of the ``steps`` steps of a cosine schedule from
    ``lr`` to 0 (:func:`edu.train.make_scheduler`), stepped as the rows step it."""
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    scheduler = make_scheduler(optimizer, "cosine", lr, steps)
    total = 0.0
    for _ in range(steps):
        total += optimizer.param_groups[0]["lr"]
        optimizer.step()
        scheduler.step()
    return total


def measure(output_dir: Path, pretrained: dict[str, torch.Tensor]) -> dict:
    """The statistics of the pretrained model and of every finished group-lasso row."""
    start_norms = _group_norms(pretrained)
    rows = {}
    for row in LAB4_ROWS:
        folder = output_dir / "lab4" / row.id
        if not (folder / ROW_FILE).is_file() or not (folder / CHECKPOINT).is_file():
            continue
        record = json.loads((folder / ROW_FILE).read_text())
        strength = record["details"].get("strength")
        if strength is None:
            continue
        checkpoint = load_checkpoint(folder / CHECKPOINT)
        schedule = checkpoint["scheduler"]
        lrs = learning_rate_sum(schedule["base_lrs"][0], schedule["T_max"])
        budget = strength * lrs
        rows[row.id] = {
            "strength": strength,
            "learning_rate_sum": lrs,
            "budget": budget,
            "pretrained_groups_below_budget": int((start_norms < budget).sum()),
            "after": _statistics(_group_norms(checkpoint["best_state"])),
        }
    return {"pretrained": _statistics(start_norms), "rows": rows}


def _line(name: str, stats: dict) -> str:
    return (
        f"{name:<20} {stats['groups']:>6} {stats['zero']:>5} {stats['median']:>7.2f} "
        f"{stats['min']:>6.2f} {stats['max']:>6.2f}"
    )


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("output_dir", type=Path, help="the --output-dir of edu reproduce all")
    parser.add_argument(
        "--pretrained",
        type=Path,
        default=None,
        help="the model the rows started from (default: the package's pretrained model)",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    return parser


def main(args: argparse.Namespace) -> None:
    pretrained = (
        pretrained_resnet20().state_dict()
        if args.pretrained is None
        else load_state_dict(args.pretrained)
    )
    results = measure(args.output_dir, pretrained)
    print(f"{'model':<20} {'groups':>6} {'zero':>5} {'median':>7} {'min':>6} {'max':>6}")
    print(_line("pretrained", results["pretrained"]))
    for name, row in results["rows"].items():
        print(_line(name, row["after"]))
    for name, row in results["rows"].items():
        print(
            f"{name}: strength {row['strength']:g} x learning-rate sum "
            f"{row['learning_rate_sum']:.2f} = budget {row['budget']:.2f}, above "
            f"{row['pretrained_groups_below_budget']} of the "
            f"{results['pretrained']['groups']} pretrained groups"
        )
    if args.json is not None:
        words = ["python", "scripts/group_norms.py", str(args.output_dir)]
        if args.pretrained is not None:
            words += ["--pretrained", str(args.pretrained)]
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"command": shlex.join(words), **results}, indent=2))


if __name__ == "__main__":
    main(get_args_parser().parse_args())
