"""Training throughput with ``edu.data`` vs the conventional ImageFolder + DataLoader pipeline.

Both pipelines feed the same ResNet-20 (``edu.models.ResNetCIFAR(num_layers=20)``, same
initialization, same SGD settings, batch size, thread count and device) in the same run:

- **edu.data**: ``load_cifar10("train")`` (decoded once, cached uint8 tensors) and
  ``BatchLoader(train=True)``: a random crop (padding 4) and flip per image, vectorized;
- **conventional**: ``torchvision.datasets.ImageFolder`` over the JPEG tree, extracted
  from the archive to a temporary folder first (not timed), with PIL transforms
  ``RandomCrop(32, padding=4)``, ``RandomHorizontalFlip()``, ``ToTensor()``,
  ``Normalize(mean, std)`` and ``DataLoader(shuffle=True, num_workers=...)``.

For each it measures the data alone (iterate the loader, batches moved to the device)
and training steps (forward, backward, SGD step), in images per second, over
``--batches`` batches after ``--warmup`` untimed ones (which absorb the DataLoader's
worker start-up), ``--repeats`` times with the pipelines interleaved, and reports the
median (shared machines are noisy). It prints a markdown table and writes the numbers,
the hardware and the command to ``--json``.

Run from the repository root (data through ``--data-root`` or ``$EDU_DATA_ROOT``)::

    EDU_DATA_ROOT=../shared/data python benchmarks/data_pipeline.py
    python benchmarks/data_pipeline.py --data-root ../shared/data --batches 0  # full epoch
    python benchmarks/data_pipeline.py --device cuda --threads 16 --workers 8

``--help`` lists every option with its default.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import torch
import torchvision
from _machine import cpu_model  # benchmarks/, the script's folder
from torch import nn
from torch.utils.data import DataLoader
from torchvision import transforms

from edu.data import CIFAR10_MEAN, CIFAR10_STD, BatchLoader, find_data_root, load_cifar10


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--data-root",
        default=None,
        help="folder holding cifar10-jpeg.tar.gz (or the archive itself); "
        "default: $EDU_DATA_ROOT, then ~/.cache/edu/data",
    )
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument(
        "--batches",
        type=int,
        default=40,
        help="timed batches per measurement; 0 = the rest of one epoch after --warmup",
    )
    parser.add_argument("--warmup", type=int, default=3, help="untimed batches before timing")
    parser.add_argument(
        "--threads",
        type=int,
        default=len(os.sched_getaffinity(0)),
        help="torch.set_num_threads for the model (default: the CPUs available)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=len(os.sched_getaffinity(0)),
        help="DataLoader num_workers of the conventional pipeline",
    )
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto")
    parser.add_argument(
        "--channels-last",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run the model (and feed both pipelines' batches) in channels_last format",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="measurements per pipeline, interleaved; the median is reported",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--json",
        type=Path,
        default=Path("outputs/benchmarks/data_pipeline.json"),
        help="where to write the results",
    )
    return parser


def _device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _find_archive(root: Path) -> Path:
    if root.is_file():
        return root
    archives = sorted(root.glob("*.tar.gz")) + sorted(root.glob("*.tgz"))
    if not archives:
        sys.exit(f"no .tar.gz in {root}: the conventional pipeline needs cifar10-jpeg.tar.gz")
    return archives[0]


def _extract(archive: Path, into: Path) -> Path:
    """Extract the archive; return the folder holding ``train/``."""
    with tarfile.open(archive, "r:gz") as tar:
        tar.extractall(into, filter="data")
    for candidate in (into, *sorted(p for p in into.iterdir() if p.is_dir())):
        if (candidate / "train").is_dir():
            return candidate
    sys.exit(f"{archive} holds no train/ folder")


def _timed(
    loader: Iterable,
    batches: int,
    warmup: int,
    device: torch.device,
    to_device: Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]],
    step: Callable[[torch.Tensor, torch.Tensor], None] | None,
) -> dict[str, float]:
    """Images per second over ``batches`` batches after ``warmup`` untimed ones."""
    images, started = 0, None
    iterator = iter(loader)
    for index in range(warmup + batches):
        if index == warmup:
            _sync(device)
            started = time.perf_counter()
        try:
            x, y = next(iterator)
        except StopIteration:
            break
        x, y = to_device(x, y)
        if step is not None:
            step(x, y)
        if index >= warmup:
            images += x.shape[0]
    _sync(device)
    assert started is not None, "fewer batches than --warmup"
    seconds = time.perf_counter() - started
    return {"images": images, "seconds": round(seconds, 3), "images_per_s": images / seconds}


def _train_step(net: nn.Module) -> Callable[[torch.Tensor, torch.Tensor], None]:
    optimizer = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    loss_fn = nn.CrossEntropyLoss()

    def step(x: torch.Tensor, y: torch.Tensor) -> None:
        optimizer.zero_grad(set_to_none=True)
        loss_fn(net(x), y).backward()
        optimizer.step()

    return step


def _hardware(device: torch.device) -> dict[str, Any]:
    return {
        "cpu": cpu_model(),
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_count": os.cpu_count(),
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
    }


def main(args: argparse.Namespace) -> dict[str, Any]:
    try:
        from edu.models import ResNetCIFAR
    except ImportError as exc:
        sys.exit(f"edu.models.ResNetCIFAR is needed for this benchmark: {exc}")
    torch.set_num_threads(args.threads)
    device = _device(args.device)
    memory_format = torch.channels_last if args.channels_last else torch.contiguous_format
    root = find_data_root(args.data_root)
    archive = _find_archive(root)
    batches = args.batches or 50_000 // args.batch_size - args.warmup  # 0: rest of an epoch

    def new_step() -> Callable[[torch.Tensor, torch.Tensor], None]:
        torch.manual_seed(args.seed)  # the same initial weights for both pipelines
        net = ResNetCIFAR(num_layers=20).to(device, memory_format=memory_format).train()
        return _train_step(net)

    started = time.perf_counter()
    train = load_cifar10("train", archive)
    load_seconds = time.perf_counter() - started
    ours = BatchLoader(
        train.images,
        train.labels,
        args.batch_size,
        train=True,
        device=device,
        seed=args.seed,
        drop_last=True,
        channels_last=args.channels_last,
    )

    def as_is(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return x, y

    def moved(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = x.to(device, non_blocking=True, memory_format=memory_format)
        return x, y.to(device, non_blocking=True)

    # One-time costs (oneDNN kernel selection, allocator growth) before anything is timed,
    # so that they do not fall on whichever pipeline is measured first.
    warm_step = new_step()
    for _ in range(max(args.warmup, 1)):
        x = torch.randn(args.batch_size, 3, 32, 32, device=device)
        warm_step(
            x.contiguous(memory_format=memory_format),
            torch.zeros(args.batch_size, dtype=torch.int64, device=device),
        )

    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="cifar10-jpeg-") as scratch:
        started = time.perf_counter()
        tree = _extract(archive, Path(scratch))
        os.sync()  # let the write-back of 60,000 files finish before anything is timed
        extract_seconds = time.perf_counter() - started
        dataset = torchvision.datasets.ImageFolder(
            str(tree / "train"),
            transform=transforms.Compose(
                [
                    transforms.RandomCrop(32, padding=4),
                    transforms.RandomHorizontalFlip(),
                    transforms.ToTensor(),
                    transforms.Normalize(CIFAR10_MEAN, CIFAR10_STD),
                ]
            ),
        )
        conventional = DataLoader(
            dataset,
            batch_size=args.batch_size,
            shuffle=True,
            num_workers=args.workers,
            drop_last=True,
            pin_memory=device.type == "cuda",
            generator=torch.Generator().manual_seed(args.seed),
        )
        pipelines = {
            "edu.data BatchLoader": (ours, as_is),
            f"ImageFolder + DataLoader({args.workers} workers)": (conventional, moved),
        }
        for repeat in range(args.repeats):  # interleaved, so that drift hits both alike
            for kind, step in (("data_only", None), ("train", "model")):
                for name, (loader, to_device) in pipelines.items():
                    print(f"[bench] {repeat + 1}/{args.repeats} {kind}: {name}", flush=True)
                    sample = _timed(
                        loader,
                        batches,
                        args.warmup,
                        device,
                        to_device,
                        new_step() if step else None,
                    )
                    runs = results.setdefault(name, {}).setdefault(kind, {"runs": []})["runs"]
                    runs.append(sample)
    for row in results.values():
        for kind in row.values():
            kind["images_per_s"] = statistics.median(r["images_per_s"] for r in kind["runs"])

    names = list(results)
    ratio = {
        kind: results[names[0]][kind]["images_per_s"] / results[names[1]][kind]["images_per_s"]
        for kind in ("data_only", "train")
    }
    report = {
        "command": shlex.join([sys.executable, *sys.argv]),
        "args": {key: str(value) for key, value in vars(args).items()},
        "hardware": _hardware(device),
        "timed_batches": batches,
        "archive": str(archive),
        "load_cifar10_seconds": round(load_seconds, 2),
        "extract_seconds": round(extract_seconds, 2),
        "results": results,
        "ratio_edu_over_conventional": ratio,
    }
    rows = [
        "| pipeline | data only (images/s) | training (images/s) |",
        "| --- | ---: | ---: |",
        *(
            f"| {name} | {row['data_only']['images_per_s']:,.0f} "
            f"| {row['train']['images_per_s']:,.0f} |"
            for name, row in results.items()
        ),
        f"| ratio | {ratio['data_only']:.1f}x | {ratio['train']:.2f}x |",
    ]
    hardware = report["hardware"]
    print(
        f"\nResNet-20, batch {args.batch_size}, median of {args.repeats} x {batches} timed "
        f"batches, device {hardware['device']}, {args.threads} torch threads, "
        f"{hardware['nproc']} CPUs ({hardware['cpu']}); load_cifar10: {load_seconds:.1f} s\n"
    )
    print("\n".join(rows))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {args.json}")
    return report


if __name__ == "__main__":
    main(get_args_parser().parse_args())
