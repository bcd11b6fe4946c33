"""How far apart independent runs of the homework's checkpoints land, by the grader's
measure, and how far a copy with noise on its weights lands from its source.

Usage::

    EDU_DATA_ROOT=../shared/data python scripts/checkpoint_distances.py outputs/reference \\
        [--pretrained FILE] [--noise 0.02 0.05 0.1] [--images 2000] [--json FILE]

For each of the four rows a homework submission holds (``edu.experiments.REFERENCE_ROWS``)
it takes the model of the main run and of every extra seed that ran the row
(``OUTPUT_DIR/seeds/<seed>/``) and prints the ratio the grader uses to tell a copy
(:func:`edu.grading._output_similarity.move_ratio`: the distance between what two
networks compute on the probe, over the shorter of their moves from the pretrained
model run the same way) for every pair. Honest students' checkpoints are independent
runs like these; a copy is at 0, and the grader refuses below
:data:`~edu.grading._output_similarity.COPY_RATIO`.

Then, for the main run of each row, copies with Gaussian noise on their non-zero
convolution and linear weights, of each ``--noise`` times each tensor's root mean square:
their ratio to the run and their accuracy on the first ``--images`` test images, beside
the run's. It shows what the measure cannot do: a copy with enough noise is as far as
an independent run, at a cost in accuracy the table states.
"""

from __future__ import annotations

import argparse
import itertools
import json
import shlex
from pathlib import Path

import torch

from edu.experiments import MODEL_FILE, REFERENCE_ROWS
from edu.grading._checkpoints import cifar10_test_subset
from edu.grading._output_similarity import COPY_RATIO, OutputMove, move_ratio, output_signature
from edu.models import pretrained_resnet20, resnet_from_state_dict
from edu.notebook import SUBMISSION_CHECKPOINTS
from edu.train import evaluate, load_state_dict


def _runs(output_dir: Path, lab: str, row: str) -> dict[str, Path]:
    """The model of every run of the row: ``seed 0`` (the main run), ``seed N``."""
    runs = {"seed 0": output_dir / lab / row / MODEL_FILE}
    folders = [f for f in (output_dir / "seeds").glob("*") if f.name.isdigit()]
    for folder in sorted(folders, key=lambda f: int(f.name)):
        path = folder / lab / row / MODEL_FILE
        if path.is_file():
            runs[f"seed {folder.name}"] = path
    return {name: path for name, path in runs.items() if path.is_file()}


def _with_noise(state: dict, relative: float, seed: int) -> dict:
    """``state`` with Gaussian noise of ``relative`` times each weight tensor's RMS on its
    non-zero entries (zeros, and so sparsity, kept)."""
    generator = torch.Generator().manual_seed(seed)
    noisy = {}
    for key, tensor in state.items():
        kept = tensor != 0
        if key.endswith(".weight") and tensor.dim() >= 2 and kept.any():
            scale = relative * tensor[kept].pow(2).mean().sqrt()
            noise = scale * torch.randn(tensor.shape, generator=generator)
            tensor = torch.where(kept, tensor + noise, tensor)
        noisy[key] = tensor
    return noisy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("output_dir", type=Path, help="the --output-dir of edu reproduce all")
    parser.add_argument(
        "--pretrained",
        type=Path,
        default=None,
        help="the model the runs started from (default: the package's pretrained model, "
        "which grading measures moves from)",
    )
    parser.add_argument(
        "--noise",
        type=float,
        nargs="*",
        default=[0.02, 0.05, 0.1],
        help="noise levels of the copies, relative to each weight tensor's RMS",
    )
    parser.add_argument("--images", type=int, default=2000, help="test images of the accuracy")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()

    start = (
        pretrained_resnet20().state_dict()
        if args.pretrained is None
        else load_state_dict(args.pretrained)
    )
    test = cifar10_test_subset(None, args.images) if args.noise else None
    results = {}
    print(f"copies are refused below {COPY_RATIO}")
    for name, (lab, row) in REFERENCE_ROWS.items():
        spec = SUBMISSION_CHECKPOINTS[name]

        def build(state, spec=spec):
            return resnet_from_state_dict(state, Nbits=spec.nbits, symmetric=spec.symmetric)

        origin = output_signature(build(start))
        runs = {
            run: load_state_dict(path) for run, path in _runs(args.output_dir, lab, row).items()
        }
        moves = {run: OutputMove.between(build(state), origin) for run, state in runs.items()}
        pairs = []
        for first, second in itertools.combinations(moves, 2):
            ratio = move_ratio(moves[first], moves[second])
            pairs.append({"runs": [first, second], "ratio": ratio})
            print(f"{name}: {first} vs {second}: {ratio:.3f}")
        copies, accuracy = [], None
        if "seed 0" in runs and test is not None:
            with torch.no_grad():
                accuracy = evaluate(build(runs["seed 0"]).eval(), test).accuracy
            print(f"{name}: seed 0 accuracy {accuracy:.4f} on {args.images} images")
            for relative in args.noise:
                noisy = build(_with_noise(runs["seed 0"], relative, seed=1))
                ratio = move_ratio(OutputMove.between(noisy, origin), moves["seed 0"])
                with torch.no_grad():
                    noisy_accuracy = evaluate(noisy.eval(), test).accuracy
                copies.append({"noise": relative, "ratio": ratio, "accuracy": noisy_accuracy})
                print(f"{name}: seed 0 + noise {relative:g}: {ratio:.3f}, ", end="")
                print(f"accuracy {noisy_accuracy:.4f}")
        results[name] = {
            "row": f"{lab} {row}",
            "pairs": pairs,
            "accuracy": accuracy,
            "noisy_copies": copies,
        }
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        words = ["python", "scripts/checkpoint_distances.py", str(args.output_dir)]
        if args.pretrained is not None:
            words += ["--pretrained", str(args.pretrained)]
        words += ["--noise", *map(str, args.noise), "--images", str(args.images)]
        command = shlex.join(words)
        args.json.write_text(json.dumps({"command": command, "checkpoints": results}, indent=2))


if __name__ == "__main__":
    main()
