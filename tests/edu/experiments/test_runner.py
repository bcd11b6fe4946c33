"""Running a lab: one folder per row, skipping finished rows, prerequisites, checks."""

import json

import pytest
import torch

from edu.experiments import (
    MODEL_FILE,
    ROW_FILE,
    MissingPrerequisiteError,
    Row,
    RowResult,
    run_lab,
)
from edu.experiments._runner import run_row
from edu.train import load_state_dict


def _mtime(exp, lab, row):
    return (exp.row_dir(lab, row) / ROW_FILE).stat().st_mtime_ns


def test_rows_write_their_record_and_weights(make_experiment):
    """Does each chosen row write row.json (and model.pt if it prunes), others 'not run'?"""
    exp = make_experiment()
    report = run_lab("lab2", exp, ["float", "oneshot-50"])
    status = {record["row"]: record["status"] for record in report}
    assert status["float"] == status["oneshot-50"] == "ran"
    assert {status[row] for row in status if row not in ("float", "oneshot-50")} == {"not run"}
    assert not (exp.row_dir("lab2", "float") / MODEL_FILE).exists()
    record = json.loads((exp.row_dir("lab2", "oneshot-50") / ROW_FILE).read_text())
    assert record["sparsity"]["total_sparsity"] == pytest.approx(0.5, abs=0.001)
    assert record["reference"] == {"accuracy": 0.8210, "loss": None}
    assert record["settings"] == exp.settings.as_dict()
    assert record["model"] == MODEL_FILE and record["checks_ok"]


def test_finished_rows_are_skipped_unless_forced(make_experiment):
    """Is a finished row left alone on a rerun, and run again with force=True?"""
    exp = make_experiment()
    run_lab("lab3", exp, ["ptq-4"])
    before = _mtime(exp, "lab3", "ptq-4")
    report = run_lab("lab3", exp, ["ptq-4"])
    assert report[2]["status"] == "done" and _mtime(exp, "lab3", "ptq-4") == before
    report = run_lab("lab3", exp, ["ptq-4"], force=True)
    assert report[2]["status"] == "ran" and _mtime(exp, "lab3", "ptq-4") != before


def test_rows_of_other_settings_run_again(make_experiment, tmp_path):
    """Is a row finished with other settings (here the seed) rerun, not reported as done?"""
    run_lab("lab3", make_experiment(seed=0), ["ptq-2"])
    exp = make_experiment(seed=1)
    assert run_lab("lab3", exp, [])[4]["status"] == "not run"
    assert run_lab("lab3", exp, ["ptq-2"])[4]["status"] == "ran"


def test_sparse_qat_without_lab2_is_refused_before_running(make_experiment):
    """Does Lab 3 (d) without Lab 2's finetune-70 stop before any row runs, saying why?"""
    exp = make_experiment()
    with pytest.raises(MissingPrerequisiteError, match="does not exist") as caught:
        run_lab("lab3", exp, ["ptq-6", "sparse-qat-4"])
    assert (caught.value.lab, caught.value.row) == ("lab2", "finetune-70")
    assert "edu reproduce lab2 --rows finetune-70" in str(caught.value)
    assert not exp.row_dir("lab3", "ptq-6").exists()


def test_sparse_qat_from_other_settings_is_refused(make_experiment):
    """Is a finetune-70 made with other settings named as such, with the difference?"""
    run_lab("lab2", make_experiment(lr=0.02), ["finetune-70"])
    with pytest.raises(MissingPrerequisiteError, match=r"other settings \(lr 0.02 != 0.01\)"):
        run_lab("lab3", make_experiment(), ["sparse-qat-2"])


def test_a_failed_check_marks_the_row(make_experiment):
    """Does a False '_ok' fact from verify make checks_ok False in row.json?"""
    exp = make_experiment()

    def run(exp, row_dir):
        return RowResult(exp.model(), verify=lambda path: {"pruned_zero_ok": False})

    row = Row("broken", "x", "a row whose check fails", None, run, saves_model=True)
    record = run_row(exp, "lab9", row)
    assert record["checks_ok"] is False
    assert json.loads((exp.row_dir("lab9", "broken") / ROW_FILE).read_text())["checks_ok"] is False


def test_interrupted_finetune_row_resumes_with_its_mask(make_experiment):
    """Does a finetune-70 row stopped in its last epoch resume from its checkpoint on a rerun,
    and still keep exactly the one-shot 70 % zeros?"""
    exp = make_experiment(epochs=2)

    def stop_in_epoch_2(message):
        if message.startswith("epoch   2/"):
            raise KeyboardInterrupt

    exp.log = stop_in_epoch_2
    with pytest.raises(KeyboardInterrupt):
        run_lab("lab2", exp, ["finetune-70"])
    assert not (exp.row_dir("lab2", "finetune-70") / ROW_FILE).exists()
    messages = []
    exp.log = messages.append
    run_lab("lab2", exp, ["oneshot-70", "finetune-70"])
    assert any(message.startswith("resumed from") for message in messages)
    record = json.loads((exp.row_dir("lab2", "finetune-70") / ROW_FILE).read_text())
    assert [row["epoch"] for row in record["history"]] == [1, 2] and record["checks_ok"]
    oneshot = load_state_dict(exp.model_path("lab2", "oneshot-70"))
    tuned = load_state_dict(exp.model_path("lab2", "finetune-70"))
    for key, weight in oneshot.items():
        if key.endswith("conv.weight") and "id_mapping" not in key:
            assert torch.equal(weight == 0, tuned[key] == 0), key
