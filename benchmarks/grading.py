"""Time to grade a class: ``edu grade`` with ``--jobs 1`` and ``--jobs 2``, and stock nbgrader.

The class is ``--students`` submissions (default 20) made by the course demo's
builders (:data:`edu.demo.SAMPLE_SUBMISSIONS`), cycling through full solution (each with
checkpoints of its own: the demo's independent run with per-student noise,
``benchmarks/_own_checkpoints.py``), partly wrong, untouched stub and hostile, so that it holds
the mix a real class sends: mostly working notebooks, some broken, one or two that
crash their kernel. Three runs grade the same submissions, each in its own copy of the
course folder, one after the other in this process's run:

- ``edu grade --jobs 1`` and ``edu grade --jobs 2``: nbgrader's autograde in a
  sandboxed kernel, the hidden checks in sandboxed workers, the checkpoint and
  accuracy checks, the gradebook, ``grades.csv`` and the feedback pages;
- stock ``nbgrader autograde`` alone (``--force``), the baseline: it runs every
  notebook with its hidden tests in an ordinary kernel, with no sandbox, no checks
  of the checkpoints, no accuracy evaluation and no feedback.

It reports seconds per submission and the ratios ``jobs 1 / jobs 2`` (the speed-up of
grading two students at once) and ``edu grade --jobs 1 / nbgrader`` (the cost of the
sandbox and the extra checks), and where the time of ``--jobs 1`` goes: the steps
``edu grade`` records per submission (read, checks, autograde) and, measured apart in
the same run, two parts of them: starting one sandboxed kernel (times the notebooks of
a submission) and evaluating the four checkpoints on the accuracy checks' test images.

Run from the repository root, with CIFAR-10 where ``edu.data`` finds it::

    EDU_DATA_ROOT=../shared/data python benchmarks/grading.py
    python benchmarks/grading.py --students 8 --json outputs/benchmarks/grading-8.json
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _machine import cpu_model  # benchmarks/, the script's folder
from _own_checkpoints import own_checkpoints

from edu.demo import ASSIGNMENT, SAMPLE_SUBMISSIONS, build_course
from edu.experiments import DEMO_FOLDER, REFERENCE_FOLDER, reference_checkpoints
from edu.grading import find_cifar10, grade_course

REPO = Path(__file__).resolve().parents[1]


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--students", type=int, default=20, help="submissions in the class")
    parser.add_argument("--data-root", default=None, help="CIFAR-10 (default as edu.data)")
    parser.add_argument(
        "--kernel-starts", type=int, default=5, help="sandboxed kernel starts timed apart"
    )
    parser.add_argument(
        "--json",
        type=Path,
        default=Path("outputs/benchmarks/grading.json"),
        help="where to write the results",
    )
    return parser


def _class(students: int, demo: dict[str, Path], folder: Path) -> dict[str, Any]:
    """``students`` builders cycling through the demo's kinds; every full solution hands in
    checkpoints of its own, made from the ``demo`` set under ``folder``
    (:mod:`_own_checkpoints`)."""
    names = list(SAMPLE_SUBMISSIONS)
    kinds = [names[index % len(names)] for index in range(students)]
    own = iter(own_checkpoints(demo, kinds.count("full_solution"), folder))
    builders = {}
    for index, kind in enumerate(kinds):
        build = SAMPLE_SUBMISSIONS[kind]
        if kind == "full_solution":
            build = functools.partial(_submitting, build, next(own))
        builders[f"s{index + 1:02d}_{kind}"] = build
    return builders


def _submitting(build, checkpoints, release, solutions, course, _demo):
    """``build`` with ``checkpoints`` in place of the demo's."""
    return build(release, solutions, course, checkpoints)


def _timed_grading(course: Path, jobs: int, data_root: str) -> tuple[float, Any]:
    started = time.perf_counter()
    grades = grade_course(
        course, ASSIGNMENT, jobs=jobs, data_root=data_root, progress=False, stream=None
    )
    return time.perf_counter() - started, grades


def _timed_nbgrader(course: Path) -> tuple[float, list[str]]:
    """Seconds of ``nbgrader autograde`` on the class, and the students it could not grade.

    Stock nbgrader stops a student's notebook when its kernel dies (the hostile
    submissions kill theirs) and exits with status 1 at the end; the others are graded.
    """
    command = [
        sys.executable,
        "-m",
        "nbgrader",
        "autograde",
        ASSIGNMENT,
        "--force",
        f"--CourseDirectory.root={course}",
    ]
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=course, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    failed = re.findall(
        r"error processing assignment '[^']+' for student '([^']+)'", completed.stderr
    )
    if completed.returncode != 0 and not failed:
        raise SystemExit(f"nbgrader autograde failed:\n{completed.stderr[-3000:]}")
    return seconds, sorted(set(failed))


