"""The measurements and checks recorded for every row."""

import pytest
import torch

from edu.experiments import check_saved_model, level_budget, summarize
from edu.models import resnet_from_state_dict
from edu.prune import masks_from_nonzeros, prune_model
from edu.train import save_checkpoint


@pytest.mark.parametrize(
    ("nbits", "symmetric", "pruned", "budget"),
    [(4, False, False, 16), (4, False, True, 17), (2, False, True, 5), (3, True, True, 7)],
)
def test_level_budget(nbits, symmetric, pruned, budget):
    """Is the budget 2^N (+1 for the pruned zeros), or 2^N - 1 when symmetric?"""
    assert level_budget(nbits, symmetric, pruned) == budget


def test_summarize_reports_accuracy_sparsity_and_levels(make_experiment):
    """Does summarize give loss, accuracy, sparsity and levels of the 20 prunable layers?"""
    exp = make_experiment()
    net = exp.model(Nbits=3)
    summary = summarize(net, exp.test_loader, exp.device)
    assert summary["num_images"] == 10
    assert 0.0 <= summary["test_accuracy"] <= 1.0
    assert len(summary["sparsity"]["layers"]) == 20
    assert max(summary["weight_levels"].values()) <= 8


@pytest.fixture
def pruned_model(tmp_path, float_weights):
    """A ResNet-20 pruned to 70 % per layer, saved as a row's model.pt, and its masks."""
    net = resnet_from_state_dict(float_weights)
    prune_model(net, 70)
    path = save_checkpoint(tmp_path / "model.pt", {"state_dict": net.state_dict()})
    return path, masks_from_nonzeros(net), net


def test_saved_sparse_model_passes_its_checks(pruned_model):
    """Are the pruned zeros counted and the 2-bit levels within 2^2 + 1 on the saved file?"""
    path, masks, _ = pruned_model
    facts = check_saved_model(path, masks, nbits=2)
    assert facts["pruned_zero_ok"] and facts["levels_ok"]
    assert facts["pruned_weights"] == sum(int((~mask).sum()) for mask in masks.values())
    assert facts["level_budget"] == 5 and facts["max_levels"] <= 5


def test_a_revived_pruned_weight_is_caught(pruned_model):
    """Does one pruned weight that is no longer 0 in the file fail the check?"""
    path, masks, net = pruned_model
    layer = net.body_op[4].conv2[0].conv
    revived = (~masks["body_op.4.conv2.0.conv"]).nonzero()[0]
    with torch.no_grad():
        layer.weight[tuple(revived)] = 0.5
    save_checkpoint(path, {"state_dict": net.state_dict()})
    facts = check_saved_model(path, masks)
    assert facts["pruned_nonzero"] == 1 and not facts["pruned_zero_ok"]
