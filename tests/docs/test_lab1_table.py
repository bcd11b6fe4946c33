"""Does the Lab 1 table tell an exact zero from a round-off one?"""

from __future__ import annotations

import numpy as np

from edu.sparse import LAB1_PARTS, run, run_part


def test_exact_zeros_print_as_0_and_round_off_in_e_notation(docs_ext):
    """Is w_3 = -9.8e-16 of trimmed L1 at lam = 2 shown as such, beside plain 0s?"""
    import lab1_table

    weights = run("trimmed", lam=2.0).final_weights
    assert weights[2] != 0.0 and abs(weights[2]) < 1e-14
    cells = [lab1_table.weight_cell(w) for w in weights]
    assert cells[0] == cells[3] == "0"
    assert cells[2] == f"{weights[2]:+.1e}" and "e-1" in cells[2]
    assert cells[1] == "+2.2000"
    assert lab1_table.weight_cell(-0.0) == "0"


def test_every_row_shows_as_many_non_zero_cells_as_its_non_zero_count(docs_ext):
    """Does each row's final W show a non-'0' cell exactly where np.count_nonzero counts one?"""
    import lab1_table

    rows = lab1_table.lab1_rows()
    results = [result for part in LAB1_PARTS for result in run_part(part)]
    assert len(rows) == len(results)
    for cells, result in zip(rows, results, strict=True):
        shown = cells[-1].strip("[]").split(", ")
        assert sum(cell != "0" for cell in shown) == int(cells[5])
        assert int(cells[5]) == np.count_nonzero(result.final_weights)
