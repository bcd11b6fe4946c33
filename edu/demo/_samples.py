"""The demo's sample class: four submissions of each assignment that show what the
autograder does.

Every submission starts from nbgrader's student release, the notebooks a student
downloads (checksums, locked cells and all), and fills in solution cells the way a
student would:

- ``full_solution``: every taught function as in the instructor's notebooks, and the
  checkpoints of an independent run of the reference rows (the reproduction's seed 1,
  ``grader/demo/``: :func:`edu.experiments.reference_checkpoints`);
- ``untouched_stub``: the release as it is, nothing submitted beside it;
- ``partly_wrong``: two true/false answers flipped, a soft threshold that forgets to
  shrink, a "global" pruning that thresholds each layer on its own, the Lab 3
  checkpoints missing, Lab 2's global model pruned once but never finetuned, and the
  course's own reference file submitted as Lab 2's per-layer model (refused as a copy);
- ``hostile``: hands its work to ``edu``, crashes its kernel in one function, rewrites a
  test cell, monkeypatches numpy's comparisons, writes over the gradebook and another
  student's checkpoint, floods stderr, and submits a pickle that would run a command.

The same four students submit the bonus Lab 4 (:data:`LAB4_SAMPLE_SUBMISSIONS`): every
function right; the untouched stub; inner widths rounded down and pruned zeros
clustered with the weights; and ``remove_inner_channels`` importing
``edu.prune.remove_channels`` while ``kmeans_quantize`` reaches
``edu.compress.kmeans_quantize`` by a computed name (``channel_importance`` written by
hand keeps its points).

Each builder takes the release and solution notebooks (by file stem), the course folder
(its ``grader/`` already there) and the full solution's checkpoints, and returns
``(notebooks, files)``: notebooks by stem, and extra files (checkpoints,
``timestamp.txt``) as bytes by file name.
"""

from __future__ import annotations

import copy
import io
import os
from collections.abc import Callable, Mapping
from pathlib import Path

import nbformat
import torch

from edu.experiments import REFERENCE_FOLDER
from edu.models import pretrained_resnet20
from edu.prune import prune_model

__all__ = ["LAB4_SAMPLE_SUBMISSIONS", "SAMPLE_SUBMISSIONS", "SampleSubmission", "solved"]

Notebooks = dict[str, nbformat.NotebookNode]
Files = dict[str, bytes]
SampleSubmission = Callable[
    [Notebooks, Notebooks, Path, Mapping[str, Path]], tuple[Notebooks, Files]
]

_SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")
_TIMESTAMP = b"2026-11-20 17:45:00 UTC"


