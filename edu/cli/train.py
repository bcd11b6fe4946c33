"""``edu train``: train a CIFAR ResNet from scratch, or finetune one (float or quantized).

The shape follows the torchvision reference scripts: dashed flags with defaults shown
in ``--help``, ``--seed``, ``--resume`` from the run's own checkpoint, and an output
folder holding the weights, the per-epoch history and the command that made them.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import torch

from edu import __version__
from edu.cli import _common
from edu.models import ResNetCIFAR
from edu.prune import apply_masks, masks_from_nonzeros
from edu.train import (
    SCHEDULES,
    fit,
    load_checkpoint,
    load_state_dict,
    make_scheduler,
    make_sgd,
    resolve_device,
    save_atomically,
    save_checkpoint,
    seed_everything,
)

WEIGHTS_FILE = "resnet20_cifar10.pt"
"""A finished run's final weights as a bare float32 state dict (:func:`export_weights`)."""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``train`` subcommand."""
    parser = subparsers.add_parser(
        "train",
        help="train a CIFAR ResNet (from scratch, or finetune a checkpoint)",
        description=__doc__,
        formatter_class=_common.HelpFormatter,
    )
    parser.add_argument("--num-layers", type=int, default=20, help="ResNet depth, 6n + 2")
    parser.add_argument("--nbits", type=int, default=None, help="quantize stage convs to N bits")
    parser.add_argument("--symmetric", action="store_true", help="symmetric quantizer")
    parser.add_argument("--init", type=Path, default=None, help="start from these weights")
    parser.add_argument(
        "--keep-mask",
        action="store_true",
        help="keep the zero weights of --init at exactly 0 (mask re-applied after every step)",
    )
    parser.add_argument("--epochs", type=_common.positive_int, default=40)
    parser.add_argument("--batch-size", type=_common.positive_int, default=128)
    parser.add_argument("--lr", type=_common.positive_float, default=0.1, help="peak learning rate")
    parser.add_argument(
        "--schedule",
        choices=SCHEDULES,
        default="onecycle",
        help="learning-rate schedule, stepped every batch",
    )
    parser.add_argument(
        "--average-from",
        type=_common.positive_int,
        default=None,
        metavar="EPOCH",
        help="average the weights at the end of every epoch from EPOCH (counted from 1) on, "
        "and save the average, its BatchNorm statistics recomputed (stochastic weight "
        "averaging; pair it with a constant --schedule)",
    )
    parser.add_argument(
        "--cutout",
        type=_common.non_negative_int,
        default=0,
        metavar="SIZE",
        help="mask a SIZE x SIZE square of every training image at a random place (cutout; "
        "16 on CIFAR-10 in its paper); 0: none",
    )
    parser.add_argument("--momentum", type=float, default=0.9, help="SGD momentum (Nesterov)")
    parser.add_argument("--weight-decay", type=float, default=5e-4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--resume", action="store_true", help="continue from OUTPUT_DIR/checkpoint.pt if present"
    )
    parser.add_argument("--output-dir", type=Path, default=Path("outputs/train"))
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    _common.add_data_arguments(parser)
    _common.add_device_argument(parser)
    parser.set_defaults(func=run_train)


# Arguments that define the run: a resumed run must use the same values, or its
# schedule and data would not be those of the checkpoint.
_RUN_DEFINING = (
    "num_layers",
    "nbits",
    "symmetric",
    "epochs",
    "batch_size",
    "lr",
    "schedule",
    "momentum",
    "weight_decay",
    "seed",
    "init",
    "keep_mask",
    "average_from",
    "cutout",
    "limit_train",
    "limit_test",
)


_ADDED_LATER = {"average_from": None, "cutout": 0}
"""Run-defining arguments newer than some checkpoints: absent from one, they had the value
of a run that did not use them."""


def check_resumable(checkpoint: Path, args: argparse.Namespace) -> None:
    """Refuse to resume ``checkpoint`` with arguments that define a different run."""
    saved = load_checkpoint(checkpoint).get("args", {})
    saved = {**_ADDED_LATER, **saved}
    changed = [
        f"--{key.replace('_', '-')} {saved[key]!r} -> {getattr(args, key)!r}"
        for key in _RUN_DEFINING
        if key in saved and saved[key] != getattr(args, key)
    ]
    if changed:
        raise ValueError(
            f"cannot resume {checkpoint}: it was written by a different run ("
            + ", ".join(changed)
            + "); repeat the original command with --resume, or use another --output-dir"
        )


