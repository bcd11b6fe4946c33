"""benchmarks/channel_pruning.py, two runs of one round without a reproduction: every
model measured against the dense one of the same rounds, with the MACs its widths imply;
and README's table and verdict against the committed report."""

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


def test_two_short_runs_measure_every_model_against_the_dense_one(
    tmp_path, monkeypatch, repo_script
):
    monkeypatch.syspath_prepend(str(REPO / "benchmarks"))
    module = repo_script("benchmarks/channel_pruning.py")
    out = tmp_path / "bench.json"
    argv = ["--runs", "2", "--rounds", "1", "--batch-1-repeats", "1", "--threads", "1"]
    argv += ["--json", str(out)]
    monkeypatch.setattr(sys, "argv", ["channel_pruning.py", *argv])
    module.main(module.get_args_parser().parse_args(argv))
    report = json.loads(out.read_text())
    assert (report["runs"], report["rounds"]) == (2, 1)
    results = report["results"]
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
    assert results["dense"]["batch_256_speedup_runs"] == [1.0, 1.0]
    assert results["dense, 70 % unstructured zeros"]["macs"] == results["dense"]["macs"]
    assert results["62.5 % inner channels"]["inner_channels"] == [10] * 3 + [20] * 3 + [40] * 3
    removed = results["dense"]["macs"] - results["62.5 % inner channels"]["macs"]
    assert removed == _removed_macs_by_hand((10, 20, 40))
    assert results["inner widths 8 / 16 / 48"]["inner_channels"] == [8] * 3 + [16] * 3 + [48] * 3
    for widths in ((8, 16, 48), (8, 32, 64), (16, 32, 32)):
        name = "inner widths " + " / ".join(map(str, widths))
        assert results["dense"]["macs"] - results[name]["macs"] == _removed_macs_by_hand(widths)
    for row in results.values():
        for batch in (1, 256):
            assert (
                len(row[f"batch_{batch}_ms_runs"]) == len(row[f"batch_{batch}_speedup_runs"]) == 2
            )
            assert row[f"batch_{batch}_ms"] > 0
        assert row["test_accuracy"] is None


COMMITTED = REPO / "benchmarks" / "results" / "channel_pruning_cpu.json"
README_HEADER = "| model | parameters | MACs | batch 1 | batch 256 | test accuracy |"
DISTILLED = "lab4 channels-8-16-48-distilled, finetuned"


def _readme_name(name: str) -> str:
    """README's name of a benchmarked model: Lab 4 rows by their id in backticks."""
    if name == "dense":
        return "dense (the float model)"
    if name.startswith("lab4 "):
        row, _, rest = name.removeprefix("lab4 ").partition(",")
        return f"`{row}`,{rest}"
    return name


def _median_and_range(row, batch):
    runs = row[f"batch_{batch}_speedup_runs"]
    return f"{row[f'batch_{batch}_speedup']:.2f}x ({min(runs):.2f}-{max(runs):.2f})"


def test_readmes_lab_4_table_is_the_committed_report():
    """Is every row of README's table, and only those, from the committed report, with
    each speedup's median over runs and the runs' range?"""
    lines = (REPO / "README.md").read_text().splitlines()
    start = lines.index(README_HEADER) + 2
    table = lines[start : lines.index("", start)]
    expected = []
    for name, row in json.loads(COMMITTED.read_text())["results"].items():
        accuracy = "-" if row["test_accuracy"] is None else f"{row['test_accuracy']:.4f}"
        expected.append(
            f"| {_readme_name(name)} | {row['parameters']:,} | {row['macs'] / 1e6:.1f} M "
            f"| {_median_and_range(row, 1)} | {_median_and_range(row, 256)} | {accuracy} |"
        )
    assert table == expected


def test_readme_quotes_the_distilled_rows_speedup_and_accuracy():
    """Does README's verdict on the target quote the committed report's median speedup
    of the distilled row, its range over the runs, how many runs reach 1.5x and what the
    others gave, and its distance from the float model?"""
    text = " ".join((REPO / "README.md").read_text().split())
    report = json.loads(COMMITTED.read_text())
    row = report["results"][DISTILLED]
    runs = row["batch_256_speedup_runs"]
    assert (
        f"ran a batch of 256 {row['batch_256_speedup']:.2f}x faster (the median of "
        f"{report['runs']} runs; {min(runs):.2f}x to {max(runs):.2f}x)" in text
    )
    assert f"is {row['accuracy_points_below_float']:.2f} points below" in text
    fast = [run for run in runs if run >= 1.5]
    slow = " and ".join(f"{run:.2f}x" for run in runs if run < 1.5)
    words = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five"}
    assert (
        f"in {words[len(fast)]} of the {words[len(runs)]} runs**; the other "
        f"{words[len(runs) - len(fast)]} gave {slow}" in text
    )
    assert (
        f"It runs {report['runs']} times, each run a fresh process of {report['rounds']} rounds"
        in text
    )


def test_every_option_of_a_timing_run_is_forwarded_to_it(monkeypatch, repo_script):
    """Does WORKER_OPTIONS name every option but those of the report (how many runs, where
    it goes), so that a new option cannot silently miss the fresh processes?"""
    monkeypatch.syspath_prepend(str(REPO / "benchmarks"))
    module = repo_script("benchmarks/channel_pruning.py")
    options = set(vars(module.get_args_parser().parse_args([])))
    assert set(module.WORKER_OPTIONS) == options - {"runs", "json", "run_times"}
