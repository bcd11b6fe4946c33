"""Inference cost of channel-pruned ResNet-20s against the dense one: parameters, MACs, latency.

Unstructured sparsity leaves a dense kernel's work unchanged; removing inner channels
(``edu.prune.remove_channels``) makes a smaller dense network. This benchmark measures,
in every run and on the same inputs, the forward pass (eval mode, no gradient, float32,
channels-last, ``--threads`` threads) of:

- the dense ResNet-20 (the baseline of every ratio);
- the dense ResNet-20 with 70 % of its weights zeroed (unstructured: the control);
- ResNet-20s keeping 75 %, 62.5 %, 50 % and 25 % of every block's inner channels;
- ResNet-20s with inner widths chosen per stage (:data:`STAGE_WIDTHS`): those of Lab
  4's distilled row (:data:`edu.experiments.DISTILLED_WIDTHS`), and one stage cut at a
  time, to see where the time goes;
- with ``--reproduction DIR`` (an ``edu reproduce all`` output), the models of that
  reproduction's Lab 4 channel rows (:data:`CHANNEL_ROWS`, their widths), with their
  test accuracy after finetuning beside that of the float model (Lab 2's ``float``
  row), which is then the dense model measured.

The count of channels alone does not give the time. A convolution kernel works on
blocks of channels as wide as the CPU's vector registers (8 float32 values with AVX2,
which the report records), and the feature maps of the first stage are 16 times larger
than those of the third. The per-stage widths measure both: the first stage at 8, 10
and 12 of its 16 inner channels, and halved against the third stage halved, which
removes about as many MACs.

Latency is measured as ``_paired_timing`` says: ``--runs`` runs, each in a fresh
process, of ``--rounds`` rounds; in each round every model runs once per batch size, in
an order that rotates from round to round, and its speedup in that round is the dense
model's time over its own. The report gives each model's median over runs of the runs'
median speedups, and every run's, so that their range shows. Batch 1 is the latency of
one image; batch 256 the throughput of a full batch.

Run from the repository root, on an otherwise idle machine::

    python benchmarks/channel_pruning.py --reproduction outputs/reference \\
        --json benchmarks/results/channel_pruning_cpu.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
from _machine import cpu_model  # benchmarks/, the script's folder
from _paired_timing import interleaved_rounds, summarize_runs
from torch import nn

from edu.cli.train import WEIGHTS_FILE
from edu.experiments import DISTILLED_WIDTHS
from edu.models import ResNetCIFAR, model_cost, resnet_from_state_dict
from edu.prune import prune_model, remove_channels, squash_mask
from edu.train import load_state_dict

STAGE_WIDTHS = (
    tuple(DISTILLED_WIDTHS[::3]),
    (8, 32, 64),
    (10, 32, 64),
    (12, 32, 64),
    (16, 32, 32),
)
"""Inner widths per stage (every block of a stage alike) of the benchmarked models."""

CHANNEL_ROWS = ("channels-50", "channels-8-16-48-distilled", "group-lasso", "group-lasso-strong")
"""The Lab 4 rows whose models are narrower dense networks."""


WORKER_OPTIONS = ("rounds", "batch_1_repeats", "threads", "reproduction")
"""The options a timing run in a fresh process needs; :func:`_run_in_fresh_process` forwards
them to it (every option of :func:`get_args_parser` but those of the report)."""


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--runs", type=int, default=5, help="runs, each in a fresh process")
    parser.add_argument("--rounds", type=int, default=20, help="timed rounds per run")
    parser.add_argument("--batch-1-repeats", type=int, default=20, help="batch-1 passes per round")
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    parser.add_argument(
        "--reproduction",
        type=Path,
        default=None,
        help="an edu reproduce --output-dir with Lab 4 rows, for their widths and accuracy",
    )
    parser.add_argument(
        "--json",
        type=Path,
        default=Path("outputs/benchmarks/channel_pruning.json"),
        help="where to write the results",
    )
    parser.add_argument("--run-times", type=Path, default=None, help=argparse.SUPPRESS)
    return parser


def _models(reproduction: Path | None) -> dict[str, tuple[nn.Module, dict | None]]:
    """Each benchmarked model, in eval mode and channels-last, with the record of the
    reproduction's row it comes from (its accuracy, test images and epochs), if any."""
    torch.manual_seed(0)
    dense = ResNetCIFAR(num_layers=20)
    float_weights = None if reproduction is None else reproduction / "pretrained" / WEIGHTS_FILE
    if float_weights is not None and float_weights.is_file():  # the float model itself
        dense = resnet_from_state_dict(load_state_dict(float_weights))
    sparse = ResNetCIFAR(num_layers=20)
    sparse.load_state_dict(dense.state_dict())
    prune_model(sparse, 70)
    squash_mask(sparse)
    models: dict[str, tuple[nn.Module, dict | None]] = {
        "dense": (dense, None),
        "dense, 70 % unstructured zeros": (sparse, None),
    }
    for keep in (0.75, 0.625, 0.5, 0.25):
        models[f"{keep * 100:g} % inner channels"] = (remove_channels(dense, keep), None)
    blocks = len(dense.inner_channels) // 3
    for widths in STAGE_WIDTHS:
        name = "inner widths " + " / ".join(map(str, widths))
        per_block = [w for w in widths for _ in range(blocks)]
        models[name] = (remove_channels(dense, per_block), None)
    if reproduction is not None:
        if float_weights.is_file():
            float_row = json.loads((reproduction / "lab2" / "float" / "row.json").read_text())
            models["dense"] = (dense, float_row)
        for row in CHANNEL_ROWS:
            folder = reproduction / "lab4" / row
            if (folder / "model.pt").exists():
                record = json.loads((folder / "row.json").read_text())
                net = resnet_from_state_dict(load_state_dict(folder / "model.pt"))
                models[f"lab4 {row}, finetuned"] = (net, record)
    return {
        name: (net.eval().to(memory_format=torch.channels_last), record)
        for name, (net, record) in models.items()
    }


