"""Lab 4's rows on a tiny experiment: narrower models, shared weights, scans, their checks."""

import dataclasses
import functools
import json

import pytest
import torch

from edu.compress import cluster_labels
from edu.experiments import LAB4_ROWS, ROW_FILE, MissingPrerequisiteError, Row, run_lab
from edu.experiments._lab4 import SCAN_FILE, group_lasso
from edu.experiments._runner import run_row
from edu.models import ResNetCIFAR, model_cost, resnet_from_state_dict
from edu.quant import QuantConv2d, count_weight_levels
from edu.train import Distillation, load_state_dict


@pytest.fixture
def lab4_experiment(make_experiment):
    """The tiny experiment with a scan loader that records that it was read."""
    exp = make_experiment(epochs=2)
    reads = []

    class Recording:
        def __iter__(self):
            reads.append(1)
            return iter(exp.test_loader)

    return dataclasses.replace(exp, scan_loader=Recording()), reads


def _record(exp, row):
    return json.loads((exp.row_dir("lab4", row) / ROW_FILE).read_text())


def _shared_values(state):
    net = resnet_from_state_dict(state)
    return {
        name: cluster_labels(layer.weight)[1]
        for name, layer in net.named_modules()
        if isinstance(layer, QuantConv2d)
    }


def test_channel_pruned_row_saves_a_narrower_dense_network(lab4_experiment):
    exp, _ = lab4_experiment
    run_lab("lab4", exp, ["channels-50"])
    record = _record(exp, "channels-50")
    net = resnet_from_state_dict(load_state_dict(exp.model_path("lab4", "channels-50")))
    assert (
        net.inner_channels == record["details"]["inner_channels"] == [8] * 3 + [16] * 3 + [32] * 3
    )
    assert record["details"]["macs"] == model_cost(net).macs
    assert record["details"]["macs"] < 0.55 * record["details"]["dense"]["macs"]
    assert [row["epoch"] for row in record["history"]] == [1, 2] and record["checks_ok"]


def test_distilled_channel_row_learns_from_the_float_model(lab4_experiment, monkeypatch):
    """Does the distilled row train on the distillation loss, with the float model (the
    experiment's checkpoint) as its teacher, and record how?"""
    exp, _ = lab4_experiment
    teachers = []
    original = Distillation.loss

    def recording(self, logits, x, y):
        teachers.append(self.teacher)
        return original(self, logits, x, y)

    monkeypatch.setattr(Distillation, "loss", recording)
    run_lab("lab4", exp, ["channels-8-16-48-distilled"])
    record = _record(exp, "channels-8-16-48-distilled")
    assert record["details"]["inner_channels"] == [8] * 3 + [16] * 3 + [48] * 3
    assert record["details"]["distillation"] == {
        "teacher": "float checkpoint",
        "temperature": 4.0,
        "weight": 0.9,
    }
    assert teachers and all(t is teachers[0] for t in teachers)
    teacher_state = teachers[0].state_dict()
    assert all(
        torch.equal(teacher_state[k], v.to(teacher_state[k])) for k, v in exp.weights.items()
    )
    assert record["checks_ok"]


def test_group_lasso_row_removes_the_channels_it_killed(lab4_experiment):
    exp, _ = lab4_experiment
    row = Row(
        "gl",
        "4(a)",
        "strong group lasso",
        None,
        functools.partial(group_lasso, strength=300.0),
        saves_model=True,
    )
    record = run_row(exp, "lab4", row)
    widths = record["details"]["inner_channels"]
    assert sum(widths) < 16 * 3 + 32 * 3 + 64 * 3
    saved = resnet_from_state_dict(load_state_dict(exp.model_path("lab4", "gl")))
    assert saved.inner_channels == widths
    assert record["details"]["macs"] == model_cost(saved).macs


@pytest.mark.parametrize("nbits", [4, 3])
def test_kmeans_rows_keep_each_shared_layer_on_2_to_the_n_values(lab4_experiment, nbits):
    exp, _ = lab4_experiment
    run_lab("lab4", exp, [f"kmeans-{nbits}", f"kmeans-ptq-{nbits}"])
    state = load_state_dict(exp.model_path("lab4", f"kmeans-{nbits}"))
    assert max(_shared_values(state).values()) <= 2**nbits
    assert _record(exp, f"kmeans-{nbits}")["details"]["centroids_ok"]
    start = exp.weights
    assert not torch.equal(
        state["body_op.0.conv1.0.conv.weight"].unique(),
        start["body_op.0.conv1.0.conv.weight"].unique(),
    )
    assert _record(exp, f"kmeans-ptq-{nbits}")["epochs"] == 0


