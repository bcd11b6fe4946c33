"""``edu frontier``: file size against test accuracy for every model a reproduction made.

For each finished row of ``edu reproduce`` under OUTPUT_DIR (Labs 2, 3 and 4), the
row's model is written as a compressed model file (``edu.compress``) at the row's own
grid: float rows as sparse float32, linear rows at their ``N`` bits, k-means rows with
their codebooks; rows without saved weights (the float model, post-training
quantization) are rebuilt from the float checkpoint. Each file is read back and
evaluated on the test set, so the accuracy is the file's, not the record's. Writes
``OUTPUT_DIR/frontier/``: the files, ``results.md``, ``results.json`` and
``frontier.png`` (size on a log axis, with the targets: within 1 point of the float
model, at least 15x smaller than its float32 state dict).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import torch

from edu.cli import _common
from edu.compress import kmeans_quantizer, load_compressed, save_compressed
from edu.experiments import LABS, MODEL_FILE, ROW_FILE
from edu.models import model_cost, resnet_from_state_dict
from edu.plots import FrontierPoint, plot_frontier, save_figure
from edu.train import evaluate, load_state_dict, resolve_device

HEADER = ["model", "test accuracy", "file bytes", "x smaller", "bits/weight", "MACs", "parameters"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``frontier`` subcommand."""
    parser = subparsers.add_parser(
        "frontier",
        help="compress every reproduced model and plot file size against accuracy",
        description=__doc__,
        formatter_class=_common.HelpFormatter,
    )
    parser.add_argument(
        "output_dir", type=Path, help="the --output-dir of edu reproduce (holds lab2/ ...)"
    )
    parser.add_argument(
        "--checkpoint",
        type=Path,
        required=True,
        help="the float weights the rows started from (for rows that saved none)",
    )
    _common.add_data_arguments(parser)
    _common.add_device_argument(parser)
    parser.set_defaults(func=run_frontier)


def _finished_rows(output_dir: Path) -> list[tuple[str, dict[str, Any]]]:
    """``(lab, record)`` of every finished row, in the labs' and tables' order."""
    rows = []
    for lab, table in LABS.items():
        for row in table:
            path = output_dir / lab / row.id / ROW_FILE
            if path.exists():
                rows.append((lab, json.loads(path.read_text())))
    return rows


def _row_model(output_dir: Path, lab: str, record: dict[str, Any], float_weights: dict):
    """The row's model at its own grid, on the CPU, from its weights or the float ones."""
    details = record.get("details", {})
    model_path = output_dir / lab / record["row"] / MODEL_FILE
    weights = load_state_dict(model_path) if model_path.exists() else float_weights
    return resnet_from_state_dict(
        weights,
        Nbits=details.get("nbits"),
        symmetric=bool(details.get("symmetric", False)),
        quantizer=kmeans_quantizer if details.get("kmeans") else None,
    )


def run_frontier(args: argparse.Namespace) -> int:
    """Compress, reload and evaluate every finished row; write the table and the figure."""
    _common.apply_threads(args.threads)
    device = resolve_device(args.device)
    loader = _common.cifar10_test_loader(args, device)
    float_weights = load_state_dict(args.checkpoint)
    out = args.output_dir / "frontier"
    out.mkdir(parents=True, exist_ok=True)
    run_args = _common.write_run_record(out, args)
    entries = []
    for lab, record in _finished_rows(args.output_dir):
        net = _row_model(args.output_dir, lab, record, float_weights)
        path = out / f"{lab}-{record['row']}.edz"
        report = save_compressed(net, path)
        loaded = load_compressed(path).to(device, memory_format=torch.channels_last)
        accuracy = evaluate(loaded, loader, device=device).accuracy
        cost = model_cost(net)
        weights = sum(layer.weights for layer in report.layers)
        entries.append(
            {
                "lab": lab,
                "row": record["row"],
                "test_accuracy": accuracy,
                "file_bytes": report.file_bytes,
                "float32_bytes": report.float32_bytes,
                "bits_per_weight": 8 * report.file_bytes / weights,
                "macs": cost.macs,
                "parameters": cost.parameters,
            }
        )
        print(f"{lab} {record['row']}: {report.file_bytes} bytes, accuracy {accuracy:.4f}")
    if not entries:
        raise ValueError(f"no finished rows under {args.output_dir} (run edu reproduce first)")
    dense = resnet_from_state_dict(float_weights)
    baseline = save_compressed(dense, out / "dense-float32.edz").float32_bytes
    float_accuracy = evaluate(
        dense.to(device, memory_format=torch.channels_last), loader, device=device
    ).accuracy
    for entry in entries:
        entry["ratio"] = baseline / entry["file_bytes"]
    rows = [
        [
            f"{e['lab']} {e['row']}",
            f"{e['test_accuracy']:.4f}",
            str(e["file_bytes"]),
            f"{e['ratio']:.1f}",
            f"{e['bits_per_weight']:.2f}",
            f"{e['macs'] / 1e6:.1f} M",
            str(e["parameters"]),
        ]
        for e in entries
    ]
    text = (
        _common.markdown_table(HEADER, rows)
        + f"\n\nThe float model: accuracy {float_accuracy:.4f}, float32 state dict "
        f"{baseline} bytes. Accuracy is the compressed file's, read back and evaluated."
    )
    payload = {
        "args": run_args,
        "float_accuracy": float_accuracy,
        "float32_bytes": baseline,
        "models": entries,
    }
    _common.write_results(out, text, payload)
    points = [
        FrontierPoint(e["row"], e["file_bytes"], e["test_accuracy"], e["lab"]) for e in entries
    ]
    save_figure(plot_frontier(points, baseline, float_accuracy), out / "frontier.png")
    print(text)
    return 0
