"""How far apart independent runs of the homework's checkpoints land, by the grader's measure.

Usage::

    python scripts/checkpoint_distances.py outputs/reference [--pretrained FILE] [--json FILE]

For each of the four rows a homework submission holds (``edu.experiments.REFERENCE_ROWS``)
it takes the model of the main run and of every extra seed that ran the row
(``OUTPUT_DIR/seeds/<seed>/``), and prints the ratio the grader uses to tell a copy
(:func:`edu.grading._weight_similarity.distance_ratio`: the distance between two
checkpoints over the shorter of their moves from the pretrained model) for every pair,
exactly and from the sketches grading keeps. Honest students' checkpoints are
independent runs like these; a copy is at 0, and the grader refuses below
:data:`~edu.grading._weight_similarity.COPY_RATIO`.
"""

from __future__ import annotations

import argparse
import itertools
import json
import shlex
from pathlib import Path

from edu.experiments import MODEL_FILE, REFERENCE_ROWS
from edu.grading._weight_similarity import (
    COPY_RATIO,
    distance_ratio,
    sketch_ratio,
    weight_sketch,
)
from edu.models import pretrained_resnet20
from edu.train import load_state_dict


def _runs(output_dir: Path, lab: str, row: str) -> dict[str, Path]:
    """The model of every run of the row: ``seed 0`` (the main run), ``seed N``."""
    runs = {"seed 0": output_dir / lab / row / MODEL_FILE}
    folders = [f for f in (output_dir / "seeds").glob("*") if f.name.isdigit()]
    for folder in sorted(folders, key=lambda f: int(f.name)):
        path = folder / lab / row / MODEL_FILE
        if path.is_file():
            runs[f"seed {folder.name}"] = path
    return {name: path for name, path in runs.items() if path.is_file()}


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
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()

    if args.pretrained is None:
        start = pretrained_resnet20().state_dict()
    else:
        start = load_state_dict(args.pretrained)
    results = {}
    print(f"copies are refused below {COPY_RATIO}")
    for name, (lab, row) in REFERENCE_ROWS.items():
        states = {
            run: load_state_dict(path) for run, path in _runs(args.output_dir, lab, row).items()
        }
        sketches = {run: weight_sketch(state, start) for run, state in states.items()}
        pairs = []
        for first, second in itertools.combinations(states, 2):
            exact = distance_ratio(states[first], states[second], start)
            sketched = sketch_ratio(sketches[first], sketches[second])
            pairs.append({"runs": [first, second], "ratio": exact, "sketch_ratio": sketched})
            print(f"{name}: {first} vs {second}: {exact:.3f} (sketch {sketched:.3f})")
        results[name] = {"row": f"{lab} {row}", "pairs": pairs}
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        words = ["python", "scripts/checkpoint_distances.py", str(args.output_dir)]
        if args.pretrained is not None:
            words += ["--pretrained", str(args.pretrained)]
        command = shlex.join(words)
        args.json.write_text(json.dumps({"command": command, "checkpoints": results}, indent=2))


if __name__ == "__main__":
    main()
