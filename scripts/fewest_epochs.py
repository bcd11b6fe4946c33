"""The fewest finetuning epochs whose homework checkpoints pass the hidden checks.

Usage::

    EDU_DATA_ROOT=../shared/data python scripts/fewest_epochs.py --epochs 1 2 3 \\
        --output-dir outputs/fewest-epochs --json outputs/fewest-epochs/results.json

For each ``E`` it runs the four rows that make the homework's checkpoints (Lab 2 (c) and
(e), Lab 3 (c) and (d) at 4 bits) with ``edu reproduce --epochs E``: the notebooks'
recipe at ``num_epochs = E`` (the same finetuning, the iterative rows pruning before each
of the first ``E // 2`` epochs, at least one), from the shipped pretrained model, into
``OUTPUT_DIR/epochs-E``. The four models are then written as a student's checkpoints
would be and graded by the hidden checks of those checkpoints (``grader/test_lab2.py``
and ``grader/test_lab3.py``: loading, sparsity, levels, accuracy against
``grader/thresholds.toml``), exactly as ``edu grade`` runs them. It prints, per ``E``, the
points each checkpoint earns; the notebooks' default ``num_epochs`` is the fewest ``E``
that earns them all.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

from edu.experiments import MODEL_FILE, REFERENCE_ROWS
from edu.grading import (
    AssignmentLayout,
    Deadline,
    GradingContext,
    Limits,
    SandboxPolicy,
    collect_checks,
    read_submission,
    resolve_user,
    run_check,
)
from edu.train import load_state_dict

REPO = Path(__file__).resolve().parent.parent


def _run_rows(epochs: int, output_dir: Path, options: list[str]) -> None:
    """``edu reproduce`` of the four rows at ``epochs`` epochs (resumes when repeated)."""
    by_lab: dict[str, list[str]] = {}
    for lab, row in REFERENCE_ROWS.values():
        by_lab.setdefault(lab, []).append(row)
    edu = str(Path(sys.executable).with_name("edu"))
    for lab, rows in by_lab.items():
        command = [
            edu, "reproduce", lab, "--epochs", str(epochs), "--rows", *rows,
            "--output-dir", str(output_dir), "--no-progress", *options,
        ]  # fmt: skip
        subprocess.run(command, check=True)


def _submission(output_dir: Path, folder: Path) -> None:
    """The four models as a student saves them: plain float32 state dicts."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, (lab, row) in REFERENCE_ROWS.items():
        state = load_state_dict(output_dir / lab / row / MODEL_FILE)
        plain = {k: v.float() if v.is_floating_point() else v for k, v in state.items()}
        torch.save(plain, folder / f"{name}.pt")


def _grade_checkpoints(folder: Path, scratch: Path) -> dict[str, tuple[float, float, list[str]]]:
    """Points earned and possible per checkpoint, with the messages of failed checks."""
    layout = AssignmentLayout.from_notebooks(REPO / "solutions" / "homework")
    limits = Limits()
    submission = read_submission(folder, "fewest-epochs", layout, limits)
    wanted = {f"test_{name}" for name in REFERENCE_ROWS}
    checks = [c for c in collect_checks(REPO / "grader") if c.grade_id in wanted]
    policy = SandboxPolicy(limits, resolve_user("nobody"), True)
    context = GradingContext(
        submission, layout, policy, scratch, Deadline(limits.submission_timeout_s)
    )
    points: dict[str, tuple[float, float, list[str]]] = {}
    try:
        fixtures = context.fixtures()
        for check in checks:
            result = run_check(check, fixtures)
            earned, possible, messages = points.get(check.grade_id, (0.0, 0.0, []))
            if not result.passed:
                messages = [*messages, f"{check.name}: {result.message}"]
            earned, possible = earned + result.points, possible + result.max_points
            points[check.grade_id] = (earned, possible, messages)
    finally:
        context.close()
    return {grade_id.removeprefix("test_"): value for grade_id, value in sorted(points.items())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--output-dir", type=Path, default=Path("outputs/fewest-epochs"))
    parser.add_argument("--threads", type=int, default=2, help="torch threads of the runs")
    parser.add_argument(
        "--limit-train",
        type=int,
        default=None,
        help="train on the first N images only (a smoke run: its points mean nothing)",
    )
    parser.add_argument("--json", type=Path, default=None, help="write the results here too")
    args = parser.parse_args()

    results = {}
    for epochs in args.epochs:
        run_dir = args.output_dir / f"epochs-{epochs}"
        options = ["--threads", str(args.threads)]
        if args.limit_train is not None:
            options += ["--limit-train", str(args.limit_train)]
        _run_rows(epochs, run_dir, options)
        with tempfile.TemporaryDirectory(prefix="edu-fewest-") as scratch:
            Path(scratch).chmod(0o711)
            _submission(run_dir, Path(scratch) / "submission")
            graded = _grade_checkpoints(Path(scratch) / "submission", Path(scratch) / "checks")
        results[epochs] = {
            name: {"points": earned, "max_points": possible, "failed": messages}
            for name, (earned, possible, messages) in graded.items()
        }
        total = sum(v["points"] for v in results[epochs].values())
        most = sum(v["max_points"] for v in results[epochs].values())
        print(f"epochs {epochs}: {total:g}/{most:g}")
        for name, value in results[epochs].items():
            print(f"  {name}: {value['points']:g}/{value['max_points']:g}")
            for message in value["failed"]:
                print(f"    {message}")
    passing = [e for e, r in results.items() if all(v["failed"] == [] for v in r.values())]
    summary = {
        "command": "python scripts/fewest_epochs.py " + " ".join(sys.argv[1:]),
        "results": results,
        "fewest_passing": min(passing) if passing else None,
    }
    print(f"fewest epochs whose checkpoints earn every point: {summary['fewest_passing']}")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
