"""``edu quantize``: post-training quantization of a checkpoint at several bit widths (Lab 3 (b)).

For every ``N`` the weights are loaded into ``ResNetCIFAR(Nbits=N)`` (stage convs
quantized, first conv and final linear float) and evaluated; zeros of a pruned
checkpoint stay zero. Results are written beside the command that made them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from edu.cli import _common
from edu.experiments import summarize
from edu.models import resnet_from_state_dict


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``quantize`` subcommand."""
    parser = subparsers.add_parser(
        "quantize",
        help="post-training quantization at several bit widths",
        description=__doc__,
        formatter_class=_common.HelpFormatter,
    )
    parser.add_argument("checkpoint", type=Path, help="weights to quantize")
    parser.add_argument("--nbits", type=int, nargs="+", default=[6, 5, 4, 3, 2], help="bit widths")
    parser.add_argument("--symmetric", action="store_true", help="symmetric quantizer")
    parser.add_argument("--output-dir", type=Path, default=Path("outputs/quantize"))
    _common.add_data_arguments(parser)
    _common.add_device_argument(parser)
    parser.set_defaults(func=run_quantize)


def run_quantize(args: argparse.Namespace) -> int:
    """Evaluate the checkpoint at every ``--nbits`` and write the results table."""
    device, run_args, weights, loader = _common.start_checkpoint_sweep(args)
    rows = []
    for nbits in args.nbits:
        net = resnet_from_state_dict(weights, Nbits=nbits, symmetric=args.symmetric)
        summary = {"nbits": nbits, "symmetric": args.symmetric, **summarize(net, loader, device)}
        rows.append(summary)
        print(f"{nbits} bits: accuracy {summary['test_accuracy']:.4f}")
    table = _common.markdown_table(
        ["bits", "quantizer", "test accuracy", "test loss", "max levels per layer"],
        [
            [
                str(r["nbits"]),
                "symmetric" if r["symmetric"] else "asymmetric",
                f"{r['test_accuracy']:.4f}",
                f"{r['test_loss']:.4f}",
                str(max(r["weight_levels"].values())),
            ]
            for r in rows
        ],
    )
    _common.write_results(args.output_dir, table, {"args": run_args, "rows": rows})
    print(table)
    print(f"outputs in {args.output_dir.resolve()}")
    return 0
