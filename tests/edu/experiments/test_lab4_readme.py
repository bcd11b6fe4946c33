"""README's account of Lab 4's rows (sensitivity-chosen sparsity, pruning with shared
weights, the run's epochs) against the committed rows and scans."""

import json
import statistics
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
    """Are the sparse k-means rows' settings, accuracies, epochs and costs in points, and
    the comparison with the dense k-means rows, as run?"""
    text = _readme_text()
    start = _row("lab4", "sensitivity-80")
    zero = 100 * start["sparsity"]["total_sparsity"]
    assert f"{zero:.1f} % of the weights zero; {start['accuracy']:.4f})" in text
    float_accuracy = _row("lab2", "float")["accuracy"]
    phrases = {
        4: "(epoch {best}; the last gave {last:.4f}), {cost:.2f} points below `sensitivity-80`;",
        3: "(epoch {best}, still rising), {cost:.2f} points below it.",
    }
    dense_phrases = {4: "{cost:.2f} points at 4 bits", 3: "and {cost:.2f} at 3 bits"}
    fewer = []
    for bits, phrase in phrases.items():
        sparse, dense = _row("lab4", f"sparse-kmeans-{bits}"), _row("lab4", f"kmeans-{bits}")
        details = sparse["details"]
        assert details["start"] == ["lab4", "sensitivity-80"]
        assert details["kmeans"] and details["max_centroids"] == 2**bits
        assert details["pruned_nonzero"] == 0 and details["pruned_zero_ok"]
        assert sparse["epochs"] == dense["epochs"] == 20
        assert sparse["sparsity"]["total_sparsity"] == start["sparsity"]["total_sparsity"]
        history = [epoch["test_accuracy"] for epoch in sparse["history"]]
        assert sparse["accuracy"] == max(history) == history[sparse["best_epoch"] - 1]
        if bits == 3:
            assert history[-1] == max(history)  # "still rising"
        cost = 100 * (start["accuracy"] - sparse["accuracy"])
        filled = phrase.format(best=sparse["best_epoch"], last=history[-1], cost=cost)
        assert f"`sparse-kmeans-{bits}` reached {sparse['accuracy']:.4f} {filled}" in text
        dense_cost = 100 * (float_accuracy - dense["accuracy"])
        dense_row = f"(`kmeans-{bits}`, {dense['accuracy']:.4f})"
        assert f"{dense_phrases[bits].format(cost=dense_cost)} {dense_row}" in text
        fewer.append(round(100 * (dense_cost - cost)))
    span = [epoch["test_accuracy"] for epoch in start["history"][-5:]]
    spread = round(10_000 * (max(span) - min(span)))
    assert f"it cost about as much ({fewer[0]} and {fewer[1]} fewer of the 10,000" in text
    assert f"`sensitivity-80` alone spanned {spread} over its last five epochs" in text
    assert all(0 <= images < spread for images in fewer)  # "about as much"


def test_committed_scans_measured_scan_images_images():
    """Is every accuracy of the committed scans a whole number of 1/SCAN_IMAGES (the
    scans were written before they recorded their image count)?"""
    for row in ("sensitivity-70", "sensitivity-80"):
        scan = json.loads((REFERENCE / "lab4" / row / SCAN_FILE).read_text())
        accuracies = [scan["base_accuracy"]] + [
            a for layer in scan["accuracies"].values() for a in layer
        ]
        assert scan.get("num_images", SCAN_IMAGES) == SCAN_IMAGES
        counts = [accuracy * SCAN_IMAGES for accuracy in accuracies]
        assert all(abs(count - round(count)) < 1e-6 for count in counts)
        assert any(round(count) % 2 for count in counts)  # not on a grid of half as many


def test_readmes_distilled_sparse_kmeans_row_is_the_committed_run():
    """Are the distilled row's accuracy, best epoch and difference in images as run, and
    did it differ from the row without the teacher only in the teacher?"""
    distilled, plain = _row("lab4", "sparse-kmeans-4-distilled"), _row("lab4", "sparse-kmeans-4")
    assert distilled["details"].pop("distillation")["teacher"] == "float checkpoint"
    assert distilled["details"] == plain["details"]
    assert distilled["settings"] == plain["settings"]
    text = _readme_text()
    assert f"reached {distilled['accuracy']:.4f} (epoch {distilled['best_epoch']}):" in text
    fewer = round(10_000 * (plain["accuracy"] - distilled["accuracy"]))
    assert f"{fewer} test images fewer than without the teacher" in text
    plain_span = [epoch["test_accuracy"] for epoch in plain["history"][-5:]]
    assert 0 <= fewer <= 10_000 * (max(plain_span) - min(plain_span))  # "nothing measurable"


def test_readmes_account_of_lab_4s_epochs_is_the_rows_history():
    """Are the number of finetuned rows and epochs, and their median time, as recorded?"""
    histories = [
        json.loads(path.read_text()).get("history") or []
        for path in sorted((REFERENCE / "lab4").glob("*/row.json"))
    ]
    seconds = [epoch["seconds"] for history in histories for epoch in history]
    rows = sum(1 for history in histories if history)
    text = _readme_text()
    assert (
        f"its {rows} finetuned rows ran {len(seconds)} epochs, a median of "
        f"{statistics.median(seconds):.0f} s each"
    ) in text
