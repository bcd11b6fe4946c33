"""Ship a finished ``edu reproduce`` run: its tables into the notes, four checkpoints to the grader.

Usage::

    python scripts/ship_reproduction.py outputs/reproduce

For Lab 2 and Lab 3 it copies ``OUTPUT_DIR/<lab>/{results.md,results.json,command.txt}``
to ``docs/results/<lab>/`` (the notes' ``lab-results`` directive reads them). For the
four rows a homework submission holds (:data:`edu.experiments.REFERENCE_ROWS`) it
writes the row's best weights to ``grader/reference/<name>.pt`` (instructor material,
not package data) as a plain
float32 state dict (the format a student submits), checks each file the way the grader
reads a submission (:func:`edu.notebook.load_submission`), and records the row, the
command, the accuracy and the file's SHA-256 in ``checkpoints.json``.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import torch

from edu.experiments import MODEL_FILE, REFERENCE_FOLDER, REFERENCE_ROWS, ROW_FILE, file_sha256
from edu.notebook import load_submission
from edu.train import load_checkpoint

REPO = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO / "docs" / "results"
CHECKPOINTS_DIR = REPO / REFERENCE_FOLDER
RESULT_FILES = ("results.md", "results.json", "command.txt")


def _require(path: Path) -> Path:
    if not path.is_file():
        raise SystemExit(f"{path} is missing: finish `edu reproduce` first")
    return path


def _ship_tables(output_dir: Path) -> None:
    for lab in ("lab2", "lab3"):
        target = RESULTS_DIR / lab
        target.mkdir(parents=True, exist_ok=True)
        for name in RESULT_FILES:
            shutil.copyfile(_require(output_dir / lab / name), target / name)


def _ship_checkpoint(output_dir: Path, name: str, lab: str, row: str) -> dict:
    row_dir = output_dir / lab / row
    record = json.loads(_require(row_dir / ROW_FILE).read_text())
    state = load_checkpoint(_require(row_dir / MODEL_FILE))["state_dict"]
    plain = {k: v.float() if v.is_floating_point() else v for k, v in state.items()}
    path = CHECKPOINTS_DIR / f"{name}.pt"
    torch.save(plain, path)
    load_submission(name, CHECKPOINTS_DIR)  # raises if the grader could not read it
    return {
        "lab": lab,
        "row": row,
        "part": record["part"],
        "description": record["description"],
        "command": (output_dir / lab / "command.txt").read_text().strip(),
        "epochs": record["epochs"],
        "best_epoch": record["best_epoch"],
        "test_accuracy": record["accuracy"],
        "test_images": record["num_images"],
        "sha256": file_sha256(path),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("output_dir", type=Path, help="the --output-dir of edu reproduce")
    args = parser.parse_args()

    _ship_tables(args.output_dir)
    CHECKPOINTS_DIR.mkdir(parents=True, exist_ok=True)
    checkpoints = {
        name: _ship_checkpoint(args.output_dir, name, lab, row)
        for name, (lab, row) in REFERENCE_ROWS.items()
    }
    manifest = {
        "shipped_by": f"python scripts/ship_reproduction.py {args.output_dir}",
        "checkpoints": checkpoints,
    }
    (CHECKPOINTS_DIR / "checkpoints.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(json.dumps(manifest, indent=2))


if __name__ == "__main__":
    main()
