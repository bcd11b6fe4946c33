"""Ship a finished ``edu reproduce`` run: its tables into the notes, four checkpoints to the grader.

Usage::

    python scripts/ship_reproduction.py outputs/reproduce

For every lab (or those of ``--labs``: Labs 2 and 3 make the grader's checkpoints, and
ship without waiting for Lab 4) it copies ``OUTPUT_DIR/<lab>/{results.md,results.json,
command.txt}`` to ``docs/results/<lab>/`` (the notes' ``lab-results`` directive reads
them), with Lab 4's sensitivity scans (``<row>/scan.json``) and, when ``edu frontier``
ran, its ``results.md``, ``results.json``, ``command.txt`` and ``frontier.png`` in
``docs/results/frontier/`` (the frontier plots Lab 4's rows: it ships with Lab 4). For
the four rows a homework submission holds (:data:`edu.experiments.REFERENCE_ROWS`) it
writes the row's best weights to ``grader/reference/<name>.pt`` (instructor material,
not package data) as a plain float32 state dict (the format a student submits), checks
each file the way the grader reads a submission (:func:`edu.notebook.load_submission`),
and records the row, the command, the accuracy and the file's SHA-256 in
``checkpoints.json``. A reference set it replaces is moved to
``grader/reference/retired/<its manifest's SHA-256, 12 digits>/``: students may hold it
(earlier releases shipped it), so the grader keeps refusing copies of it. The same rows
of the seed-1 run, an independent one, go to ``grader/demo/``: the course demo's full
solution, the student's own work in that it is not the reference. The reference
accuracies of the hidden checks (``[accuracy.reference]`` of ``grader/thresholds.toml``,
and their table in ``grader/README.md``) become the shipped rows' accuracies.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import tempfile
import tomllib
from pathlib import Path

import torch

from edu.experiments import (
    DEMO_FOLDER,
    LABS,
    MODEL_FILE,
    REFERENCE_FOLDER,
    REFERENCE_ROWS,
    ROW_FILE,
    SCAN_FILE,
    file_sha256,
    seed_dir,
)
from edu.grading._copies import RETIRED_FOLDER
from edu.notebook import load_submission
from edu.train import load_checkpoint

REPO = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO / "docs" / "results"
CHECKPOINTS_DIR = REPO / REFERENCE_FOLDER
THRESHOLDS = REPO / "grader" / "thresholds.toml"
GRADER_README = REPO / "grader" / "README.md"
FULL_TEST_SPLIT = 10_000
RESULT_FILES = ("results.md", "results.json", "command.txt")


def _require(path: Path) -> Path:
    if not path.is_file():
        raise SystemExit(f"{path} is missing: finish `edu reproduce` first")
    return path


def _table_files(output_dir: Path, labs: list[str]) -> list[tuple[Path, Path]]:
    """Every ``(source, target)`` of the notes' tables of ``labs``, each source checked to
    exist."""
    files = [
        (_require(output_dir / lab / name), RESULTS_DIR / lab / name)
        for lab in labs
        for name in RESULT_FILES
    ]
    if "lab4" not in labs:
        return files
    for scan in sorted((output_dir / "lab4").glob(f"*/{SCAN_FILE}")):
        files.append((scan, RESULTS_DIR / "lab4" / scan.parent.name / SCAN_FILE))
    frontier = output_dir / "frontier"
    if (frontier / "results.json").is_file():
        for name in (*RESULT_FILES, "frontier.png"):
            files.append((_require(frontier / name), RESULTS_DIR / "frontier" / name))
    return files


def _retire(folder: Path, replacing: dict[str, dict]) -> None:
    """Move the set in ``folder`` to ``retired/`` when ``replacing`` changes any of its files."""
    manifest = folder / "checkpoints.json"
    if not manifest.is_file():
        return
    old = json.loads(manifest.read_text())["checkpoints"]
    if all(old.get(name, {}).get("sha256") == new["sha256"] for name, new in replacing.items()):
        return
    target = folder / RETIRED_FOLDER / file_sha256(manifest)[:12]
    target.mkdir(parents=True, exist_ok=True)
    for name in old:  # a file a stopped run moved already is there
        if (folder / f"{name}.pt").is_file():
            shutil.move(folder / f"{name}.pt", target / f"{name}.pt")
    shutil.move(manifest, target / manifest.name)


def _ship_checkpoint(
    output_dir: Path, seed: int, name: str, lab: str, row: str, folder: Path
) -> dict:
    """Write the row's weights of the run with ``seed`` to ``folder``; its record.

    The command is the main run's (``edu reproduce all`` writes one per lab, and runs the
    extra seeds with it).
    """
    row_dir = (seed_dir(output_dir, seed) if seed else output_dir) / lab / row
    record = json.loads(_require(row_dir / ROW_FILE).read_text())
    state = load_checkpoint(_require(row_dir / MODEL_FILE))["state_dict"]
    plain = {k: v.float() if v.is_floating_point() else v for k, v in state.items()}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.pt"
    torch.save(plain, path)
    load_submission(name, folder)  # raises if the grader could not read it
    return {
        "lab": lab,
        "row": row,
        "part": record["part"],
        "description": record["description"],
        "command": (output_dir / lab / "command.txt").read_text().strip(),
        "seed": seed,
        "epochs": record["epochs"],
        "best_epoch": record["best_epoch"],
        "test_accuracy": record["accuracy"],
        "test_images": record["num_images"],
        "sha256": file_sha256(path),
    }


def _thresholds_text(checkpoints: dict[str, dict]) -> str:
    """``grader/thresholds.toml`` with each ``name = accuracy`` line of
    ``[accuracy.reference]`` set to the row's, measured on the whole test split."""
    text = THRESHOLDS.read_text()
    for name, record in checkpoints.items():
        line = re.compile(rf"^{name} = [0-9.]+", re.MULTILINE)
        if not line.search(text):
            raise SystemExit(f"{THRESHOLDS} has no reference accuracy for {name}")
        if record["test_images"] != FULL_TEST_SPLIT:
            raise SystemExit(
                f"{name}: its row was evaluated on {record['test_images']} test images, "
                f"the thresholds need all {FULL_TEST_SPLIT}"
            )
        text = line.sub(f"{name} = {record['test_accuracy']}", text)
    return text