def _grade_id(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _cell(notebook, grade_id: str):
    for cell in notebook.cells:
        if _grade_id(cell) == grade_id:
            return cell
    raise KeyError(f"no cell {grade_id!r} in the notebook")


def _without_markers(source: str) -> str:
    lines = source.splitlines()
    return "\n".join(line for line in lines if line.strip() not in _SOLUTION_MARKERS)


def solved(
    release: nbformat.NotebookNode, solution: nbformat.NotebookNode
) -> nbformat.NotebookNode:
    """The release notebook with every solution cell answered as in the instructor's notebook.

    Parameters
    ----------
    release : NotebookNode
        The student's notebook, left unchanged.
    solution : NotebookNode
        The instructor's source notebook of the same name.

    Returns
    -------
    NotebookNode
        A copy of ``release`` whose solution cells hold the instructor's code (or text)
        without nbgrader's solution markers; every other cell is the release's.
    """
    answers = {
        _grade_id(cell): _without_markers(cell.source)
        for cell in solution.cells
        if cell.metadata.get("nbgrader", {}).get("solution")
    }
    notebook = copy.deepcopy(release)
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("solution") and _grade_id(cell) in answers:
            cell.source = answers[_grade_id(cell)]
    return notebook


def _all_solved(release: Notebooks, solutions: Notebooks) -> Notebooks:
    return {stem: solved(notebook, solutions[stem]) for stem, notebook in release.items()}


def _saved(state: object) -> bytes:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def full_solution(release, solutions, course, checkpoints):
    """Every answer right, the checkpoints of an honest run submitted."""
    files = {f"{name}.pt": Path(path).read_bytes() for name, path in checkpoints.items()}
    return _all_solved(release, solutions), {**files, "timestamp.txt": _TIMESTAMP}


def untouched_stub(release, solutions, course, checkpoints):
    """The release as downloaded: every taught function raises NotImplementedError."""
    return copy.deepcopy(release), {"timestamp.txt": _TIMESTAMP}


def partly_wrong(release, solutions, course, checkpoints):
    """Typical mistakes: flipped answers, an unbiased-looking threshold, per-layer "global",
    and the course's reference file handed in as the student's own."""
    notebooks = _all_solved(release, solutions)
    part0 = notebooks["part0_true_false"]
    for grade_id in ("tf_1_2", "tf_1_5"):
        cell = _cell(part0, grade_id)
        cell.source = cell.source.replace("= False", "= True")
    _cell(notebooks["lab1_sparse_regression"], "soft_threshold").source = (
        "def soft_threshold(v, threshold):\n"
        "    v = np.asarray(v, dtype=float)\n"
        "    return np.where(np.abs(v) > threshold, v, 0.0)  # keeps the survivors unshrunk\n"
    )
    _cell(notebooks["lab2_pruning"], "global_prune_by_percentage").source = (
        "def global_prune_by_percentage(net, q):\n"
        "    thresholds = []\n"
        "    for _, layer in prunable_layers(net):  # one threshold per layer, not one in all\n"
        "        weight = layer.weight.detach()\n"
        "        thresholds.append(float(np.percentile(weight.abs().numpy(), q)))\n"
        "        with torch.no_grad():\n"
        "            layer.weight.masked_fill_(weight.abs() < thresholds[-1], 0.0)\n"
        "    return thresholds[-1]\n"
    )
    never_finetuned = pretrained_resnet20()
    prune_model(never_finetuned, 70, "global")
    files = {
        "lab2_finetune_70.pt": (course / REFERENCE_FOLDER / "lab2_finetune_70.pt").read_bytes(),
        "lab2_global_iterative_70.pt": _saved(never_finetuned.state_dict()),
        "timestamp.txt": _TIMESTAMP,
    }
    return notebooks, files


class _RunsACommand:
    """Unpickling this object would run ``touch pwned``; ``weights_only=True`` refuses it."""

    def __reduce__(self):
        return (os.system, ("touch pwned",))


def hostile(release, solutions, course, checkpoints):
    """Tries every way around the grader that a student might (each one fails)."""
    notebooks = _all_solved(release, solutions)
    lab1 = notebooks["lab1_sparse_regression"]
    _cell(lab1, "gradient").source = (
        "from edu.sparse import gradient as _reference\n"
        "def gradient(X, y, w):\n"
        "    return _reference(X, y, w)\n"
    )
    _cell(
        lab1, "l1_subgradient"
    ).source = "def l1_subgradient(w):\n    import os\n    os._exit(3)  # takes the process down\n"
    _cell(lab1, "test_soft_threshold").source = "print('this test passes, trust me')"
    other_student = course / "submitted" / "full_solution" / "homework" / "lab2_finetune_70.pt"
    attack = (
        "import sys, numpy\n"
        "numpy.allclose = lambda *args, **kwargs: True\n"
        "numpy.testing.assert_allclose = lambda *args, **kwargs: None\n"
        "print('noise ' * 20000, file=sys.stderr)\n"
        f"for target in [{str(course / 'gradebook.db')!r}, {str(course / 'grades.csv')!r},\n"
        f"               {str(other_student)!r}, {str(course / 'grader' / 'test_lab1.py')!r}]:\n"
        "    try:\n"
        "        open(target, 'wb').write(b'overwritten')\n"
        "    except OSError as error:\n"
        "        print('refused:', error)\n"
    )
    lab1.cells.insert(
        1 + lab1.cells.index(_cell(lab1, "lab1_sparse_regression_setup")),
        nbformat.v4.new_code_cell(attack),
    )
    files = {
        "lab2_finetune_70.pt": _saved({"weight": _RunsACommand()}),
        "timestamp.txt": _TIMESTAMP,
    }
    return notebooks, files


SAMPLE_SUBMISSIONS: dict[str, SampleSubmission] = {
    "full_solution": full_solution,
    "untouched_stub": untouched_stub,
    "partly_wrong": partly_wrong,
    "hostile": hostile,
}
"""The demo's class, by student id (the order the table lists them in)."""


def _replaced(cell, old: str, new: str) -> None:
    """Replace ``old`` by ``new`` in a cell's source (which must hold it)."""
    if old not in cell.source:
        raise ValueError(f"{old!r} is not in the cell {_grade_id(cell)!r}")
    cell.source = cell.source.replace(old, new)


def lab4_partly_wrong(release, solutions, course, checkpoints):
    """Typical mistakes: inner widths rounded down, pruned zeros clustered with the weights."""
    notebooks = _all_solved(release, solutions)
    lab4 = notebooks["lab4_compression"]
    _replaced(
        _cell(lab4, "remove_inner_channels"),
        "max(1, math.ceil(keep * len(scores)))",
        "max(1, int(keep * len(scores)))  # rounds down",
    )
    _replaced(
        _cell(lab4, "kmeans_quantize"),
        "mask = weight != 0",
        "mask = torch.ones_like(weight, dtype=torch.bool)  # the zeros are clustered too",
    )
    return notebooks, {"timestamp.txt": _TIMESTAMP}


def lab4_hostile(release, solutions, course, checkpoints):
    """Hands two functions' work to edu: by an import, and by a computed name."""
    notebooks = _all_solved(release, solutions)
    lab4 = notebooks["lab4_compression"]
    _cell(lab4, "remove_inner_channels").source = (
        "from edu.prune import remove_channels as _reference\n"
        "def remove_inner_channels(net, keep):\n"
        "    return _reference(net, keep)\n"
    )
    _cell(lab4, "kmeans_quantize").source = (
        "import edu.compress\n"
        "def kmeans_quantize(weight, bits):\n"
        "    return getattr(edu.compress, 'kmeans_' + 'quantize')(weight, bits)\n"
    )
    return notebooks, {"timestamp.txt": _TIMESTAMP}


LAB4_SAMPLE_SUBMISSIONS: dict[str, SampleSubmission] = {
    "full_solution": full_solution,
    "untouched_stub": untouched_stub,
    "partly_wrong": lab4_partly_wrong,
    "hostile": lab4_hostile,
}
"""The same class's submissions of the bonus Lab 4, which has no checkpoint: the demo
gives its builders none, so ``full_solution`` submits the notebook alone."""