def test_an_interrupted_kmeans_row_resumes_on_its_codebook(lab4_experiment):
    exp, _ = lab4_experiment

    def stop_in_epoch_2(message):
        if message.startswith("epoch   2/"):
            raise KeyboardInterrupt

    exp.log = stop_in_epoch_2
    with pytest.raises(KeyboardInterrupt):
        run_lab("lab4", exp, ["kmeans-3"])
    messages = []
    exp.log = messages.append
    run_lab("lab4", exp, ["kmeans-3"])
    assert any(message.startswith("resumed from") for message in messages)
    state = load_state_dict(exp.model_path("lab4", "kmeans-3"))
    assert max(_shared_values(state).values()) <= 8


def test_sensitivity_rows_scan_training_images_and_reach_their_total(lab4_experiment):
    exp, reads = lab4_experiment
    run_lab("lab4", exp, ["sensitivity-80"])
    assert len(reads) > 20  # the base accuracy and every layer at every sparsity
    record = _record(exp, "sensitivity-80")
    assert record["sparsity"]["total_sparsity"] >= 0.8 - 1e-3 and record["checks_ok"]
    scan = json.loads((exp.row_dir("lab4", "sensitivity-80") / SCAN_FILE).read_text())
    chosen = record["details"]["layer_sparsities"]
    assert set(chosen) == set(scan["accuracies"])
    assert scan["num_images"] == sum(len(y) for _, y in exp.scan_loader)
    for layer in record["sparsity"]["layers"]:
        assert layer["sparsity"] == pytest.approx(chosen[layer["name"]] / 100, abs=0.01)


def test_sparse_kmeans_keeps_every_zero_of_its_start(lab4_experiment):
    """Do both rows from sensitivity-80, plain and distilled, keep every zero of the
    start and at most 16 values per shared layer, and does the distilled one record its
    teacher?"""
    exp, _ = lab4_experiment
    with pytest.raises(MissingPrerequisiteError):
        run_lab("lab4", exp, ["sparse-kmeans-4"])
    rows = ["sparse-kmeans-4", "sparse-kmeans-4-distilled"]
    run_lab("lab4", exp, ["sensitivity-80", *rows])
    start = load_state_dict(exp.model_path("lab4", "sensitivity-80"))
    for row in rows:
        tuned = load_state_dict(exp.model_path("lab4", row))
        for key, weight in start.items():
            if key.endswith("weight") and weight.dim() > 1 and "id_mapping" not in key:
                assert torch.equal(weight == 0, tuned[key] == 0), (row, key)
        assert max(_shared_values(tuned).values()) <= 16
        assert _record(exp, row)["checks_ok"]
    assert "distillation" not in _record(exp, "sparse-kmeans-4")["details"]
    distilled = _record(exp, "sparse-kmeans-4-distilled")["details"]
    assert distilled["distillation"]["teacher"] == "float checkpoint" and distilled["nbits"] == 4


def test_distilled_sparse_qat_keeps_the_zeros_and_grid_of_lab_3_d(lab4_experiment):
    """Does the distilled 3-bit sparse QAT row need Lab 2's 70 %-sparse rows, start from
    the same one as Lab 3 (d), keep its zeros and at most 2^3 + 1 levels per quantized
    layer, and record its teacher?"""
    exp, _ = lab4_experiment
    with pytest.raises(MissingPrerequisiteError):
        run_lab("lab4", exp, ["sparse-qat-3-distilled"])
    run_lab("lab2", exp, ["finetune-70", "global-iterative-70"])
    run_lab("lab3", exp, ["sparse-qat-3"])
    run_lab("lab4", exp, ["sparse-qat-3-distilled"])
    record = _record(exp, "sparse-qat-3-distilled")
    plain = json.loads((exp.row_dir("lab3", "sparse-qat-3") / ROW_FILE).read_text())
    assert record["details"]["start"] == plain["details"]["start"]
    assert record["details"]["nbits"] == 3 and record["checks_ok"]
    assert record["details"]["distillation"]["teacher"] == "float checkpoint"
    start = load_state_dict(exp.model_path("lab2", record["details"]["start"]["row"]))
    tuned = load_state_dict(exp.model_path("lab4", "sparse-qat-3-distilled"))
    for key, weight in start.items():
        if key.endswith("conv.weight") and "id_mapping" not in key:
            assert torch.all(tuned[key][weight == 0] == 0), key
    net = ResNetCIFAR(num_layers=20, Nbits=3)
    net.load_state_dict(tuned)
    levels = count_weight_levels(net)  # of the weights the 3-bit forward pass uses
    assert levels and max(levels.values()) <= 2**3 + 1


def test_sensitivity_without_training_images_is_refused(make_experiment):
    with pytest.raises(ValueError, match="scan_loader"):
        run_lab("lab4", make_experiment(), ["sensitivity-70"])


def test_lab4_rows_are_unreferenced_and_save_what_they_train():
    assert all(row.reference is None for row in LAB4_ROWS)
    assert [row.id for row in LAB4_ROWS if not row.saves_model] == ["kmeans-ptq-4", "kmeans-ptq-3"]
