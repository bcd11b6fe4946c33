"""Reading a submission: what is graded, what is refused, and what nbgrader will repair."""

import json
import os

import nbformat

from edu.grading import Limits, read_submission
from edu.grading._submission import read_notebook


def _read(layout, notebook, name="lab1_sparse_regression"):
    data = notebook if isinstance(notebook, bytes) else nbformat.writes(notebook).encode()
    return read_notebook(data, layout.notebook(name), layout, Limits())


def test_are_the_solution_cells_taken_by_grade_id(layout, solution_notebooks):
    """Does a good notebook give one source per taught function, by grade id?"""
    result = _read(layout, solution_notebooks["lab1_sparse_regression"])
    assert result.status == "ok"
    assert sorted(result.solutions) == [
        "gradient",
        "hard_threshold",
        "l1_subgradient",
        "soft_threshold",
        "trimmed_soft_threshold",
    ]
    assert result.solutions["gradient"].lstrip().startswith("def gradient(X, y, w):")


def test_is_invalid_json_rejected_with_a_clear_message(layout, solution_notebooks):
    """Is a truncated notebook file rejected as invalid JSON?"""
    data = nbformat.writes(solution_notebooks["lab1_sparse_regression"]).encode()[:500]
    result = _read(layout, data)
    assert result.status == "rejected"
    assert "not valid JSON" in result.message


def test_is_json_that_is_no_notebook_rejected(layout):
    """Is valid JSON that is not a notebook rejected as such?"""
    result = _read(layout, json.dumps({"cells": "none"}).encode())
    assert result.status == "rejected"
    assert "not a valid Jupyter notebook" in result.message


def test_is_a_notebook_of_another_assignment_rejected(layout):
    """Is a notebook none of whose graded cells belong to the assignment rejected?"""
    other = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x = 1")
    cell.metadata["nbgrader"] = {
        "grade_id": "question_7",
        "solution": True,
        "grade": False,
        "locked": False,
        "schema_version": 3,
    }
    other.cells.append(cell)
    result = _read(layout, other)
    assert result.status == "rejected"
    assert "none of its cells belong to assignment" in result.message


def test_is_a_notebook_of_another_part_named_as_such(layout, solution_notebooks):
    """Is Lab 1's notebook saved under Lab 2's name rejected, naming Lab 1?"""
    result = _read(layout, solution_notebooks["lab1_sparse_regression"], "lab2_pruning")
    assert result.status == "rejected"
    assert "lab1_sparse_regression.ipynb" in result.message


def test_is_the_last_copy_of_a_duplicated_cell_graded(layout, solution_notebooks):
    """Like nbgrader's DeduplicateIds, is the last copy of a duplicated cell kept?"""
    notebook = nbformat.from_dict(
        json.loads(nbformat.writes(solution_notebooks["lab1_sparse_regression"]))
    )
    index = next(
        i
        for i, c in enumerate(notebook.cells)
        if c.metadata.get("nbgrader", {}).get("grade_id") == "gradient"
    )
    duplicate = nbformat.from_dict(json.loads(json.dumps(notebook.cells[index])))
    duplicate.source = "def gradient(X, y, w):\n    return 0 * w"
    duplicate.id = "gradient-copy"
    notebook.cells.insert(index + 1, duplicate)
    result = _read(layout, notebook)
    assert result.solutions["gradient"].endswith("return 0 * w")
    assert any("'gradient' appears 2 times" in note for note in result.notes)


def test_is_a_retyped_solution_cell_read_as_code(layout, solution_notebooks, replace_cell):
    """Is a solution cell turned into markdown still graded as the code it holds?"""
    notebook = replace_cell(
        solution_notebooks["lab1_sparse_regression"], "hard_threshold", cell_type="markdown"
    )
    for key in ("outputs", "execution_count"):
        next(
            c
            for c in notebook.cells
            if c.metadata.get("nbgrader", {}).get("grade_id") == "hard_threshold"
        ).pop(key, None)
    result = _read(layout, notebook)
    assert result.solutions["hard_threshold"].lstrip().startswith("def hard_threshold")
    assert any("changed to markdown" in note for note in result.notes)


def test_is_a_deleted_cell_reported(layout, solution_notebooks, replace_cell):
    """Is a deleted solution cell missing from the solutions and reported?"""
    notebook = replace_cell(solution_notebooks["lab1_sparse_regression"], "soft_threshold")
    result = _read(layout, notebook)
    assert "soft_threshold" not in result.solutions
    assert any("'soft_threshold' was deleted" in note for note in result.notes)


def test_are_links_and_oversized_files_refused(
    layout, solution_notebooks, write_submission, tmp_path
):
    """Is a symbolic link (to another student's file) ignored, and a huge file too?"""
    other = tmp_path / "other" / "lab2_finetune_70.pt"
    other.parent.mkdir()
    other.write_bytes(b"someone else's work")
    folder = write_submission(tmp_path / "alice" / "homework", solution_notebooks)
    os.symlink(other, folder / "lab2_finetune_70.pt")
    (folder / "big.bin").write_bytes(b"0" * (2 << 20))
    submission = read_submission(
        folder, "alice", layout, Limits(checkpoint_bytes=1 << 20, notebook_bytes=1 << 20)
    )
    assert "lab2_finetune_70.pt" not in submission.files
    assert "big.bin" not in submission.files
    assert any("not a regular file" in p for p in submission.problems)
    assert any("larger than" in p for p in submission.problems)


def test_is_a_missing_notebook_reported(layout, solution_notebooks, write_submission, tmp_path):
    """Is a notebook left out of the submission 'missing', with a message naming it?"""
    notebooks = dict(solution_notebooks, lab3_quantization=None)
    folder = write_submission(tmp_path / "bob" / "homework", notebooks)
    submission = read_submission(folder, "bob", layout, Limits())
    assert submission.notebooks["lab3_quantization"].status == "missing"
    assert "lab3_quantization.ipynb" in submission.notebooks["lab3_quantization"].message


def test_does_the_digest_follow_the_contents(
    layout, solution_notebooks, write_submission, tmp_path
):
    """Is the digest the same for the same files, and different when one changes?"""
    first = write_submission(tmp_path / "a" / "homework", solution_notebooks, {"x.pt": b"1"})
    second = write_submission(tmp_path / "b" / "homework", solution_notebooks, {"x.pt": b"1"})
    digest = read_submission(first, "a", layout, Limits()).digest
    assert read_submission(second, "b", layout, Limits()).digest == digest
    (second / "x.pt").write_bytes(b"2")
    assert read_submission(second, "b", layout, Limits()).digest != digest
