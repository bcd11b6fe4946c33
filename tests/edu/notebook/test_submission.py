"""Are submission checkpoints plain tensors, read back safely, and refused when wrong?"""

from __future__ import annotations

import os

import pytest
import torch

from edu.models import ResNetCIFAR, pretrained_resnet20
from edu.notebook import (
    SUBMISSION_CHECKPOINTS,
    load_submission,
    save_submission,
)
from edu.prune import plain_state_dict, prepare, prune_model, sparsity_report
from edu.quant import count_weight_levels
from edu.train import CheckpointError


@pytest.fixture(scope="module")
def pruned():
    """The pretrained ResNet-20 with every prunable layer pruned to 70 %."""
    net = pretrained_resnet20()
    prune_model(net, 70)
    return net


def test_the_documented_checkpoints():
    """Are the four checkpoints those of the homework contract, read-only?"""
    specs = SUBMISSION_CHECKPOINTS
    assert list(specs) == [
        "lab2_finetune_70",
        "lab2_global_iterative_70",
        "lab3_qat_4bit",
        "lab3_sparse_qat_4bit",
    ]
    summary = {
        name: (s.notebook, s.nbits, s.symmetric, s.sparsity, s.sparsity_scope, s.num_layers)
        for name, s in specs.items()
    }
    assert summary == {
        "lab2_finetune_70": ("lab2_pruning.ipynb", None, False, 0.70, "layer", 20),
        "lab2_global_iterative_70": ("lab2_pruning.ipynb", None, False, 0.70, "global", 20),
        "lab3_qat_4bit": ("lab3_quantization.ipynb", 4, False, None, None, 20),
        "lab3_sparse_qat_4bit": ("lab3_quantization.ipynb", 4, False, 0.70, "global", 20),
    }
    assert specs["lab3_sparse_qat_4bit"].filename == "lab3_sparse_qat_4bit.pt"
    assert any("at most 16 distinct" in c for c in specs["lab3_qat_4bit"].checks)
    assert any("at most 17 distinct" in c for c in specs["lab3_sparse_qat_4bit"].checks)
    assert any(
        "all prunable layers together" in c for c in specs["lab2_global_iterative_70"].checks
    )
    with pytest.raises(TypeError):
        specs["extra"] = specs["lab3_qat_4bit"]


def test_saved_file_holds_only_cpu_tensors(tmp_path, pruned):
    """Does the file load with weights_only=True into plain, contiguous CPU tensors with the
    keys and values of the model?"""
    net = pruned.to(memory_format=torch.channels_last)
    path = save_submission(net, "lab2_finetune_70", tmp_path / "new")
    assert path == tmp_path / "new" / "lab2_finetune_70.pt"
    state = torch.load(path, weights_only=True)
    assert set(state) == set(ResNetCIFAR().state_dict())
    for key, value in state.items():
        assert type(value) is torch.Tensor, key
        assert value.device.type == "cpu" and value.is_contiguous() and not value.requires_grad
        assert torch.equal(value, net.state_dict()[key])
    assert sorted(p.name for p in path.parent.iterdir()) == ["lab2_finetune_70.pt"]


def test_masks_are_folded_into_the_weights(tmp_path, pruned):
    """Is a model with attached masks saved with the keys of a plain model and its pruned
    weights stored as exactly 0?"""
    net = pretrained_resnet20()
    prune_model(net, 70)
    prepare(net)
    with torch.no_grad():  # what an optimizer may do to the stored weights under a mask
        net.head_conv[0].conv.parametrizations.weight.original.add_(1.0)
    path = save_submission(net, "lab2_finetune_70", tmp_path)
    state = torch.load(path, weights_only=True)
    assert set(state) == set(ResNetCIFAR().state_dict())
    for key, value in plain_state_dict(net).items():
        assert torch.equal(state[key], value)
    reloaded = load_submission("lab2_finetune_70", tmp_path)
    assert (
        reloaded.head_conv[0].conv.weight.eq(0).sum() == pruned.head_conv[0].conv.weight.eq(0).sum()
    )


def test_round_trip_with_the_checkpoints_nbits(tmp_path):
    """Does load_submission rebuild the 4-bit model with the saved weights and the given
    quantizer, in eval mode?"""
    net = pretrained_resnet20(Nbits=4)
    save_submission(net, "lab3_qat_4bit", tmp_path)
    calls = []

    def quantizer(w, bit, symmetric):
        calls.append((bit, symmetric))
        return w

    loaded = load_submission("lab3_qat_4bit", tmp_path, quantizer=quantizer)
    assert (loaded.Nbits, loaded.symmetric, loaded.training) == (4, False, False)
    for key, value in net.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value)
    count_weight_levels(loaded)
    assert calls and set(calls) == {(4, False)}


