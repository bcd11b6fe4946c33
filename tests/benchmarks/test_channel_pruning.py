"""benchmarks/channel_pruning.py, one round without a reproduction: every model measured,
against the dense one of the same run, with the MACs its widths imply."""

import importlib.util
import json
import sys
from pathlib import Path

from edu.models import ResNetCIFAR, model_cost
from edu.prune import remove_channels

REPO = Path(__file__).resolve().parents[2]


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
    ]
    assert results["dense"]["batch_256_speedup"] == 1.0
    assert results["dense, 70 % unstructured zeros"]["macs"] == results["dense"]["macs"]
    narrow = remove_channels(ResNetCIFAR(num_layers=20), 0.625)
    assert results["62.5 % inner channels"]["inner_channels"] == [10] * 3 + [20] * 3 + [40] * 3
    assert results["62.5 % inner channels"]["macs"] == model_cost(narrow).macs
    assert results["inner widths 8 / 16 / 48"]["inner_channels"] == [8] * 3 + [16] * 3 + [48] * 3
    for row in results.values():
        assert row["batch_1_ms"] > 0 and row["batch_256_ms"] > 0
        assert row["test_accuracy"] is None
