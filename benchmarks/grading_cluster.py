"""Grading a class on a Dask cluster against ``edu grade --jobs 2``, in the same run.

The class is ``--students`` submissions (default 20) of the course demo's kinds, as in
``benchmarks/grading.py``. Two runs grade the same submissions, each in its own copy of
the course folder:

- ``--jobs 2``: two local worker processes (the baseline);
- a ``distributed.LocalCluster`` of 2 worker processes with one thread each, used
  through the executor of ``edu grade --scheduler`` (:mod:`edu.cli._cluster`): the same
  machine, so the ratio measures what the cluster's scheduling and transfers cost.

``--repeats`` alternates the two runs (each repeat in fresh copies) and the report
gives each run's median seconds per submission, their ratio, and whether the two
gave the same scores.

Run from the repository root, with CIFAR-10 where ``edu.data`` finds it::

    EDU_DATA_ROOT=../shared/data python benchmarks/grading_cluster.py \\
        --json benchmarks/results/grading_cluster.json
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import distributed

from edu.cli._cluster import cluster_executor
from edu.demo import ASSIGNMENT, build_course
from edu.experiments import DEMO_FOLDER, reference_checkpoints
from edu.grading import find_cifar10, grade_course

sys.path.insert(0, str(Path(__file__).resolve().parent))
from grading import REPO, _class, _hardware  # the class and the machine of grading.py


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--students", type=int, default=20, help="submissions in the class")
    parser.add_argument("--repeats", type=int, default=1, help="alternating runs of each")
    parser.add_argument("--data-root", default=None, help="CIFAR-10 (default as edu.data)")
    parser.add_argument(
        "--json",
        type=Path,
        default=Path("outputs/benchmarks/grading_cluster.json"),
        help="where to write the results",
    )
    return parser


def _jobs2(course: Path, data_root: str) -> Any:
    return grade_course(
        course, ASSIGNMENT, jobs=2, data_root=data_root, progress=False, stream=None
    )


def _cluster(course: Path, data_root: str) -> Any:
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as local,
        cluster_executor(local.scheduler_address) as executor,
    ):
        return grade_course(
            course, ASSIGNMENT, executor=executor, data_root=data_root, progress=False, stream=None
        )


def _timed(run: Callable[[Path, str], Any], course: Path, data_root: str) -> tuple[float, Any]:
    started = time.perf_counter()
    grades = run(course, data_root)
    return time.perf_counter() - started, grades


def main() -> None:
    args = get_args_parser().parse_args()
    data_root = find_cifar10(args.data_root)
    if data_root is None:
        raise SystemExit("CIFAR-10 not found: pass --data-root or set EDU_DATA_ROOT")
    runs = {"jobs2": _jobs2, "cluster2": _cluster}
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    scores: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="edu-bench-") as scratch:
        demo = reference_checkpoints(REPO / DEMO_FOLDER)
        base = build_course(
            Path(scratch) / "base", _class(args.students, demo, Path(scratch) / "own"), demo
        )
        for repeat in range(args.repeats):
            for name, run in runs.items():
                course = Path(scratch) / f"{name}-{repeat}"
                shutil.copytree(base, course)
                elapsed, grades = _timed(run, course, data_root)
                seconds[name].append(elapsed)
                scores[name] = {s: r.scores for s, r in grades.results.items()}
                shutil.rmtree(course)
    n = args.students
    median = {name: statistics.median(values) for name, values in seconds.items()}
    payload = {
        "command": shlex.join([sys.executable.rsplit("/", 1)[-1], *sys.argv]),
        "hardware": _hardware(),
        "distributed_version": distributed.__version__,
        "students": n,
        "repeats": args.repeats,
        "seconds_total": {k: [round(v, 1) for v in values] for k, values in seconds.items()},
        "seconds_per_submission": {k: round(v / n, 2) for k, v in median.items()},
        "cluster2_over_jobs2": round(median["cluster2"] / median["jobs2"], 2),
        "same_scores": scores["jobs2"] == scores["cluster2"],
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(payload, indent=2) + "\n")
    print(json.dumps(payload, indent=2))


if __name__ == "__main__":
    main()
