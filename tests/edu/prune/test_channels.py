"""Channel pruning: removal against the masked model, rankings against brute force."""

import copy

import pytest
import torch
from torch import nn

from edu.compress import load_compressed, save_compressed
from edu.models import ResNetCIFAR, resnet_from_state_dict
from edu.prune import (
    FilterGroupLasso,
    channel_group_norms,
    channel_importance,
    live_channels,
    prune_model,
    remove_channels,
)
from edu.sparse import group_soft_threshold
from edu.train import load_state_dict


def _random_resnet(seed=0, num_layers=8):
    """A ResNet in eval mode with random BatchNorm statistics and affine terms.

    Fresh BatchNorm (mean 0, variance 1, scale 1, shift 0) would hide a removal that
    kept the wrong statistics; random ones make every channel distinct.
    """
    torch.manual_seed(seed)
    net = ResNetCIFAR(num_layers=num_layers)
    for module in net.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.normal_()
            module.running_var.uniform_(0.5, 2.0)
            module.weight.data.normal_()
            module.bias.data.normal_()
    return net.eval()


def _kept_by_brute_force(scores, width):
    """Indices of the ``width`` largest scores, ties to lower index, by sorting pairs."""
    pairs = sorted(range(len(scores)), key=lambda c: (-float(scores[c]), c))
    return sorted(pairs[:width])


def _masked(net, kept_per_block):
    """``net`` with the input slices of every removed channel in each conv2 set to zero."""
    masked = copy.deepcopy(net)
    for block, kept in zip(masked.body_op, kept_per_block, strict=True):
        weight = block.conv2[0].conv.weight
        removed = [c for c in range(weight.shape[1]) if c not in kept]
        with torch.no_grad():
            weight[:, removed] = 0
    return masked


@pytest.mark.parametrize("criterion", ["l2", "bn"])
@pytest.mark.parametrize("keep", [0.5, 0.3, [1, 16, 7]])
def test_removal_computes_what_the_masked_model_computes(criterion, keep):
    """Do the narrower model's outputs equal those of the model with the slices zeroed?"""
    net = _random_resnet()
    state = net.state_dict()
    widths = [8, 16, 32] if keep == 0.5 else [5, 10, 20] if keep == 0.3 else keep
    kept = []
    for index, width in enumerate(widths):
        block = f"body_op.{index}"
        if criterion == "l2":
            weight = state[f"{block}.conv1.0.conv.weight"]
            scores = [float(torch.sqrt((weight[c] ** 2).sum())) for c in range(weight.shape[0])]
        else:
            scores = [abs(float(g)) for g in state[f"{block}.conv1.0.bn.weight"]]
        kept.append(_kept_by_brute_force(scores, width))
    small = remove_channels(net, keep, criterion)
    assert small.inner_channels == widths
    x = torch.randn(6, 3, 32, 32)
    torch.testing.assert_close(small(x), _masked(net, kept)(x), rtol=1e-5, atol=1e-5)
    assert not small.training and net.inner_channels == [16, 32, 64]  # the input is untouched


def test_removed_model_has_the_shapes_of_a_narrower_dense_network():
    """Are the convolutions and BatchNorms sized by the kept width, the residual path not?"""
    small = remove_channels(_random_resnet(num_layers=20), 0.25)
    for block, (stage_width, inner) in zip(
        small.body_op, [(16, 4)] * 3 + [(32, 8)] * 3 + [(64, 16)] * 3, strict=True
    ):
        conv1, conv2 = block.conv1[0].conv, block.conv2[0].conv
        assert conv1.weight.shape[0] == inner and conv2.weight.shape[:2] == (stage_width, inner)
        assert block.conv1[0].bn.running_mean.shape == (inner,)
        assert block.conv2[0].bn.weight.shape == (stage_width,)
    assert small.final_fc.linear.weight.shape == (10, 64)


def test_channel_pruned_checkpoint_rebuilds_itself(tmp_path):
    """Does its own checkpoint, and its compressed file, rebuild the narrower model?"""
    small = remove_channels(_random_resnet(), [3, 9, 30])
    torch.save(small.state_dict(), tmp_path / "small.pt")
    rebuilt = resnet_from_state_dict(load_state_dict(tmp_path / "small.pt")).eval()
    assert rebuilt.inner_channels == [3, 9, 30]
    x = torch.randn(2, 3, 32, 32)
    assert torch.equal(rebuilt(x), small(x))
    save_compressed(small, tmp_path / "small.edu")
    loaded = load_compressed(tmp_path / "small.edu").eval()
    assert loaded.inner_channels == [3, 9, 30]
    assert torch.equal(loaded(x), small(x))


def test_removal_folds_pruning_masks_and_keeps_quantization():
    """Is a masked, quantized model pruned from its masked weights, its grid kept?"""
    net = ResNetCIFAR(num_layers=8, Nbits=4)
    prune_model(net, 50)
    small = remove_channels(net, 0.5)
    assert small.Nbits == 4 and small.body_op[0].conv1[0].conv.nbits == 4
    assert float((small.body_op[0].conv2[0].conv.weight == 0).float().mean()) > 0.3