def _seconds(net: nn.Module, x: torch.Tensor, repeats: int) -> float:
    """Seconds of one forward pass, the mean of ``repeats`` back-to-back ones."""
    started = time.perf_counter()
    for _ in range(repeats):
        net(x)
    return (time.perf_counter() - started) / repeats


BATCHES = (1, 256)
"""Batch sizes timed: one image's latency, and a full batch's throughput."""


def time_one_run(args: argparse.Namespace) -> dict[str, dict[int, list[float]]]:
    """One run, in this process: every model's seconds per forward pass, per batch size,
    one per round (batch 1 the mean of ``--batch-1-repeats`` passes)."""
    torch.set_num_threads(args.threads)
    models = _models(args.reproduction)
    inputs = {
        batch: torch.randn(batch, 3, 32, 32).contiguous(memory_format=torch.channels_last)
        for batch in BATCHES
    }
    repeats = {1: args.batch_1_repeats, 256: 1}
    measurements = {
        (name, batch): lambda net=net, x=x, n=repeats[batch]: _seconds(net, x, n)
        for name, (net, _) in models.items()
        for batch, x in inputs.items()
    }
    with torch.inference_mode():
        for measure in measurements.values():  # warm-up: kernel selection, allocations
            measure()
        seconds = interleaved_rounds(measurements, args.rounds)
    return {name: {batch: seconds[name, batch] for batch in BATCHES} for name in models}


def _run_in_fresh_process(args: argparse.Namespace, index: int, folder: Path) -> dict:
    """One run of :func:`time_one_run` in a new interpreter; its times by model and batch."""
    out = folder / f"run{index}.json"
    command = [sys.executable, str(Path(__file__).resolve()), "--run-times", str(out)]
    for option in WORKER_OPTIONS:
        value = getattr(args, option)
        if value is not None:
            command += ["--" + option.replace("_", "-"), str(value)]
    subprocess.run(command, check=True)
    print(f"[bench] run {index + 1}/{args.runs} done", flush=True)
    times = json.loads(out.read_text())
    return {name: {int(b): seconds for b, seconds in t.items()} for name, t in times.items()}


def speedup_with_range(row: dict[str, Any], batch: int) -> str:
    """``1.55x (1.48-1.61)``: a model's median speedup at ``batch`` and its runs' range."""
    runs = row[f"batch_{batch}_speedup_runs"]
    return f"{row[f'batch_{batch}_speedup']:.2f}x ({min(runs):.2f}-{max(runs):.2f})"


def main(args: argparse.Namespace) -> dict[str, Any]:
    """Measure every model over ``--runs`` fresh processes and write the report."""
    models = _models(args.reproduction)
    with tempfile.TemporaryDirectory() as folder:
        runs = [_run_in_fresh_process(args, index, Path(folder)) for index in range(args.runs)]
    summaries = {
        batch: summarize_runs([{name: run[name][batch] for name in run} for run in runs], "dense")
        for batch in BATCHES
    }
    base_record = models["dense"][1]
    base_accuracy = None if base_record is None else base_record["accuracy"]
    results = {}
    for name, (net, record) in models.items():
        accuracy = None if record is None else record["accuracy"]
        cost = model_cost(net)
        row: dict[str, Any] = {
            "parameters": cost.parameters,
            "macs": cost.macs,
            "inner_channels": getattr(net, "inner_channels", None),
        }
        for batch in BATCHES:
            summary = summaries[batch][name]
            for key in ("ms", "ms_runs", "speedup", "speedup_runs"):
                row[f"batch_{batch}_{key}"] = summary[key]
        row["test_accuracy"] = accuracy
        row["test_images"] = None if record is None else record["num_images"]
        row["epochs"] = None if record is None else record["epochs"]
        row["accuracy_points_below_float"] = (
            None if accuracy is None or base_accuracy is None else 100 * (base_accuracy - accuracy)
        )
        results[name] = row
    report = {
        "command": shlex.join([Path(sys.executable).name, *sys.argv]),
        "hardware": {
            "cpu": cpu_model(),
            "vector_isa": torch.backends.cpu.get_cpu_capability(),
            "nproc": len(os.sched_getaffinity(0)),
            "python": platform.python_version(),
            "torch": torch.__version__,
        },
        "threads": args.threads,
        "runs": args.runs,
        "rounds": args.rounds,
        "results": results,
    }
    lines = [
        "| model | parameters | MACs | batch 1 (ms) | speedup (range over runs) "
        "| batch 256 (ms) | speedup (range over runs) | test accuracy |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, row in results.items():
        accuracy = "-" if row["test_accuracy"] is None else f"{row['test_accuracy']:.4f}"
        lines.append(
            f"| {name} | {row['parameters']:,} | {row['macs'] / 1e6:.1f} M "
            f"| {row['batch_1_ms']:.2f} | {speedup_with_range(row, 1)} "
            f"| {row['batch_256_ms']:.0f} | {speedup_with_range(row, 256)} | {accuracy} |"
        )
    print("\n".join(lines))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    return report


if __name__ == "__main__":
    arguments = get_args_parser().parse_args()
    if arguments.run_times is None:
        main(arguments)
    else:  # one run, started by main in a fresh process
        arguments.run_times.write_text(json.dumps(time_one_run(arguments)))