def test_existing_file_is_replaced_and_a_failed_save_leaves_it(tmp_path, monkeypatch):
    """Is a checkpoint replaced whole, and does an interrupted save keep the old file and
    leave no temporary file?"""
    save_submission(pretrained_resnet20(Nbits=4), "lab3_qat_4bit", tmp_path)
    before = (tmp_path / "lab3_qat_4bit.pt").read_bytes()

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", interrupted)
    net = pretrained_resnet20(Nbits=4)
    with pytest.raises(KeyboardInterrupt):
        save_submission(net, "lab3_qat_4bit", tmp_path)
    assert (tmp_path / "lab3_qat_4bit.pt").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["lab3_qat_4bit.pt"]


@pytest.mark.parametrize("name", ["lab2_finetune", "lab2_finetune_70.pt", ""])
def test_unknown_name_lists_the_valid_ones(tmp_path, pruned, name):
    """Is a name that is not a homework checkpoint refused with the list of names?"""
    with pytest.raises(ValueError, match="lab2_global_iterative_70"):
        save_submission(pruned, name, tmp_path)
    with pytest.raises(ValueError, match="unknown checkpoint name"):
        load_submission(name, tmp_path)


def test_wrong_model_is_refused(tmp_path):
    """Are a deeper ResNet, a model that is no ResNet, and the wrong bit width refused?"""
    with pytest.raises(ValueError, match="must be a ResNet-20, got a ResNet-32"):
        save_submission(ResNetCIFAR(num_layers=32), "lab2_finetune_70", tmp_path)
    with pytest.raises(ValueError, match="weights of a CIFAR ResNet"):
        save_submission(torch.nn.Linear(3, 2), "lab2_finetune_70", tmp_path)
    with pytest.raises(ValueError, match="Nbits=4, symmetric=False; this model has Nbits=None"):
        save_submission(pretrained_resnet20(), "lab3_qat_4bit", tmp_path)
    with pytest.raises(ValueError, match="this model has Nbits=4"):
        save_submission(pretrained_resnet20(Nbits=4), "lab2_finetune_70", tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_missing_file_names_the_part_that_saves_it(tmp_path):
    """Does a missing checkpoint say which notebook part saves it?"""
    with pytest.raises(FileNotFoundError, match=r"part 2\(e\) in lab2_pruning.ipynb"):
        load_submission("lab2_global_iterative_70", tmp_path)


class _Payload:
    """A pickle that runs code when it is unpickled: it creates a marker file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_malicious_pickle_is_refused_without_running_it(tmp_path):
    """Is a checkpoint that would run code when unpickled refused, and its code not run?"""
    marker = tmp_path / "code-ran"
    path = tmp_path / "lab3_qat_4bit.pt"
    torch.save({"weight": _Payload(marker)}, path)
    with pytest.raises(CheckpointError, match="weights_only=True"):
        load_submission("lab3_qat_4bit", tmp_path)
    assert not marker.exists()


def test_checkpoint_of_wrong_shapes_is_refused(tmp_path):
    """Is a file with the keys of a ResNet-20 but other shapes refused, naming the file?"""
    state = ResNetCIFAR().state_dict()
    state["final_fc.linear.weight"] = torch.zeros(100, 64)
    torch.save(state, tmp_path / "lab2_finetune_70.pt")
    with pytest.raises(ValueError, match=r"lab2_finetune_70\.pt does not hold a CIFAR ResNet"):
        load_submission("lab2_finetune_70", tmp_path)
    torch.save(ResNetCIFAR(num_layers=32).state_dict(), tmp_path / "lab2_finetune_70.pt")
    with pytest.raises(ValueError, match="holds a ResNet-32, not a ResNet-20"):
        load_submission("lab2_finetune_70", tmp_path)


def test_sparsity_survives_the_round_trip(tmp_path, pruned):
    """Does a 70 %-pruned model read back with 70 % zeros in every prunable layer?"""
    save_submission(pruned, "lab2_finetune_70", tmp_path)
    report = sparsity_report(load_submission("lab2_finetune_70", tmp_path))
    assert all(0.69 <= row.sparsity <= 0.71 for row in report.layers)
    assert os.path.getsize(tmp_path / "lab2_finetune_70.pt") < 2_000_000
