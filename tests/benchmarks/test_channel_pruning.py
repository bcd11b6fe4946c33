"""benchmarks/channel_pruning.py, one round without a reproduction: every model measured,
against the dense one of the same run, with the MACs its widths imply."""

import importlib.util
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _removed_macs_by_hand(widths):
    """MACs that inner widths (per stage) take off ResNet-20: in each block, conv1's
    filters (3 x 3 over its input channels) and conv2's input slices, at the stage's
    resolution; the first block of stages 2 and 3 reads half as many channels."""
    removed = 0
    for stage, width in enumerate(widths):
        channels, pixels = 16 * 2**stage, (32 // 2**stage) ** 2
        for block in range(3):
            inputs = channels // 2 if block == 0 and stage > 0 else channels
            removed += (inputs + channels) * (channels - width) * 9 * pixels
    return removed


def test_one_round_measures_every_model_against_the_dense_one(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(REPO / "benchmarks"))
    spec = importlib.util.spec_from_file_location(
        "channel_pruning", REPO / "benchmarks" / "channel_pruning.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "bench.json"
    argv = ["--rounds", "1", "--batch-1-repeats", "1", "--threads", "1", "--json", str(out)]
    monkeypatch.setattr(sys, "argv", ["channel_pruning.py", *argv])
    module.main(module.get_args_parser().parse_args(argv))
    results = json.loads(out.read_text())["results"]
    assert list(results) == [
        "dense",
        "dense, 70 % unstructured zeros",
        "75 % inner channels",
        "62.5 % inner channels",
        "50 % inner channels",
        "25 % inner channels",
        "inner widths 8 / 16 / 48",
        "inner widths 8 / 32 / 64",
        "inner widths 10 / 32 / 64",
        "inner widths 12 / 32 / 64",
        "inner widths 16 / 32 / 32",
    ]
    assert results["dense"]["batch_256_speedup"] == 1.0
    assert results["dense, 70 % unstructured zeros"]["macs"] == results["dense"]["macs"]
    assert results["62.5 % inner channels"]["inner_channels"] == [10] * 3 + [20] * 3 + [40] * 3
    removed = results["dense"]["macs"] - results["62.5 % inner channels"]["macs"]
    assert removed == _removed_macs_by_hand((10, 20, 40))
    assert results["inner widths 8 / 16 / 48"]["inner_channels"] == [8] * 3 + [16] * 3 + [48] * 3
    for widths in ((8, 16, 48), (8, 32, 64), (16, 32, 32)):
        name = "inner widths " + " / ".join(map(str, widths))
        assert results["dense"]["macs"] - results[name]["macs"] == _removed_macs_by_hand(widths)
    for row in results.values():
        assert row["batch_1_ms"] > 0 and row["batch_256_ms"] > 0
        assert row["test_accuracy"] is None


COMMITTED = REPO / "benchmarks" / "results" / "channel_pruning_cpu.json"
RUN_2 = REPO / "benchmarks" / "results" / "channel_pruning_cpu_run2.json"
README_HEADER = "| model | parameters | MACs | batch 1 | batch 256 | test accuracy |"


def _readme_name(name: str) -> str:
    """README's name of a benchmarked model: Lab 4 rows by their id in backticks."""
    if name == "dense":
        return "dense (the float model)"
    if name.startswith("lab4 "):
        row, _, rest = name.removeprefix("lab4 ").partition(",")
        return f"`{row}`,{rest}"
    return name


def test_readmes_lab_4_table_is_the_two_committed_runs():
    """Is every row of README's table, and only those, from the committed runs, with
    run 1's and run 2's speedups side by side?"""
    lines = (REPO / "README.md").read_text().splitlines()
    start = lines.index(README_HEADER) + 2
    table = lines[start : lines.index("", start)]
    first, second = (json.loads(run.read_text())["results"] for run in (COMMITTED, RUN_2))
    expected = []
    for name, row in first.items():
        again = second[name]
        accuracy = "-" if row["test_accuracy"] is None else f"{row['test_accuracy']:.4f}"
        speedups = [
            f"{row[key]:.2f}x / {again[key]:.2f}x"
            for key in ("batch_1_speedup", "batch_256_speedup")
        ]
        expected.append(
            f"| {_readme_name(name)} | {row['parameters']:,} | {row['macs'] / 1e6:.1f} M "
            f"| {speedups[0]} | {speedups[1]} | {accuracy} |"
        )
    assert table == expected


def test_readme_quotes_the_distilled_rows_runs_and_accuracy():
    """Does README's verdict on the target quote the committed runs' speedups and the
    row's distance from the float model?"""
    text = " ".join((REPO / "README.md").read_text().split())
    runs = [
        json.loads(run.read_text())["results"]["lab4 channels-8-16-48-distilled, finetuned"]
        for run in (COMMITTED, RUN_2)
    ]
    speedups = " and ".join(f"{run['batch_256_speedup']:.2f}x" for run in runs)
    assert f"batch of 256 {speedups} faster in these two runs" in text
    assert f"is {runs[0]['accuracy_points_below_float']:.2f} points below" in text
