"""The declared rows are the spec's, with its reference numbers."""

import json
from pathlib import Path

import pytest

from edu.experiments import DISTILLED_WIDTHS, LAB2_ROWS, LAB3_ROWS, LABS, select_rows

SPEC_LAB2 = {
    "float": 0.9151,
    "oneshot-30": 0.9092,
    "oneshot-50": 0.8210,
    "oneshot-70": 0.4204,
    "finetune-70": 0.8943,
    "iterative-70": 0.8919,
    "global-iterative-70": 0.897,
}
SPEC_LAB3 = {
    "ptq-6": 0.9145,
    "ptq-5": 0.9112,
    "ptq-4": 0.8972,
    "ptq-3": 0.7662,
    "ptq-2": 0.0899,
    **{f"ptq-sym-{n}": None for n in (6, 5, 4, 3, 2)},
    "qat-4": 0.9134,
    "qat-3": None,
    "qat-2": None,
    "sparse-qat-4": 0.9047,
    "sparse-qat-3": 0.8817,
    "sparse-qat-2": 0.8919,
}


def test_lab2_rows_carry_the_specs_references():
    """Does Lab 2 declare exactly the spec's rows, in order, with its accuracies and loss?"""
    assert {row.id: row.reference for row in LAB2_ROWS} == SPEC_LAB2
    assert list(SPEC_LAB2) == [row.id for row in LAB2_ROWS]
    assert LAB2_ROWS[0].reference_loss == 0.3231


def test_lab3_rows_carry_the_specs_references():
    """Does Lab 3 declare the spec's rows, None where the spec has no legible number?"""
    assert {row.id: row.reference for row in LAB3_ROWS} == SPEC_LAB3


def test_rows_that_prune_or_train_save_their_weights():
    """Do exactly the rows that change weights write a model.pt?"""
    saving = {row.id for lab in ("lab2", "lab3") for row in LABS[lab] if row.saves_model}
    unchanged = {"float", *(f"ptq-{n}" for n in (6, 5, 4, 3, 2))}
    unchanged |= {f"ptq-sym-{n}" for n in (6, 5, 4, 3, 2)}
    assert saving == (set(SPEC_LAB2) | set(SPEC_LAB3)) - unchanged


def test_sparse_qat_needs_every_70_percent_sparse_row_of_lab2():
    """Does Lab 3 (d) depend on Lab 2 (c) and (e), the homework's, to pick the better?"""
    needs = {row.id: row.requires for row in LABS["lab3"] if row.requires}
    sparse = (("lab2", "finetune-70"), ("lab2", "global-iterative-70"))
    assert needs == {f"sparse-qat-{n}": sparse for n in (4, 3, 2)}


def test_select_rows_keeps_table_order():
    """Are chosen rows returned in the table's order, whatever order they were asked in?"""
    assert [row.id for row in select_rows("lab3", ["qat-2", "ptq-6"])] == ["ptq-6", "qat-2"]
    assert select_rows("lab2") == LAB2_ROWS


def test_unknown_row_lists_the_valid_ones():
    """Does an unknown row id name itself and every valid id of the lab?"""
    with pytest.raises(ValueError, match="unknown lab2 rows: qat-4; valid rows: float, "):
        select_rows("lab2", ["float", "qat-4"])
    with pytest.raises(ValueError, match="valid labs: lab2, lab3, lab4"):
        select_rows("lab5")


def test_the_distilled_widths_docstring_quotes_the_committed_benchmark():
    """Are the widths, the MACs share and the speedups that DISTILLED_WIDTHS' docstring
    quotes those of the committed channel benchmark?"""
    repo = Path(__file__).resolve().parents[3]
    report = repo / "benchmarks" / "results" / "channel_pruning_cpu.json"
    results = json.loads(report.read_text())["results"]
    row = results["lab4 channels-8-16-48-distilled, finetuned"]
    assert row["inner_channels"] == list(DISTILLED_WIDTHS)
    source = " ".join((repo / "edu" / "experiments" / "_tables.py").read_text().split())
    docstring = source[source.index("DISTILLED_WIDTHS = ") :].split('"""')[1]
    runs = row["batch_256_speedup_runs"]
    macs = round(100 * row["macs"] / results["dense"]["macs"])
    assert f"has {macs} % of the dense network's MACs" in docstring
    assert f"batch of 256 {row['batch_256_speedup']:.2f} times faster" in docstring
    assert f"({min(runs):.2f} to {max(runs):.2f})" in docstring
