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

With ``--image-probe``, every ratio is measured a second time on a probe of as many
CIFAR-10 test images (class-balanced) as the grader's Gaussian probe holds: the grader's
choice of a probe that needs no data set is kept only if it separates honest runs from
noisy copies at least as well as natural images do.
"""

from __future__ import annotations

import argparse
import itertools
import json
import shlex
from pathlib import Path

import torch

from edu.data import BatchLoader, load_cifar10, take
from edu.experiments import MODEL_FILE, REFERENCE_ROWS
from edu.grading._checkpoints import cifar10_test_subset
from edu.grading._output_similarity import (
    COPY_RATIO,
    PROBE_IMAGES,
    OutputMove,
    move_ratio,
    output_signature,
)
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


def _image_probe() -> torch.Tensor:
    """The first :data:`PROBE_IMAGES` test images, class-balanced and normalized as the
    networks see them."""
    test = take(load_cifar10("test", None), PROBE_IMAGES)
    images, _ = next(iter(BatchLoader(test.images, test.labels, PROBE_IMAGES, train=False)))
    return images


class _Probe:
    """Moves and ratios on one probe (``None``: the grader's Gaussian images)."""

    def __init__(self, images: torch.Tensor | None, start, build) -> None:
        self.images = images
        self.build = build
        self.origin = output_signature(build(start), images)

    def move(self, state: dict) -> OutputMove:
        return OutputMove.between(self.build(state), self.origin, self.images)


def _shown(ratios: dict[str, float]) -> str:
    """``0.512`` for the Gaussian probe alone, ``0.512 (images 0.470)`` with both."""
    extra = "".join(f" ({probe} {r:.3f})" for probe, r in ratios.items() if probe != "gaussian")
    return f"{ratios['gaussian']:.3f}{extra}"


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
    parser.add_argument(
        "--image-probe",
        action="store_true",
        help="also measure every ratio on a probe of CIFAR-10 test images",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()

    start = (
        pretrained_resnet20().state_dict()
        if args.pretrained is None
        else load_state_dict(args.pretrained)
    )
    test = cifar10_test_subset(None, args.images) if args.noise else None
    images = _image_probe() if args.image_probe else None
    results = {}
    print(f"copies are refused below {COPY_RATIO}")
    for name, (lab, row) in REFERENCE_ROWS.items():
        spec = SUBMISSION_CHECKPOINTS[name]

        def build(state, spec=spec):
            return resnet_from_state_dict(state, Nbits=spec.nbits, symmetric=spec.symmetric)

        probes = {"gaussian": _Probe(None, start, build)}
        if args.image_probe:
            probes["images"] = _Probe(images, start, build)
        runs = {
            run: load_state_dict(path) for run, path in _runs(args.output_dir, lab, row).items()
        }
        moves = {
            probe: {run: measure.move(state) for run, state in runs.items()}
            for probe, measure in probes.items()
        }
        pairs = []
        for first, second in itertools.combinations(runs, 2):
            ratios = {p: move_ratio(moves[p][first], moves[p][second]) for p in probes}
            pairs.append({"runs": [first, second], "ratio": ratios})
            print(f"{name}: {first} vs {second}: {_shown(ratios)}")
        copies, accuracy = [], None
        if "seed 0" in runs and test is not None:
            with torch.no_grad():
                accuracy = evaluate(build(runs["seed 0"]).eval(), test).accuracy
            print(f"{name}: seed 0 accuracy {accuracy:.4f} on {args.images} images")
            for relative in args.noise:
                noisy = _with_noise(runs["seed 0"], relative, seed=1)
                ratios = {
                    p: move_ratio(measure.move(noisy), moves[p]["seed 0"])
                    for p, measure in probes.items()
                }
                with torch.no_grad():
                    noisy_accuracy = evaluate(build(noisy).eval(), test).accuracy
                copies.append({"noise": relative, "ratio": ratios, "accuracy": noisy_accuracy})
                print(f"{name}: seed 0 + noise {relative:g}: {_shown(ratios)}, ", end="")
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
        if args.image_probe:
            words.append("--image-probe")
        command = shlex.join(words)
        args.json.write_text(json.dumps({"command": command, "checkpoints": results}, indent=2))


if __name__ == "__main__":
    main()
