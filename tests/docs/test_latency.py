"""The ``channel-latency`` directive on a one-page project: a note while the benchmark
has not run, then its machine, its table in the benchmark's order, and its command."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

INDEX = """# Latency

:::{channel-latency}
:::
"""


def _project(root: Path, ext: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(ext)!r})\n"
        'extensions = ["myst_parser", "edu_latency"]\n'
        'myst_enable_extensions = ["colon_fence"]\n'
        'edu_latency_file = "bench/channel_pruning.json"\n'
        'exclude_patterns = ["_build"]\n'
    )
    (root / "index.md").write_text(INDEX)
    return root


def _model(macs, inner, b1, b256, accuracy=None, below=None, epochs=None, spread=0.0):
    return {
        "test_images": None if accuracy is None else 10_000,
        "epochs": epochs,
        "parameters": 100_000,
        "macs": macs,
        "inner_channels": inner,
        "batch_1_ms": 2.0,
        "batch_1_speedup": b1,
        "batch_1_speedup_runs": [b1 - spread, b1, b1 + spread],
        "batch_256_ms": 100.0,
        "batch_256_speedup": b256,
        "batch_256_speedup_runs": [b256, b256 + spread, b256 - 2 * spread],
        "test_accuracy": accuracy,
        "accuracy_points_below_float": below,
    }


PAYLOAD = {
    "command": "python benchmarks/channel_pruning.py --reproduction outputs/reference",
    "hardware": {
        "cpu": "Test CPU",
        "vector_isa": "AVX2",
        "nproc": 2,
        "python": "3.11",
        "torch": "2.14.1",
    },
    "threads": 2,
    "runs": 3,
    "rounds": 20,
    "results": {
        "dense": _model(40_800_000, [16] * 3 + [32] * 3 + [64] * 3, 1.0, 1.0, 0.9036, 0.0, 0),
        "inner widths 8 / 16 / 48": _model(
            24_000_000, [8] * 3 + [16] * 3 + [48] * 3, 1.1, 1.6, spread=0.05
        ),
        "lab4 group-lasso-strong, finetuned": _model(
            32_500_000, [10, 8, 12, 29, 21, 26, 64, 64, 62], 0.98, 1.31, 0.8850, 1.86, 20, 0.01
        ),
    },
}


def test_an_unrun_benchmark_is_announced_not_invented(build_page, tmp_path, docs_ext):
    page = build_page(_project(tmp_path / "project", docs_ext))
    assert "has not been run yet" in page
    assert "<table" not in page


def test_the_benchmark_shows_its_machine_table_and_command(
    build_page, page_rows, tmp_path, docs_ext
):
    project = _project(tmp_path / "project", docs_ext)
    (project / "bench").mkdir()
    (project / "bench" / "channel_pruning.json").write_text(json.dumps(PAYLOAD))
    page = build_page(project)
    rows = page_rows(page)
    assert rows[1:] == [
        ["dense", "100,000", "40.8 M", "16 / 32 / 64", "1.00x (1.00-1.00)",
         "1.00x (1.00-1.00)", "0.9036", "+0.00 pts"],
        ["inner widths 8 / 16 / 48", "100,000", "24.0 M", "8 / 16 / 48", "1.10x (1.05-1.15)",
         "1.60x (1.50-1.65)", "-", "-"],
        ["lab4 group-lasso-strong, finetuned", "100,000", "32.5 M",
         "10, 8, 12, 29, 21, 26, 64, 64, 62", "0.98x (0.97-0.99)", "1.31x (1.29-1.32)",
         "0.8850", "-1.86 pts"],
    ]  # fmt: skip
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())
    assert "Measured on Test CPU (2 cores, AVX2), 2 threads, torch 2.14.1" in text
    assert "3 runs, each in a fresh process, of 20 rounds" in text
    assert "Test accuracy on 10,000 test images, after 20 epochs of finetuning." in text
    assert "Made by python benchmarks/channel_pruning.py --reproduction outputs/reference" in text


@pytest.mark.parametrize(
    "payload",
    [
        '{"results": {"dense": {}}}',
        "not json",
        json.dumps(
            {
                **PAYLOAD,
                "results": {"dense": {**_model(1, None, 1.0, 1.0), "batch_1_speedup_runs": []}},
            }
        ),
    ],
    ids=["no fields", "not json", "no runs"],
)
def test_a_malformed_benchmark_fails_the_build(tmp_path, docs_ext, run_sphinx, payload):
    project = _project(tmp_path / "project", docs_ext)
    (project / "bench").mkdir()
    (project / "bench" / "channel_pruning.json").write_text(payload)
    result = run_sphinx("html", project / "_build", project / "_doctrees", source=project)
    assert result.returncode != 0
    assert "is not the channel benchmark's" in result.stdout + result.stderr