def _readme_text(checkpoints: dict[str, dict]) -> str:
    """``grader/README.md`` with each checkpoint's row of the thresholds table updated."""
    text = GRADER_README.read_text()
    margin = tomllib.loads(THRESHOLDS.read_text())["accuracy"]["margin"]
    for name, record in checkpoints.items():
        row = re.compile(rf"^(\| `{name}` \| [^|]+ \| )[0-9.]+ \| [0-9.]+ \|$", re.MULTILINE)
        if not row.search(text):
            raise SystemExit(f"{GRADER_README} has no thresholds row for {name}")
        value = record["test_accuracy"]
        text = row.sub(rf"\g<1>{value} | {round(value - margin, 4)} |", text)
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("output_dir", type=Path, help="the --output-dir of edu reproduce")
    parser.add_argument(
        "--labs",
        nargs="+",
        choices=list(LABS),
        default=list(LABS),
        help="the labs whose tables to ship (the checkpoints need lab2 and lab3)",
    )
    args = parser.parse_args()
    missing = {lab for lab, _ in REFERENCE_ROWS.values()} - set(args.labs)
    if missing:
        raise SystemExit(f"--labs: the grader's checkpoints need {', '.join(sorted(missing))}")

    # Everything is read, checked and staged before anything is written: a refusal
    # leaves the repository as it was.
    tables = _table_files(args.output_dir, args.labs)
    for lab, row in REFERENCE_ROWS.values():
        _require(args.output_dir / lab / "command.txt")
        for seed in (0, 1):
            run_dir = (seed_dir(args.output_dir, seed) if seed else args.output_dir) / lab / row
            _require(run_dir / MODEL_FILE)
            _require(run_dir / ROW_FILE)
    sets = {CHECKPOINTS_DIR: 0, REPO / DEMO_FOLDER: 1}
    with tempfile.TemporaryDirectory() as staging:
        manifests = {}
        for folder, seed in sets.items():
            stage = Path(staging) / str(seed)
            manifests[folder] = {
                "shipped_by": f"python scripts/ship_reproduction.py {args.output_dir}",
                "checkpoints": {
                    name: _ship_checkpoint(args.output_dir, seed, name, lab, row, stage)
                    for name, (lab, row) in REFERENCE_ROWS.items()
                },
            }
        reference = manifests[CHECKPOINTS_DIR]["checkpoints"]
        thresholds, readme = _thresholds_text(reference), _readme_text(reference)

        for source, target in tables:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
        _retire(CHECKPOINTS_DIR, reference)
        for folder, seed in sets.items():
            folder.mkdir(parents=True, exist_ok=True)
            for name in REFERENCE_ROWS:
                shutil.move(Path(staging) / str(seed) / f"{name}.pt", folder / f"{name}.pt")
            text = json.dumps(manifests[folder], indent=2) + "\n"
            (folder / "checkpoints.json").write_text(text)
    THRESHOLDS.write_text(thresholds)
    GRADER_README.write_text(readme)
    print(json.dumps(manifests[CHECKPOINTS_DIR], indent=2))


if __name__ == "__main__":
    main()
