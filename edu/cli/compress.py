"""``edu compress``: write a checkpoint as a compressed model file and show what each layer costs.

The weights are loaded into ``ResNetCIFAR(Nbits=N)`` (stage convolutions quantized as
the forward pass quantizes them, first conv and final linear float), or with
``--kmeans`` shared among 2^N k-means centroids per layer, and written with
``edu.compress.save_compressed``; ``edu evaluate FILE`` reads the file back.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from edu.cli import _common
from edu.compress import CompressionReport, LayerSize, kmeans_quantizer, save_compressed
from edu.models import resnet_from_state_dict
from edu.train import load_state_dict


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``compress`` subcommand."""
    parser = subparsers.add_parser(
        "compress",
        help="write a checkpoint as a compressed model file",
        description=__doc__,
        formatter_class=_common.HelpFormatter,
    )
    parser.add_argument("checkpoint", type=Path, help="weights to compress")
    parser.add_argument("--out", type=Path, required=True, help="compressed file to write")
    parser.add_argument(
        "--nbits",
        type=_common.positive_int,
        default=None,
        help="quantize the stage convs to N bits (none: keep the weights float)",
    )
    grid = parser.add_mutually_exclusive_group()
    grid.add_argument("--symmetric", action="store_true", help="symmetric linear quantizer")
    grid.add_argument(
        "--kmeans", action="store_true", help="k-means weight sharing instead of a linear grid"
    )
    parser.set_defaults(func=run_compress)


def run_compress(args: argparse.Namespace) -> int:
    """Compress ``args.checkpoint`` into ``args.out`` and print the per-layer table."""
    if args.kmeans and args.nbits is None:
        raise ValueError("--kmeans needs --nbits: the number of centroids is 2^N")
    net = resnet_from_state_dict(
        load_state_dict(args.checkpoint),
        Nbits=args.nbits,
        symmetric=args.symmetric,
        quantizer=kmeans_quantizer if args.kmeans else None,
    )
    report = save_compressed(net, args.out)
    print(size_table(report))
    return 0


def size_table(report: CompressionReport) -> str:
    """Per layer (the tensors of one module together): weights, non-zeros, storage of
    its weight, bits per weight and bytes; then the body, the file and the ratio."""
    layers: dict[str, list[LayerSize]] = {}
    for tensor in report.layers:
        layers.setdefault(tensor.name.rsplit(".", 1)[0], []).append(tensor)
    header = ["layer", "weights", "non-zeros", "storage", "positions", "bits/weight", "bytes"]
    rows = []
    for name, tensors in layers.items():
        weights = sum(tensor.weights for tensor in tensors)
        nbytes = sum(tensor.nbytes for tensor in tensors)
        rows.append(
            [
                name,
                str(weights),
                str(sum(tensor.nonzeros for tensor in tensors)),
                tensors[0].storage,
                tensors[0].positions,
                f"{8 * nbytes / weights:.2f}",
                str(nbytes),
            ]
        )
    weights = sum(tensor.weights for tensor in report.layers)
    huffman = sum("Huffman" in tensor.storage for tensor in report.layers)
    stages = [f"Huffman codes in {huffman} layers"] if huffman else []
    stages += ["lzma"] if report.entropy_coded else []
    entropy = ", ".join(stages) or "no entropy coding"
    lines = [
        _common.markdown_table(header, rows),
        "",
        f"body {report.body_bytes} bytes ({8 * report.body_bytes / weights:.2f} bits per "
        f"weight), file {report.file_bytes} bytes ({entropy}, "
        f"{8 * report.file_bytes / weights:.2f} bits per weight)",
        f"float32 state dict {report.float32_bytes} bytes: the file is {report.ratio:.1f}x smaller",
    ]
    return "\n".join(lines)