def test_importance_ranks_a_zeroed_filter_last():
    """Is a channel whose filter (or scale) is zero the first one removed?"""
    net = _random_resnet()
    with torch.no_grad():
        net.body_op[1].conv1[0].conv.weight[5] = 0
        net.body_op[1].conv1[0].bn.weight[7] = 0
    state = net.state_dict()
    assert int(channel_importance(state, "body_op.1", "l2").argmin()) == 5
    assert int(channel_importance(state, "body_op.1", "bn").argmin()) == 7


@pytest.mark.parametrize(
    ("keep", "message"),
    [(0.0, "fraction"), (1.5, "fraction"), ([8, 8], "each of the 3"), ([0, 8, 8], "between 1")],
)
def test_bad_keep_is_refused(keep, message):
    with pytest.raises(ValueError, match=message):
        remove_channels(ResNetCIFAR(num_layers=8), keep)


def test_bad_criterion_and_model_are_refused():
    with pytest.raises(ValueError, match="criterion"):
        remove_channels(ResNetCIFAR(num_layers=8), 0.5, "l1")
    with pytest.raises(ValueError, match="ResNetCIFAR"):
        remove_channels(nn.Linear(2, 2), 0.5)


def _groups_by_hand(block):
    """Each inner channel's group as a flat vector: its conv1 filter, then its conv2 slice."""
    conv1, conv2 = block.conv1[0].conv.weight.detach(), block.conv2[0].conv.weight.detach()
    return [torch.cat([conv1[c].flatten(), conv2[:, c].flatten()]) for c in range(len(conv1))]


def test_group_lasso_step_is_block_soft_thresholding():
    """Is every group scaled by max(0, 1 - t / ||g||), the closed form, with t = lr * lam?"""
    net = _random_resnet()
    before = [_groups_by_hand(block) for block in net.body_op]
    norms = torch.cat([torch.stack([g.norm() for g in groups]) for groups in before]).sort()
    threshold = float(norms.values[55] + norms.values[56]) / 2  # 56 of the 112 groups die
    optimizer = torch.optim.SGD(net.parameters(), lr=0.5)
    FilterGroupLasso(optimizer, strength=threshold / 0.5).after_step(net)
    for block, groups in zip(net.body_op, before, strict=True):
        for group, after in zip(groups, _groups_by_hand(block), strict=True):
            scale = max(0.0, 1.0 - threshold / float(group.norm()))
            torch.testing.assert_close(after, scale * group, rtol=1e-6, atol=1e-7)
    dead = sum(int(g.norm() <= threshold) for groups in before for g in groups)
    assert dead == 56
    assert live_channels(net) == [
        max(1, sum(int(g.norm() > threshold) for g in groups)) for groups in before
    ]


def test_group_lasso_matches_lab_1s_prox_on_one_block():
    """Does the hook agree with Lab 1's ``group_soft_threshold`` on the same groups?"""
    net = _random_resnet()
    groups = _groups_by_hand(net.body_op[0])
    flat = torch.cat(groups).double().numpy()
    size = groups[0].numel()
    expected = group_soft_threshold(flat, 0.8, [range(c * size, (c + 1) * size) for c in range(16)])
    FilterGroupLasso(torch.optim.SGD(net.parameters(), lr=0.1), strength=8.0).after_step(net)
    after = torch.cat(_groups_by_hand(net.body_op[0])).double()
    torch.testing.assert_close(after, torch.from_numpy(expected), rtol=1e-6, atol=1e-7)


def test_training_with_group_lasso_kills_channels_that_then_leave_for_free(random_batches):
    """After proximal SGD, does removing the dead channels leave the outputs unchanged?"""
    net = _random_resnet(seed=1).train()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    hook = FilterGroupLasso(optimizer, strength=20.0)
    for x, y in random_batches(num_batches=3):
        optimizer.zero_grad()
        nn.functional.cross_entropy(net(x), y).backward()
        optimizer.step()
        hook.after_step(net)
    net.eval()
    alive = live_channels(net)
    assert sum(alive) < 112
    small = remove_channels(net, alive)
    x = torch.randn(4, 3, 32, 32)
    torch.testing.assert_close(small(x), net(x), rtol=1e-5, atol=1e-5)


def test_group_norms_are_the_norms_of_the_groups_the_prox_zeroes():
    """Are the measured norms those of the hand-made groups, and are the groups the prox
    kills exactly those at or below its threshold, and after it exactly zero?"""
    net = _random_resnet(seed=2)
    before = channel_group_norms(net)
    assert [len(n) for n in before] == [16, 32, 64]
    for block, norms in zip(net.body_op, before, strict=True):
        by_hand = torch.stack([g.norm() for g in _groups_by_hand(block)])
        torch.testing.assert_close(norms, by_hand, rtol=1e-6, atol=0)
    threshold = float(torch.cat(before).median())
    FilterGroupLasso(torch.optim.SGD(net.parameters(), lr=1.0), threshold).after_step(net)
    for norms, after in zip(before, channel_group_norms(net), strict=True):
        assert torch.equal(after == 0, norms <= threshold)
        torch.testing.assert_close(after, (norms - threshold).clamp(min=0), rtol=1e-5, atol=1e-6)


def test_group_lasso_refuses_a_negative_strength():
    with pytest.raises(ValueError, match="non-negative"):
        FilterGroupLasso(torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1), -1)
