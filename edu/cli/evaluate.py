"""``edu evaluate``: test loss, accuracy, per-layer sparsity and weight levels of a checkpoint.

Any checkpoint the package writes (training checkpoint, weights file, bare state dict)
is read with ``weights_only=True``; ``--nbits`` evaluates it as a quantized model. A
compressed model file (``edu compress``) is evaluated as it was saved: its bits and
grids are in it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from edu.cli import _common
from edu.compress import is_compressed_file, load_compressed
from edu.experiments import summarize
from edu.models import ResNetCIFAR, resnet_from_state_dict
from edu.train import load_state_dict, resolve_device


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``evaluate`` subcommand."""
    parser = subparsers.add_parser(
        "evaluate",
        help="evaluate a checkpoint on the CIFAR-10 test set",
        description=__doc__,
        formatter_class=_common.HelpFormatter,
    )
    parser.add_argument(
        "checkpoint", type=Path, help="weights to evaluate, or a compressed model file"
    )
    parser.add_argument("--nbits", type=int, default=None, help="quantize stage convs to N bits")
    parser.add_argument("--symmetric", action="store_true", help="symmetric quantizer")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    _common.add_data_arguments(parser)
    _common.add_device_argument(parser)
    parser.set_defaults(func=run_evaluate)


def run_evaluate(args: argparse.Namespace) -> int:
    """Evaluate ``args.checkpoint`` and print the summary as text or JSON."""
    _common.apply_threads(args.threads)
    device = resolve_device(args.device)
    net = _load(args)
    loader = _common.cifar10_test_loader(args, device)
    summary = {
        "checkpoint": str(args.checkpoint),
        "nbits": net.Nbits,
        "symmetric": net.symmetric,
        **summarize(net, loader, device),
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print(f"{summary['checkpoint']}: {summary['num_images']} CIFAR-10 test images")
    print(f"test loss {summary['test_loss']:.4f}  accuracy {summary['test_accuracy']:.4f}")
    print(layer_table(summary))
    return 0


def _load(args: argparse.Namespace) -> ResNetCIFAR:
    """The model of ``args.checkpoint``: a compressed file as saved, else with ``--nbits``."""
    if not is_compressed_file(args.checkpoint):
        return resnet_from_state_dict(
            load_state_dict(args.checkpoint), Nbits=args.nbits, symmetric=args.symmetric
        )
    if args.nbits is not None or args.symmetric:
        raise ValueError(
            "--nbits and --symmetric do not apply to a compressed file: it holds its grids"
        )
    return load_compressed(args.checkpoint)


def layer_table(summary: dict[str, Any]) -> str:
    """Per-layer sparsity with the weight levels of quantized layers, as an aligned table."""
    levels = summary["weight_levels"]
    rows = [f"{'layer':28s} {'weights':>8s} {'sparsity':>8s} {'levels':>6s}"]
    for layer in summary["sparsity"]["layers"]:
        count = levels.get(layer["name"], "-")
        rows.append(
            f"{layer['name']:28s} {layer['weights']:8d} {layer['sparsity']:8.3f} {count!s:>6s}"
        )
    rows.append(f"{'total':28s} {'':8s} {summary['sparsity']['total_sparsity']:8.3f}")
    return "\n".join(rows)
