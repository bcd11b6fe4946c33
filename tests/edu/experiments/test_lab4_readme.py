"""README's account of Lab 4's sensitivity-chosen sparsity against the committed rows."""

import json
from pathlib import Path

from edu.cli._common import SCAN_IMAGES
from edu.experiments._lab4 import SCAN_FILE, SCAN_SPARSITIES

REPO = Path(__file__).resolve().parents[3]
REFERENCE = REPO / "outputs" / "reference"


def _readme_text() -> str:
    """README with its line breaks and runs of spaces made single spaces."""
    return " ".join((REPO / "README.md").read_text().split())


def _row(lab: str, row: str) -> dict:
    """The committed ``row.json`` of a reference row."""
    return json.loads((REFERENCE / lab / row / "row.json").read_text())


def test_readmes_scan_is_the_one_the_row_ran():
    """Are the scanned sparsities and images README names those of the committed scan?"""
    scan = json.loads((REFERENCE / "lab4" / "sensitivity-70" / SCAN_FILE).read_text())
    assert scan["sparsities"] == list(SCAN_SPARSITIES)
    assert list(SCAN_SPARSITIES[:2]) == [10, 20] and list(SCAN_SPARSITIES[-2:]) == [90, 95]
    text = _readme_text()
    assert "alone to 10, 20, ..., 90 and 95 %" in text
    assert f"on {SCAN_IMAGES:,} class-balanced training images" in text


def test_readmes_per_layer_sparsities_of_sensitivity_70_are_the_rows():
    """Do the ranges README gives per group of layers hold the row's measured sparsities?"""
    sparsity = _row("lab4", "sensitivity-70")["sparsity"]
    layers = {layer["name"]: round(100 * layer["sparsity"]) for layer in sparsity["layers"]}
    names = list(layers)
    first_four = [layers[name] for name in names[1:5]]
    later = [layers[name] for name in names[5:]]
    assert names[1:5] == [f"body_op.{b}.conv{c}.0.conv" for b in (0, 1) for c in (1, 2)]
    text = _readme_text()
    assert f"{min(first_four)} to {max(first_four)} % of the first four convolutions" in text
    assert f"{min(later)} to {max(later)} % of the later layers" in text
    assert f"and {layers['head_conv.0.conv']} % of the first convolution" in text
    assert f"{100 * sparsity['total_sparsity']:.1f} % in all" in text


def test_readmes_comparison_with_lab_2_follows_the_committed_runs():
    """Are the accuracies, the gaps in points and the range of Lab 2's seeds as run?"""
    record = _row("lab4", "sensitivity-70")
    chosen = record["accuracy"]
    text = _readme_text()
    assert f"it reached {chosen:.4f}" in text
    history = [epoch["test_accuracy"] for epoch in record["history"]]
    assert chosen == max(history) == history[record["best_epoch"] - 1]
    assert f"here epoch {record['best_epoch']}; the last gave {history[-1]:.4f}" in text
    assert f"last five epochs spanned {min(history[-5:]):.4f} to {max(history[-5:]):.4f}" in text
    for row, phrase in (("finetune-70", "points above uniform"), ("global-iterative-70", "above")):
        accuracy = _row("lab2", row)["accuracy"]
        assert f"{100 * (chosen - accuracy):.2f} {phrase}" in text
        assert f"(`{row}`, {accuracy:.4f})" in text
    lead = round(10_000 * (chosen - _row("lab2", "finetune-70")["accuracy"]))
    assert f"lead over `finetune-70` is {lead} of the 10,000 test images" in text
    rows = json.loads((REFERENCE / "lab2" / "results.json").read_text())["rows"]
    seeds = [
        seed["accuracy"]
        for row in rows
        if row["row"] in ("finetune-70", "iterative-70", "global-iterative-70")
        for seed in row["seeds"]
    ]
    assert chosen > max(seeds)
    assert f"Lab 2's 70 % rows ({min(seeds):.4f} to {max(seeds):.4f})" in text


def test_readmes_sparse_kmeans_rows_are_the_committed_runs():
    """Are the sparse k-means rows' accuracies, epochs and costs in points as run?"""
    text = _readme_text()
    start = _row("lab4", "sensitivity-80")
    zero = 100 * start["sparsity"]["total_sparsity"]
    assert f"{zero:.1f} % of the weights zero; {start['accuracy']:.4f})" in text
    float_accuracy = _row("lab2", "float")["accuracy"]
    for bits in (4, 3):
        sparse, dense = _row("lab4", f"sparse-kmeans-{bits}"), _row("lab4", f"kmeans-{bits}")
        assert sparse["details"]["start"] == ["lab4", "sensitivity-80"]
        assert sparse["sparsity"]["total_sparsity"] == start["sparsity"]["total_sparsity"]
        reached = f"`sparse-kmeans-{bits}` reached {sparse['accuracy']:.4f}"
        assert f"{reached} (epoch {sparse['best_epoch']}" in text
        cost = 100 * (start["accuracy"] - sparse["accuracy"])
        assert f"{cost:.2f} points below" in text
        dense_cost = 100 * (float_accuracy - dense["accuracy"])
        points = "points " if bits == 4 else ""
        dense_row = f"(`kmeans-{bits}`, {dense['accuracy']:.4f})"
        assert f"{dense_cost:.2f} {points}at {bits} bits {dense_row}" in text
        assert cost <= dense_cost  # "it cost no more"
    last = _row("lab4", "sparse-kmeans-4")["history"][-1]["test_accuracy"]
    assert f"the last gave {last:.4f}" in text
    history = [epoch["test_accuracy"] for epoch in _row("lab4", "sparse-kmeans-3")["history"]]
    assert history[-1] == max(history)  # "still rising"
