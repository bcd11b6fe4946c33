"""Training-step throughput of ResNet-20 on one device: memory format, precision, compile.

The CPU training path of ``edu.train`` runs float32 in channels-last format. This
benchmark measures the alternatives on the same synthetic batches (random images and
labels: no data pipeline at all, so it is the model's own cost), same SGD settings and
thread count, in one run: contiguous vs channels-last, float32 vs bfloat16 autocast,
and optionally ``torch.compile``. Each variant runs ``--warmup`` untimed steps, then
``--steps`` timed ones; the median step time gives images per second (the first
step's time, which holds the one-time costs such as compiling, is reported apart), and
every variant is reported as a ratio to the float32 contiguous baseline measured in the
same run.

It also bounds what any data pipeline can gain on this machine: an epoch cannot take
less than ``50,000 / (images per second)`` seconds of model compute, and a pipeline
that costs ``D`` seconds of the same cores an epoch gains at most ``1 + D / compute``.

Run from the repository root::

    python benchmarks/train_step.py --json benchmarks/results/train_step_cpu.json
    python benchmarks/train_step.py --compile   # adds torch.compile (minutes to compile)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shlex
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import torch
from _machine import cpu_model  # benchmarks/, the script's folder
from torch import nn

from edu.models import ResNetCIFAR


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=15, help="timed steps per variant")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps per variant")
    parser.add_argument(
        "--threads",
        type=int,
        default=len(os.sched_getaffinity(0)),
        help="torch.set_num_threads (default: the CPUs available)",
    )
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    parser.add_argument(
        "--compile", action="store_true", help="also measure torch.compile (channels-last)"
    )
    parser.add_argument(
        "--json",
        type=Path,
        default=Path("outputs/benchmarks/train_step.json"),
        help="where to write the results",
    )
    return parser


def _step_seconds(
    device: torch.device,
    batch_size: int,
    steps: int,
    warmup: int,
    *,
    channels_last: bool,
    bfloat16: bool,
    compiled: bool,
) -> list[float]:
    """Seconds of every forward-backward-SGD step of one variant, warm-up steps included
    (the first one holds the one-time costs: kernel selection, compiling)."""
    torch.manual_seed(0)
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    net = ResNetCIFAR(num_layers=20).to(device, memory_format=memory_format).train()
    optimizer = torch.optim.SGD(
        net.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4
    )
    model = torch.compile(net) if compiled else net
    x = torch.randn(batch_size, 3, 32, 32, device=device).contiguous(memory_format=memory_format)
    y = torch.randint(0, 10, (batch_size,), device=device)
    loss_fn = nn.CrossEntropyLoss()
    autocast = (
        torch.autocast(device.type, dtype=torch.bfloat16) if bfloat16 else contextlib.nullcontext()
    )
    seconds = []
    for _ in range(warmup + steps):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        started = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        with autocast:
            loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        seconds.append(time.perf_counter() - started)
    return seconds


def main(args: argparse.Namespace) -> dict[str, Any]:
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    variants = {
        "float32, contiguous": {"channels_last": False, "bfloat16": False, "compiled": False},
        "float32, channels-last": {"channels_last": True, "bfloat16": False, "compiled": False},
        "bfloat16 autocast, contiguous": {
            "channels_last": False,
            "bfloat16": True,
            "compiled": False,
        },
        "bfloat16 autocast, channels-last": {
            "channels_last": True,
            "bfloat16": True,
            "compiled": False,
        },
    }
    if args.compile:
        variants["float32, channels-last, torch.compile"] = {
            "channels_last": True,
            "bfloat16": False,
            "compiled": True,
        }
    results = {}
    for name, options in variants.items():
        print(f"[bench] {name}", flush=True)
        seconds = _step_seconds(device, args.batch_size, args.steps, args.warmup, **options)
        median = statistics.median(seconds[args.warmup :])
        results[name] = {
            "first_step_seconds": round(seconds[0], 2),
            "median_step_seconds": round(median, 4),
            "images_per_s": args.batch_size / median,
        }
    baseline = results["float32, contiguous"]["images_per_s"]
    for row in results.values():
        row["ratio_to_float32_contiguous"] = row["images_per_s"] / baseline
        row["epoch_compute_seconds"] = 50_000 / row["images_per_s"]
    report = {
        "command": shlex.join([Path(sys.executable).name, *sys.argv]),
        "hardware": {
            "cpu": cpu_model(),
            "nproc": len(os.sched_getaffinity(0)),
            "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
            "python": platform.python_version(),
            "torch": torch.__version__,
        },
        "threads": args.threads,
        "batch_size": args.batch_size,
        "steps": args.steps,
        "results": results,
    }
    rows = [
        "| variant | images/s | vs float32 contiguous | epoch of model compute (s) "
        "| first step (s) |",
        "| --- | ---: | ---: | ---: | ---: |",
        *(
            f"| {name} | {row['images_per_s']:,.0f} | {row['ratio_to_float32_contiguous']:.2f}x "
            f"| {row['epoch_compute_seconds']:.0f} | {row['first_step_seconds']:.1f} |"
            for name, row in results.items()
        ),
    ]
    print("\n".join(rows))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    return report


if __name__ == "__main__":
    main(get_args_parser().parse_args())
