"""Turn a finished ``edu train`` run into the pretrained ResNet-20 shipped with the package.

Usage::

    python scripts/ship_pretrained.py outputs/reproduce/pretrained [--data-root DIR]

It reads the run's last checkpoint (``checkpoint.pt``, with ``weights_only=True``) and
``metrics.json`` (and those of the runs it was ``--init``-ed from, recorded as stages),
exports the final weights (:func:`edu.cli.train.export_weights`, the same file
``edu reproduce all`` starts the lab tables from, byte for byte), evaluates them on the
whole CIFAR-10 test split, and writes ``edu/models/weights/resnet20_cifar10.pt`` and
``resnet20_cifar10.json``: the command, seed, epochs, the data named by its file name
and SHA-256 (no path of the machine that trained it), package and torch versions,
hardware, wall time, test accuracy and loss, and the learning curve (train and test
accuracy of every epoch).
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import torch

from edu import __version__
from edu.cli.train import export_weights
from edu.data import BatchLoader, describe_source, load_cifar10
from edu.models import resnet_from_state_dict
from edu.train import evaluate, load_checkpoint, load_state_dict

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "edu" / "models" / "weights"


def _stages(run_dir: Path) -> list[dict]:
    """The runs that made the weights, oldest first, following ``--init`` back."""
    checkpoint = load_checkpoint(run_dir / "checkpoint.pt")
    if checkpoint["epoch"] != checkpoint["args"]["epochs"]:
        raise SystemExit(f"{run_dir} stopped after epoch {checkpoint['epoch']}: finish it first")
    stage = {
        "command": (run_dir / "command.txt").read_text().strip(),
        "epochs": checkpoint["epoch"],
        "wall_seconds": round(sum(row["seconds"] for row in checkpoint["history"])),
        "final_test_accuracy": round(checkpoint["history"][-1]["test_accuracy"], 4),
    }
    init = checkpoint["args"].get("init")
    return [*(_stages(Path(init).parent) if init else []), stage]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir", type=Path, help="output folder of the edu train run")
    parser.add_argument("--data-root", default=None, help="CIFAR-10 root (as in edu train)")
    parser.add_argument("--note", default=None, help="a remark kept in the metadata")
    args = parser.parse_args()

    stages = _stages(args.run_dir)
    checkpoint = load_checkpoint(args.run_dir / "checkpoint.pt")
    weights = export_weights(args.run_dir)
    net = resnet_from_state_dict(load_state_dict(weights))
    test = load_cifar10("test", args.data_root)
    result = evaluate(net, BatchLoader(test.images, test.labels, 1000, train=False))

    data = describe_source(test.source)
    metrics = json.loads((args.run_dir / "metrics.json").read_text())
    meta = {
        "command": stages[-1]["command"],
        "stages": stages,
        "seed": checkpoint["args"]["seed"],
        "epochs": sum(stage["epochs"] for stage in stages),
        "data": data["description"],
        "data_sha256": data["sha256"],
        "data_sha256_of": data["sha256_of"],
        "edu_version": __version__,
        "torch_version": str(torch.__version__),
        # as the run recorded it: the machine this script runs on may not be the one
        # (or the only one) that trained the weights
        "hardware": metrics["meta"]["hardware"],
        "device": metrics["meta"]["device"],
        "wall_seconds_all_epochs": sum(stage["wall_seconds"] for stage in stages),
        "test_images": result.num_images,
        "test_accuracy": round(result.accuracy, 4),
        "test_loss": round(result.loss, 4),
        "shipped_by": "python scripts/ship_pretrained.py " + str(args.run_dir),
        "note": args.note,
        "learning_curve": {
            "columns": ["epoch", "lr", "train_accuracy", "test_accuracy"],
            "rows": [
                [
                    row["epoch"],
                    round(row["lr"], 6),
                    round(row["train_accuracy"], 4),
                    round(row["test_accuracy"], 4),
                ]
                for row in checkpoint["history"]
            ],
        },
    }
    WEIGHTS_DIR.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(weights, WEIGHTS_DIR / "resnet20_cifar10.pt")
    (WEIGHTS_DIR / "resnet20_cifar10.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(json.dumps(meta, indent=2))


if __name__ == "__main__":
    main()
