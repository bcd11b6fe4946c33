"""The results table's cells: the spec's number beside this project's, per row."""

from edu.experiments import RESULTS_HEADER, results_cells, sparsity_cells


def _sparsity(*values):
    layers = [
        {"name": f"l{i}", "weights": 10, "zeros": round(10 * v), "sparsity": v}
        for i, v in enumerate(values)
    ]
    zeros = sum(layer["zeros"] for layer in layers)
    return {"layers": layers, "total_zeros": zeros, "total_sparsity": zeros / (10 * len(layers))}


def _record(row, reference, reference_loss=None, **measured):
    return {
        "row": row,
        "part": "2(x)",
        "description": "d",
        "reference": {"accuracy": reference, "loss": reference_loss},
        **measured,
    }


def test_finished_row_shows_reference_difference_and_levels():
    """Does a finished row show both accuracies, their signed difference and the columns?"""
    record = _record(
        "qat-4",
        0.9134,
        accuracy=0.9,
        loss=0.4,
        sparsity=_sparsity(0.0),
        max_weight_levels=16,
        epochs=20,
    )
    cells = results_cells([record])[0]
    assert len(cells) == len(RESULTS_HEADER)
    assert cells[3:] == ["0.9134", "0.9000", "-", "-0.0134", "0.000", "16", "20"]


def test_row_run_with_extra_seeds_shows_mean_and_spread_beside_its_own_number():
    """Does a row with several seeds keep the main seed's number and add mean ± sd (n)?"""
    record = _record(
        "iterative-70",
        0.8919,
        accuracy=0.87,
        sparsity=_sparsity(0.7),
        max_weight_levels=None,
        epochs=20,
        seeds=[{"seed": 0}, {"seed": 1}, {"seed": 2}],
        accuracy_mean=0.871,
        accuracy_sd=0.001,
    )
    cells = results_cells([record])[0]
    assert cells[RESULTS_HEADER.index("this project")] == "0.8700"
    assert cells[RESULTS_HEADER.index("over seeds")] == "0.8710 ± 0.0010 (3 seeds)"
    assert cells[RESULTS_HEADER.index("difference")] == "-0.0219"


def test_float_row_shows_the_loss_and_rows_not_run_say_so():
    """Is the loss shown where the spec gives one, and a row not run marked as such?"""
    done = _record(
        "float",
        0.9151,
        0.3231,
        accuracy=0.92,
        loss=0.3,
        sparsity=_sparsity(0.0),
        max_weight_levels=None,
        epochs=0,
    )
    missing = {**_record("qat-3", None), "status": "not run"}
    first, second = results_cells([done, missing])
    assert first[3:5] == ["0.9151 (loss 0.3231)", "0.9200 (loss 0.3000)"]
    assert first[-2:] == ["-", "-"]
    assert second[3:6] == ["-", "not run", "-"]


def test_sparsity_table_has_a_column_per_sparse_row():
    """Are only sparse finished rows tabulated, one column each, with the total last?"""
    dense = _record("float", None, accuracy=0.9, loss=0.3, sparsity=_sparsity(0.0, 0.0))
    sparse = _record("global", None, accuracy=0.9, loss=0.3, sparsity=_sparsity(0.2, 0.6))
    header, rows = sparsity_cells([dense, sparse, _record("x", None)])
    assert header == ["layer", "global"]
    assert rows == [["l0", "0.200"], ["l1", "0.600"], ["total", "0.400"]]
    assert sparsity_cells([dense]) == (["layer"], [])
