"""``edu prune``: one-shot magnitude pruning of a checkpoint at several sparsities (Lab 2 (b)).

For every ``q``, the original weights are reloaded, pruned (per layer, or with one
global threshold) and evaluated; the pruned weights, the per-layer sparsity and a
results table are written beside the command that made them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from edu.cli import _common
from edu.cli.evaluate import layer_table
from edu.experiments import summarize
from edu.models import resnet_from_state_dict
from edu.prune import prune_model
from edu.train import save_checkpoint


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``prune`` subcommand."""
    parser = subparsers.add_parser(
        "prune",
        help="one-shot magnitude pruning at several sparsities",
        description=__doc__,
        formatter_class=_common.HelpFormatter,
    )
    parser.add_argument("checkpoint", type=Path, help="float weights to prune")
    parser.add_argument(
        "--q", type=float, nargs="+", default=[30.0, 50.0, 70.0], help="sparsities in percent"
    )
    parser.add_argument(
        "--scope",
        choices=("layer", "global"),
        default="layer",
        help="per-layer percentile thresholds, or one threshold over all prunable layers",
    )
    parser.add_argument("--output-dir", type=Path, default=Path("outputs/prune"))
    _common.add_data_arguments(parser)
    _common.add_device_argument(parser)
    parser.set_defaults(func=run_prune)


def run_prune(args: argparse.Namespace) -> int:
    """Prune at every ``--q``, evaluate, write checkpoints and the results table."""
    device, run_args, weights, loader = _common.start_checkpoint_sweep(args)
    rows = []
    for q in args.q:
        net = resnet_from_state_dict(weights)
        prune_model(net, q, args.scope)
        summary = {"q": q, "scope": args.scope, **summarize(net, loader, device)}
        path = args.output_dir / f"pruned-{args.scope}-q{q:g}.pt"
        save_checkpoint(path, {"state_dict": net.cpu().state_dict(), "meta": summary})
        rows.append({**summary, "checkpoint": path.name})
        print(f"q = {q:g}% ({args.scope}): accuracy {summary['test_accuracy']:.4f}")
        print(layer_table(summary))
    table = _common.markdown_table(
        ["q (%)", "scope", "test accuracy", "test loss", "total sparsity"],
        [
            [
                f"{r['q']:g}",
                r["scope"],
                f"{r['test_accuracy']:.4f}",
                f"{r['test_loss']:.4f}",
                f"{r['sparsity']['total_sparsity']:.3f}",
            ]
            for r in rows
        ],
    )
    _common.write_results(args.output_dir, table, {"args": run_args, "rows": rows})
    print(table)
    print(f"outputs in {args.output_dir.resolve()}")
    return 0