def _kernel_start_seconds(course: Path, repeats: int) -> float:
    """Median seconds to start one sandboxed kernel as ``edu grade`` does, until it answers."""
    from jupyter_client import KernelManager
    from jupyter_client.kernelspec import KernelSpecManager

    from edu.grading import Limits, SandboxPolicy, resolve_user
    from edu.grading._autograde import _KERNEL_NAME, _write_kernelspec

    times = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as folder:
            scratch = Path(folder)
            scratch.chmod(0o711)
            autograded, runtime = scratch / "autograded", scratch / "runtime"
            for path in (autograded, runtime, scratch / "kernel"):
                path.mkdir()
                path.chmod(0o777)
            policy = SandboxPolicy(Limits(), resolve_user("nobody"), True, (str(autograded),))
            _write_kernelspec(scratch, policy, autograded, runtime)
            specs = KernelSpecManager(kernel_dirs=[str(scratch / "jupyter" / "kernels")])
            manager = KernelManager(kernel_name=_KERNEL_NAME, kernel_spec_manager=specs)
            manager.connection_file = str(runtime / "kernel.json")
            manager.transport = "ipc"  # as edu grade: no loopback inside a network namespace
            started = time.perf_counter()
            manager.start_kernel()
            client = manager.client()
            client.start_channels()
            client.wait_for_ready(timeout=120)
            times.append(time.perf_counter() - started)
            client.stop_channels()
            manager.shutdown_kernel(now=True)
    return statistics.median(times)


def _accuracy_seconds(data_root: str) -> float:
    """Seconds to evaluate the four reference checkpoints as the accuracy checks do."""
    import tomllib

    from edu.grading._checkpoints import cifar10_test_subset
    from edu.notebook import load_submission
    from edu.train import evaluate

    thresholds = tomllib.loads((REPO / "grader" / "thresholds.toml").read_text())
    loader = cifar10_test_subset(data_root, thresholds["accuracy"]["eval_images"])
    started = time.perf_counter()
    for name, path in reference_checkpoints(REPO / REFERENCE_FOLDER).items():
        evaluate(load_submission(name, path.parent), loader)
    return time.perf_counter() - started


def _hardware() -> dict[str, Any]:
    nproc = len(os.sched_getaffinity(0))
    return {"cpu": cpu_model(), "nproc": nproc, "python": platform.python_version()}


def main() -> None:
    args = get_args_parser().parse_args()
    data_root = find_cifar10(args.data_root)
    if data_root is None:
        raise SystemExit("CIFAR-10 not found: pass --data-root or set EDU_DATA_ROOT")
    with tempfile.TemporaryDirectory(prefix="edu-bench-") as scratch:
        demo = reference_checkpoints(REPO / DEMO_FOLDER)
        base = build_course(
            Path(scratch) / "base", _class(args.students, demo, Path(scratch) / "own"), demo
        )
        courses = {}
        for run in ("jobs1", "jobs2", "nbgrader"):
            courses[run] = Path(scratch) / run
            shutil.copytree(base, courses[run])
        kernel = _kernel_start_seconds(courses["jobs1"], args.kernel_starts)
        accuracy = _accuracy_seconds(data_root)
        seconds, nbgrader_failed = {}, []
        seconds["nbgrader"], nbgrader_failed = _timed_nbgrader(courses["nbgrader"])
        seconds["jobs1"], grades = _timed_grading(courses["jobs1"], 1, data_root)
        seconds["jobs2"], grades2 = _timed_grading(courses["jobs2"], 2, data_root)
    n = args.students
    steps = {
        step: statistics.mean(r.timings.get(step, 0.0) for r in grades.results.values())
        for step in ("read", "checks", "autograde")
    }
    notebooks = len(list((REPO / "solutions" / ASSIGNMENT).glob("*.ipynb")))
    payload = {
        "command": shlex.join([sys.executable.rsplit("/", 1)[-1], *sys.argv]),
        "hardware": _hardware(),
        "students": n,
        "seconds_total": {k: round(v, 1) for k, v in seconds.items()},
        "seconds_per_submission": {k: round(v / n, 2) for k, v in seconds.items()},
        "speedup_jobs2_over_jobs1": round(seconds["jobs1"] / seconds["jobs2"], 2),
        "edu_grade_jobs1_over_nbgrader": round(seconds["jobs1"] / seconds["nbgrader"], 2),
        "edu_grade_jobs2_over_nbgrader": round(seconds["jobs2"] / seconds["nbgrader"], 2),
        "jobs1_steps_mean_seconds": {k: round(v, 2) for k, v in steps.items()},
        "kernel_start_seconds": round(kernel, 2),
        "kernel_starts_per_submission": notebooks,
        "accuracy_evaluation_seconds_per_submission": round(accuracy, 2),
        "nbgrader_could_not_grade": nbgrader_failed,
        "full_solutions_full_marks": all(
            r.score == r.max_score for s, r in grades.results.items() if s.endswith("full_solution")
        ),
        "same_scores_jobs1_jobs2": {s: r.scores for s, r in grades.results.items()}
        == {s: r.scores for s, r in grades2.results.items()},
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(payload, indent=2) + "\n")
    print(json.dumps(payload, indent=2))


if __name__ == "__main__":
    main()