def run_train(args: argparse.Namespace) -> int:
    """Train as the arguments say and write the outputs; return the exit status."""
    checkpoint = args.output_dir / "checkpoint.pt"
    if args.resume and checkpoint.exists():
        check_resumable(checkpoint, args)
    _common.apply_threads(args.threads)
    device = resolve_device(args.device)
    generator = seed_everything(args.seed)
    run_args = _common.write_run_record(args.output_dir, args)
    train_loader, test_loader = _common.cifar10_loaders(args, device, generator)

    if args.keep_mask and args.init is None:
        raise ValueError("--keep-mask keeps the zeros of --init weights: give --init")
    net = ResNetCIFAR(num_layers=args.num_layers, Nbits=args.nbits, symmetric=args.symmetric)
    if args.init is not None:
        net.load_state_dict(load_state_dict(args.init))
    masks = masks_from_nonzeros(net) if args.keep_mask else None
    net.to(device, memory_format=torch.channels_last)
    optimizer = make_sgd(net, lr=args.lr, momentum=args.momentum, weight_decay=args.weight_decay)
    scheduler = make_scheduler(optimizer, args.schedule, args.lr, args.epochs * len(train_loader))

    started = time.perf_counter()
    result = fit(
        net,
        optimizer,
        train_loader,
        test_loader,
        epochs=args.epochs,
        scheduler=scheduler,
        device=device,
        checkpoint_path=checkpoint,
        resume=args.resume,
        after_step=(lambda model: apply_masks(model, masks)) if masks is not None else None,
        generator=generator,
        args=run_args,
        mixed_precision=device.type == "cuda",
        progress=not args.no_progress,
        average_from=None if args.average_from is None else args.average_from - 1,
    )
    final = result.final
    weights = {k: v.cpu() for k, v in net.state_dict().items()}
    if result.average is not None:
        weights = result.average.state
    meta = {
        "command": run_args["command"],
        "args": run_args,
        "edu_version": __version__,
        "torch_version": str(torch.__version__),
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "hardware": f"{platform.machine()}, {torch.get_num_threads()} torch threads",
        "data": train_loader.source if hasattr(train_loader, "source") else None,
        "epochs": args.epochs,
        "seed": args.seed,
        "wall_seconds_this_invocation": round(time.perf_counter() - started, 1),
        "wall_seconds_all_epochs": round(sum(row["seconds"] for row in result.history), 1),
        "test_accuracy": final["test_accuracy"],
        "test_loss": final["test_loss"],
        "best_test_accuracy": result.best_accuracy,
        "best_epoch": result.best_epoch,
    }
    if result.average is not None:  # the saved weights are the average's
        meta |= {
            "last_epoch_test_accuracy": final["test_accuracy"],
            "last_epoch_test_loss": final["test_loss"],
            "averaged_epochs": result.average.epochs,
            "test_accuracy": result.average.test_accuracy,
            "test_loss": result.average.test_loss,
        }
    save_checkpoint(args.output_dir / "model.pt", {"state_dict": weights, "meta": meta})
    _common.write_json(args.output_dir / "metrics.json", {"meta": meta, "history": result.history})
    print(
        f"final test accuracy {final['test_accuracy']:.4f} (loss {final['test_loss']:.4f}); "
        f"best {result.best_accuracy:.4f} at epoch {result.best_epoch}"
    )
    if result.average is not None:
        print(
            f"saved the average of the last {result.average.epochs} epochs: test accuracy "
            f"{result.average.test_accuracy:.4f} (loss {result.average.test_loss:.4f})"
        )
    print(f"outputs in {args.output_dir.resolve()}")
    return 0


def export_weights(output_dir: Path) -> Path:
    """Write the final weights of a finished run as a bare float32 state dict; return its path.

    ``OUTPUT_DIR/model.pt`` holds the weights with the run's metadata; the exported
    ``OUTPUT_DIR/resnet20_cifar10.pt`` (:data:`WEIGHTS_FILE`) is the state dict alone,
    the format the package ships and ``--checkpoint`` reads. It is rewritten only when
    its content would change, so that its SHA-256 (which the lab tables record as their
    start) stays that of the first export.
    """
    model = load_checkpoint(output_dir / "model.pt")["state_dict"]
    state = {
        key: value.float() if value.is_floating_point() else value for key, value in model.items()
    }
    path = output_dir / WEIGHTS_FILE
    if path.is_file():
        saved = load_state_dict(path)
        if saved.keys() == state.keys() and all(torch.equal(saved[k], state[k]) for k in state):
            return path
    return save_atomically(path, state)
