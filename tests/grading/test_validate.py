"""``edu validate``: the check students run before they submit, on the real release.

Each folder is the student release (``assignments/homework``) filled in as the demo's
sample submissions are (:func:`edu.demo._samples.solved`), then spoiled on purpose.
"""

import io
import pathlib

import nbformat
import pytest
import torch

from edu.cli.main import main
from edu.demo._samples import solved
from edu.experiments import REFERENCE_FOLDER, reference_checkpoints
from edu.grading import validate
from edu.models import ResNetCIFAR, pretrained_resnet20
from edu.notebook import SUBMISSION_CHECKPOINTS

TAUGHT_CELLS = (
    "gradient",
    "hard_threshold",
    "l1_subgradient",
    "soft_threshold",
    "trimmed_soft_threshold",
    "prune_by_percentage",
    "global_prune_by_percentage",
    "finetune_after_prune",
    "STE",
)


@pytest.fixture(scope="module")
def release(repo):
    """The student release's folder."""
    return repo / "assignments" / "homework"


@pytest.fixture(scope="module")
def notebooks(release, solution_notebooks):
    """The release notebooks, every solution cell answered as the instructor's."""
    return {
        path.stem: solved(nbformat.read(path, as_version=4), solution_notebooks[path.stem])
        for path in sorted(release.glob("*.ipynb"))
    }


def _checkpoints() -> dict[str, bytes]:
    folder = pathlib.Path(__file__).resolve().parents[2] / REFERENCE_FOLDER
    return {f"{name}.pt": path.read_bytes() for name, path in reference_checkpoints(folder).items()}


def _saved(state) -> bytes:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


class _Payload:
    """An object whose unpickling would run code."""

    def __reduce__(self):
        return (print, ("this ran while the checkpoint was read",))


def _fixes(validation) -> list[str]:
    return [f"{f.where}: {f.message}" for f in validation.findings if not f.ok]


def test_full_solution_validates_clean(tmp_path, release, notebooks, write_submission, capsys):
    """Is the full solution with the reference checkpoints ready to submit, exit status 0?"""
    folder = write_submission(tmp_path / "full", notebooks, _checkpoints())
    status = main(["validate", str(folder), "--release", str(release)])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "FIX" not in out
    assert "ready to submit" in out
    for name in TAUGHT_CELLS:
        assert f"{name} is defined with the release's signature" in out
    for spec in SUBMISSION_CHECKPOINTS.values():
        assert f"ok   {spec.filename}: loads safely" in out


def test_untouched_stub_lists_each_missing_function(tmp_path, release, write_submission, capsys):
    """Does the untouched release name every function to write and every checkpoint?"""
    stub = {path.stem: nbformat.read(path, as_version=4) for path in release.glob("*.ipynb")}
    folder = write_submission(tmp_path / "stub", stub)
    status = main(["validate", str(folder), "--release", str(release)])
    out = capsys.readouterr().out
    assert status == 1
    for name in TAUGHT_CELLS:
        assert f"{name} is still the starter code: write it" in out
    assert "tf_1_1 is still the starter code: answer it" in out
    for spec in SUBMISSION_CHECKPOINTS.values():
        assert f"FIX  {spec.filename}: {spec.filename} is not in the submission" in out
    assert "visible test test_gradient: " in out
    assert "NotImplementedError" in out


def test_broken_folder_names_what_to_fix(
    tmp_path, release, notebooks, write_submission, replace_cell, solution_notebooks
):
    """Are a missing, a pickled and a wrong-structure checkpoint, a changed signature, a
    wrong function, a call into edu and another part's notebook each named?"""
    lab1 = replace_cell(
        notebooks["lab1_sparse_regression"],
        "soft_threshold",
        "import numpy as np\n\ndef soft_threshold(v, threshold, scale=1.0):\n"
        "    return np.sign(v) * np.maximum(np.abs(v) - threshold, 0.0) * scale\n",
    )
    lab1 = replace_cell(
        lab1,
        "hard_threshold",
        "def hard_threshold(v, k):\n    return v.copy()\n",
    )
    ste = next(
        c.source for c in notebooks["lab3_quantization"].cells if c.source.startswith("class STE")
    )
    counting = ste.replace(
        "        if bit is None:", "        count_levels(w)\n        if bit is None:", 1
    )
    assert counting != ste
    lab3 = replace_cell(notebooks["lab3_quantization"], "STE", counting)
    files = _checkpoints()
    del files["lab2_finetune_70.pt"]
    files["lab2_global_iterative_70.pt"] = _saved({"conv1.weight": _Payload()})
    files["lab3_qat_4bit.pt"] = _saved(ResNetCIFAR(num_layers=32).state_dict())
    files["lab3_sparse_qat_4bit.pt"] = _saved(pretrained_resnet20().state_dict())
    submitted = {
        **notebooks,
        "lab1_sparse_regression": lab1,
        "lab3_quantization": lab3,
        "part0_true_false": notebooks["lab3_quantization"],
    }
    folder = write_submission(tmp_path / "broken", submitted, files)
    validation = validate(folder, release)
    fixes = "\n".join(_fixes(validation))
    assert not validation.ok
    assert "soft_threshold(v, threshold, scale=1.0): the grader calls it as" in fixes
    assert "soft_threshold(v, threshold)" in fixes
    assert "visible test test_hard_threshold: " in fixes
    assert "keeps -3 and 2" in fixes  # the visible test's own message
    assert "part0_true_false.ipynb is not this notebook" in fixes
    # the visible tests' helpers are theirs alone: the STE that counts levels is refused
    assert "visible test test_ste_asymmetric: " in fixes
    assert "called edu.quant.count_levels" in fixes
    assert "lab2_finetune_70.pt is not in the submission" in fixes
    assert "lab2_global_iterative_70.pt was refused" in fixes
    assert "weights_only" in fixes
    assert "lab3_qat_4bit.pt holds a ResNet-32" in fixes
    assert "lab3_sparse_qat_4bit.pt: " in fixes and "zeros" in fixes
    assert "this ran" not in fixes
    for line in fixes.splitlines():  # nothing of the instructor's hidden tests
        assert "HIDDEN" not in line
    hidden = [
        cell.source
        for notebook in solution_notebooks.values()
        for cell in notebook.cells
        if "BEGIN HIDDEN TESTS" in cell.source
    ]
    for source in hidden:
        secret = source.split("### BEGIN HIDDEN TESTS")[1].strip().splitlines()[0]
        assert secret not in fixes


def test_instructor_notebooks_are_refused(repo, tmp_path, notebooks, write_submission):
    """Is a release folder that holds hidden tests refused before anything runs?"""
    folder = write_submission(tmp_path / "full", notebooks)
    with pytest.raises(ValueError, match="holds solutions or hidden tests"):
        validate(folder, repo / "solutions" / "homework")


def test_release_tells_students_to_validate(release):
    """Does every student notebook end by telling how to run edu validate on the folder?"""
    for path in sorted(release.glob("*.ipynb")):
        last = nbformat.read(path, as_version=4).cells[-1]
        assert last.source.startswith("## Before you submit"), path.name
        assert "edu validate ." in last.source, path.name


def test_missing_folder_or_release_is_a_one_line_error(tmp_path, capsys):
    """Are a missing folder and a missing release each one line, with exit status 2?"""
    assert main(["validate", str(tmp_path / "nowhere")]) == 2
    assert "is not a folder" in capsys.readouterr().err
    status = main(["validate", str(tmp_path), "--release", str(tmp_path / "none")])
    assert status == 2
    assert "pass --release" in capsys.readouterr().err
