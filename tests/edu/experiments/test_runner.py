"""Running a lab: one folder per row, skipping finished rows, prerequisites, checks."""

import json

import numpy as np
import pytest
import torch

from edu.experiments import (
    MODEL_FILE,
    ROW_FILE,
    MissingPrerequisiteError,
    Row,
    RowResult,
    add_seed_spread,
    run_lab,
    seed_experiment,
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


def test_a_row_whose_definition_changed_runs_again(make_experiment):
    """Is a row finished under another description (its own parameters) rerun, and a row
    that starts from it refused until it is?"""
    exp = make_experiment()
    run_lab("lab2", exp, ["finetune-70"])
    path = exp.row_dir("lab2", "finetune-70") / ROW_FILE
    record = json.loads(path.read_text())
    path.write_text(json.dumps({**record, "description": "pruned to 60 %, finetuned"}))
    assert run_lab("lab2", exp, [])[4]["status"] == "not run"
    with pytest.raises(MissingPrerequisiteError, match="was made as another lab2 finetune-70"):
        run_lab("lab3", exp, ["sparse-qat-2"])
    path.write_text(json.dumps(record))
    assert run_lab("lab2", exp, [])[4]["status"] == "done"


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


def _lab2_sparse_rows(exp):
    run_lab("lab2", exp, ["finetune-70", "iterative-70", "global-iterative-70"])


def _set_accuracy(exp, row, accuracy):
    path = exp.row_dir("lab2", row) / ROW_FILE
    record = json.loads(path.read_text())
    path.write_text(json.dumps({**record, "accuracy": accuracy}))


@pytest.mark.parametrize("best", ["finetune-70", "global-iterative-70"])
def test_sparse_qat_starts_from_the_more_accurate_70_percent_row(make_experiment, best):
    """Does Lab 3 (d) start from whichever of Lab 2 (c), (e) is the more accurate, keeping
    exactly that row's zeros, and ignore (d) however accurate?"""
    exp = make_experiment()
    _lab2_sparse_rows(exp)
    for row in ("finetune-70", "iterative-70", "global-iterative-70"):
        _set_accuracy(exp, row, 0.9 if row == best else 0.99 if row == "iterative-70" else 0.5)
    run_lab("lab3", exp, ["sparse-qat-4"])
    record = json.loads((exp.row_dir("lab3", "sparse-qat-4") / ROW_FILE).read_text())
    assert record["details"]["start"] == {
        "lab": "lab2",
        "row": best,
        "accuracy": 0.9,
        "seed": exp.settings.seed,
    }
    start = load_state_dict(exp.model_path("lab2", best))
    tuned = load_state_dict(exp.model_path("lab3", "sparse-qat-4"))
    for key, weight in start.items():
        if key.endswith("conv.weight") and "id_mapping" not in key:
            assert torch.all(tuned[key][weight == 0] == 0), key


def test_an_extra_seed_starts_from_the_main_runs_rows_and_writes_apart(make_experiment):
    """Does a seed-1 run of sparse QAT use the main run's Lab 2 rows (which it does not
    have itself), record seed 1, and write under seeds/1/ only?"""
    exp = make_experiment()
    _lab2_sparse_rows(exp)
    extra = seed_experiment(exp, 1)
    assert extra.output_dir == exp.output_dir / "seeds" / "1"
    report = run_lab("lab3", extra, ["sparse-qat-2"])
    record = next(r for r in report if r["row"] == "sparse-qat-2")
    assert record["status"] == "ran" and record["settings"]["seed"] == 1
    assert record["details"]["start"]["row"] in {
        "finetune-70",
        "iterative-70",
        "global-iterative-70",
    }
    assert not exp.row_dir("lab3", "sparse-qat-2").exists()
    assert not (extra.output_dir / "lab2").exists()


def test_an_extra_seed_that_made_its_own_lab2_models_starts_from_them(make_experiment):
    """When a seed-1 run holds both Lab 2 models Lab 3 (d) chooses from, does its sparse
    QAT keep those models' zeros (one independent chain, as a student's), not the main
    run's?"""
    exp = make_experiment()
    _lab2_sparse_rows(exp)
    extra = seed_experiment(exp, 1)
    run_lab("lab2", extra, ["finetune-70", "global-iterative-70"])
    _set_accuracy(extra, "finetune-70", 0.9)
    _set_accuracy(extra, "global-iterative-70", 0.5)
    own = load_state_dict(extra.model_path("lab2", "finetune-70"))
    key = "body_op.0.conv1.0.conv.weight"
    own[key] = torch.roll(own[key], 1, dims=0)  # zeros of its own, unlike the main run's
    torch.save(own, extra.model_path("lab2", "finetune-70"))
    report = run_lab("lab3", extra, ["sparse-qat-2"])
    record = next(r for r in report if r["row"] == "sparse-qat-2")
    assert record["details"]["start"] == {
        "lab": "lab2",
        "row": "finetune-70",
        "accuracy": 0.9,
        "seed": 1,
    }
    main = load_state_dict(exp.model_path("lab2", "finetune-70"))
    tuned = load_state_dict(extra.model_path("lab3", "sparse-qat-2"))
    assert not torch.equal(own[key] == 0, main[key] == 0)
    assert torch.all(tuned[key][own[key] == 0] == 0)


def test_an_extra_seed_without_the_main_runs_rows_is_refused(make_experiment):
    """Is an extra seed's sparse QAT refused when the main run lacks Lab 2's rows?"""
    extra = seed_experiment(make_experiment(), 2)
    with pytest.raises(MissingPrerequisiteError, match="does not exist"):
        run_lab("lab3", extra, ["sparse-qat-3"])


def test_seed_spread_is_the_mean_and_sample_deviation_of_finished_seeds():
    """Are mean and n-1 standard deviation those of numpy, over the seeds that finished?"""
    main = [{"row": "r", "accuracy": 0.80, "best_epoch": 3, "settings": {"seed": 0}}]
    extra = {
        1: [{"row": "r", "accuracy": 0.83, "best_epoch": 2, "settings": {"seed": 1}}],
        2: [{"row": "r", "accuracy": 0.86, "best_epoch": 1, "settings": {"seed": 2}}],
        3: [{"row": "r", "status": "not run"}],
    }
    row = add_seed_spread(main, extra)[0]
    values = np.array([0.80, 0.83, 0.86])
    assert row["accuracy"] == 0.80
    assert row["accuracy_mean"] == pytest.approx(values.mean())
    assert row["accuracy_sd"] == pytest.approx(values.std(ddof=1))
    assert [seed["seed"] for seed in row["seeds"]] == [0, 1, 2]
    assert "seeds" not in add_seed_spread(main, {3: extra[3]})[0]
