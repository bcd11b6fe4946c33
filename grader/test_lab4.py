"""Hidden checks of Lab 4, the bonus assignment ``lab4``: ``channel_importance`` (4 points),
``remove_inner_channels`` (6) and ``kmeans_quantize`` (6).

The functions run in the sandbox on weights and small CIFAR ResNets drawn here with fixed
seeds (``weight`` reaches them as a torch tensor); what comes back is compared in the
grader's process with :func:`edu.prune.channel_importance`,
:func:`edu.prune.remove_channels` and :func:`edu.compress.kmeans_quantize`, and with facts
that do not depend on them: the filter norms in float64, the outputs of the dense model
whose removed channels are cut off (their input slices of each second convolution set to
zero, in eval mode with random BatchNorm statistics), the least-error clustering of a small
vector found by trying every partition, and the fixed point Lloyd's iterations stop at.
Every k-means input converges in well under the 100 iterations the lab allows, so a
faithful implementation of the stated loop gives the reference's values.
"""

import copy
import itertools
import math

import numpy as np
import torch
from _common import from_arrays, to_arrays
from torch import nn

from edu.compress import kmeans_quantize as reference_kmeans
from edu.grading import CheckFailed, check, expect_close, expect_equal, expect_shape
from edu.models import ResNetCIFAR, resnet_from_state_dict
from edu.prune import channel_importance as reference_importance
from edu.prune import remove_channels

SEED = 20_241_004


# -- channel_importance -----------------------------------------------------------------


def _filters(shape, generator) -> torch.Tensor:
    """A random convolution weight whose every third filter is zero."""
    w = torch.randn(shape, generator=generator)
    w[::3] = 0.0
    return w


def _importance(weight: torch.Tensor) -> np.ndarray:
    return reference_importance({"b.conv1.0.conv.weight": weight}, "b", "l2").numpy()


def _what(weight: torch.Tensor) -> str:
    return f"channel_importance(weight) with weight of shape {tuple(weight.shape)}"


@check("test_channel_importance", points=2)
def test_channel_importance_matches_the_reference(lab4_compression):
    """The filter norms of random convolution weights (zero filters included) are right."""
    generator = torch.Generator().manual_seed(SEED)
    for shape in ((16, 3, 3, 3), (32, 16, 3, 3), (64, 32, 1, 1), (5, 7, 5, 5)):
        w = _filters(shape, generator)
        got = lab4_compression.call("channel_importance", w.numpy(), tensors=True)
        expect_close(got, _importance(w), _what(w), rtol=1e-5, atol=1e-6)


@check("test_channel_importance", points=1)
def test_channel_importance_is_the_filter_norm(lab4_compression):
    """Filters s_c u with |u| = 1 have the norms |s_c|: one L2 norm per output filter."""
    rng = np.random.default_rng(SEED + 1)
    u = rng.normal(size=(1, 6, 3, 3))
    u /= np.sqrt((u**2).sum())
    scales = np.array([3.0, -0.5, 0.0, 2.0, 1e-3, 7.0])
    w = (scales[:, None, None, None] * u).astype(np.float32)
    got = lab4_compression.call("channel_importance", w, tensors=True)
    expected = np.sqrt((w.astype(np.float64) ** 2).reshape(len(w), -1).sum(axis=1))
    expect_close(got, expected, f"{_what(torch.from_numpy(w))}, filters of norms |s|", rtol=1e-5)


@check("test_channel_importance", points=1)
def test_channel_importance_leaves_the_weight_alone(lab4_compression):
    """The norms are right and the weight passed in is left unchanged."""
    w = _filters((8, 4, 3, 3), torch.Generator().manual_seed(SEED + 2))
    got, after = lab4_compression.call_and_arguments("channel_importance", w.numpy(), tensors=True)
    expect_close(got, _importance(w), _what(w), rtol=1e-5, atol=1e-6)
    if not np.array_equal(after[0], w.numpy()):
        raise CheckFailed(f"{_what(w)} changed weight (it must only read it)")


# -- remove_inner_channels --------------------------------------------------------------


def _network(num_layers: int, seed: int) -> ResNetCIFAR:
    """A CIFAR ResNet in eval mode with random weights and BatchNorm statistics."""
    torch.manual_seed(seed)
    net = ResNetCIFAR(num_layers=num_layers)
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.weight.uniform_(0.5, 1.5)
                module.bias.normal_(0.0, 0.1)
                module.running_mean.normal_(0.0, 0.1)
                module.running_var.uniform_(0.5, 2.0)
    return net.eval()


def _narrowed(lab4, net: ResNetCIFAR, keep: float):
    """The student's model for ``(net, keep)``, rebuilt here from the weights it sent back;
    its state dict; the state of ``net`` after the call; and the call, for messages."""
    what = f"remove_inner_channels(ResNetCIFAR(num_layers={net.num_layers}), keep={keep})"
    header = {"num_layers": net.num_layers, "keep": keep, "training": net.training}
    reply, out = lab4.request(
        "remove_channels", "remove_inner_channels", header, to_arrays(net.state_dict()), what
    )
    if not reply.get("resnet"):
        raise CheckFailed(f"{what} returned a {reply.get('returned')}, not a ResNetCIFAR")
    state = from_arrays(out)
    try:
        narrow = resnet_from_state_dict(state)
    except (ValueError, RuntimeError) as error:
        raise CheckFailed(f"{what}: the model returned is not a CIFAR ResNet ({error})") from None
    after = {
        key.removeprefix("input/"): torch.from_numpy(np.array(value))
        for key, value in out.items()
        if key.startswith("input/")
    }
    return narrow.eval(), state, after, what


def _same_as_reference(net: ResNetCIFAR, keep: float, state: dict, what: str) -> None:
    expected = remove_channels(net, keep, "l2")
    widths = resnet_from_state_dict(state).inner_channels
    expect_equal(widths, expected.inner_channels, f"{what}: the inner widths")
    for key, value in expected.state_dict().items():
        got = state.get(key)
        if got is None:
            raise CheckFailed(f"{what}: the model returned has no {key}")
        if got.shape != value.shape or not torch.equal(got.to(value.dtype), value):
            raise CheckFailed(
                f"{what}: {key} differs from the expected one (the kept channels are those "
                "of largest conv1 filter norm, ties to the lower index, in their order)"
            )


@check("test_remove_inner_channels", points=2)
def test_remove_inner_channels_matches_the_reference(lab4_compression):
    """Random ResNet-8 and ResNet-14 at keep = 0.25, 0.7, 0.5: every weight and BatchNorm
    statistic of the narrower model is the expected one."""
    for num_layers, keep in ((8, 0.25), (8, 0.7), (14, 0.5)):
        net = _network(num_layers, SEED + 10 + num_layers)
        _, state, _, what = _narrowed(lab4_compression, net, keep)
        _same_as_reference(net, keep, state, what)


def _kept_channels(weight: np.ndarray, width: int) -> np.ndarray:
    """The ``width`` filters of largest L2 norm (float64), ties to the lower index, in order."""
    norms = np.sqrt((weight.astype(np.float64) ** 2).reshape(len(weight), -1).sum(axis=1))
    ranked = sorted(range(len(norms)), key=lambda c: (-norms[c], c))
    return np.sort(ranked[:width])


@check("test_remove_inner_channels", points=2)
def test_remove_inner_channels_computes_what_the_cut_model_computes(lab4_compression):
    """The narrower model's outputs are the dense model's with the removed channels' input
    slices of every conv2 set to zero (eval mode, random BatchNorm statistics)."""
    for num_layers, keep in ((8, 0.5), (14, 0.3)):
        net = _network(num_layers, SEED + 20 + num_layers)
        narrow, _, _, what = _narrowed(lab4_compression, net, keep)
        cut, widths = copy.deepcopy(net), []
        with torch.no_grad():
            for block in cut.body_op:
                weight = block.conv1[0].conv.weight
                width = max(1, math.ceil(keep * weight.shape[0]))
                kept = _kept_channels(weight.numpy(), width)
                removed = np.setdiff1d(np.arange(weight.shape[0]), kept)
                block.conv2[0].conv.weight[:, torch.from_numpy(removed)] = 0.0
                widths.append(width)
        expect_equal(narrow.inner_channels, widths, f"{what}: the inner widths, ceil(keep * width)")
        x = torch.randn(6, 3, 32, 32, generator=torch.Generator().manual_seed(SEED + 21))
        with torch.no_grad():
            expect_close(
                narrow(x).numpy(),
                cut(x).numpy(),
                f"{what}: its outputs on 6 random images, against the dense model's with the "
                "removed channels cut off",
                rtol=1e-4,
                atol=1e-4,
            )


@check("test_remove_inner_channels", points=1)
def test_remove_inner_channels_breaks_ties_to_the_lower_channel(lab4_compression):
    """Filters of equal norms across the cut: the lower-numbered channels are kept."""
    net = _network(8, SEED + 30)
    with torch.no_grad():
        for block in net.body_op:
            weight = block.conv1[0].conv.weight
            scale = torch.tensor([float((7 * c) % 5 + 1) for c in range(weight.shape[0])])
            weight.copy_(weight[:1] * scale.view(-1, 1, 1, 1))  # norms 1 to 5, each repeated
    for keep in (0.5, 0.3):
        _, state, _, what = _narrowed(lab4_compression, net, keep)
        _same_as_reference(net, keep, state, f"{what} with filters of equal norms")


@check("test_remove_inner_channels", points=1)
def test_remove_inner_channels_leaves_the_model_alone(lab4_compression):
    """The narrower model is right, and the model passed in is left unchanged."""
    net = _network(8, SEED + 40)
    _, state, after, what = _narrowed(lab4_compression, net, 0.5)
    _same_as_reference(net, 0.5, state, what)
    for key, value in net.state_dict().items():
        if key not in after or not torch.equal(after[key], value):
            raise CheckFailed(f"{what} changed {key} of the model passed in (build a new one)")


# -- kmeans_quantize --------------------------------------------------------------------


def _sparse(shape, generator, zeros: float = 0.4) -> torch.Tensor:
    w = torch.randn(shape, generator=generator) * 0.1
    w[torch.rand(shape, generator=generator) < zeros] = 0.0
    return w


def _kmeans(lab4, w: torch.Tensor, bits: int):
    what = f"kmeans_quantize(weight, {bits}) with weight of shape {tuple(w.shape)}"
    got, after = lab4.call_and_arguments("kmeans_quantize", w.numpy(), bits, tensors=True)
    return got, after, what


def _compare(lab4, w: torch.Tensor, bits: int):
    got, after, what = _kmeans(lab4, w, bits)
    expect_close(got, reference_kmeans(w, bits).numpy(), what, rtol=1e-5, atol=1e-7)
    return got, after, what


@check("test_kmeans_quantize", points=2)
def test_kmeans_quantize_matches_the_reference(lab4_compression):
    """Random sparse weights at 1 to 4 bits: the shared weights are the reference's."""
    generator = torch.Generator().manual_seed(SEED + 50)
    for bits in (1, 2, 3, 4):
        for shape in ((40,), (16, 8, 3, 3), (32, 16, 3, 3), (10, 64)):
            _compare(lab4_compression, _sparse(shape, generator), bits)


def _best_clustering(values: np.ndarray, k: int) -> np.ndarray:
    """Each value replaced by its group's mean, for the partition into ``k`` groups of
    least squared error, found by trying every one (in one dimension an optimal
    partition's groups are runs of the sorted values)."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    best = None
    for cuts in itertools.combinations(range(1, len(ordered)), k - 1):
        error = sum(((g - g.mean()) ** 2).sum() for g in np.split(ordered, cuts))
        if best is None or error < best[0]:
            best = (error, cuts)
    shared = np.concatenate([np.full(len(g), g.mean()) for g in np.split(ordered, best[1])])
    result = np.empty_like(values)
    result[order] = shared
    return result


def _lloyd_fixed_point(w: np.ndarray, got: np.ndarray, bits: int, what: str) -> None:
    """Fail unless ``got`` is where Lloyd's iterations stop on ``w``'s non-zero entries."""
    nonzero = w != 0
    if np.any(got[~nonzero] != 0) or np.any(got[nonzero] == 0):
        raise CheckFailed(f"{what}: zeros must stay 0 and only they (no weight becomes 0)")
    centroids = np.unique(got[nonzero])
    if len(centroids) > 2**bits:
        raise CheckFailed(f"{what}: {len(centroids)} shared values, more than 2**{bits}")
    values, shared = w[nonzero].astype(np.float64), got[nonzero].astype(np.float64)
    for c in centroids:
        members = values[shared == c]
        if not np.isclose(c, members.mean(), rtol=1e-5, atol=1e-7):
            raise CheckFailed(
                f"{what}: the shared value {c:.6g} is not the mean of its weights "
                f"({members.mean():.6g}): the iterations stopped before convergence"
            )
    distance = np.abs(values[:, None] - centroids[None, :])
    own = np.abs(values - shared)
    if np.any(own > distance.min(axis=1) + 1e-6):
        raise CheckFailed(f"{what}: some weights are not shared with their nearest centroid")


@check("test_kmeans_quantize", points=2)
def test_kmeans_quantize_finds_the_clusters(lab4_compression):
    """On small vectors the clustering is the least-error one found by trying every
    partition; on a random layer, every centroid is its weights' mean and every weight is
    nearest its own centroid (Lloyd's fixed point)."""
    for values, bits in (
        ([0.0, -0.9, -0.8, -0.75, 0.1, 0.0, 0.15, 0.5, 0.58, 0.6, 1.9], 2),
        ([0.3, 0.0, 0.35, -0.4, 0.32, -0.45, 0.0], 1),
    ):
        w = np.array(values, dtype=np.float32)
        got, _, what = _kmeans(lab4_compression, torch.from_numpy(w), bits)
        expected = w.astype(np.float64)
        expected[w != 0] = _best_clustering(expected[w != 0], 2**bits)
        expect_close(got, expected, what, {"weight": w}, rtol=1e-5, atol=1e-6)
    w = _sparse((16, 8, 3, 3), torch.Generator().manual_seed(SEED + 51))
    got, _, what = _kmeans(lab4_compression, w, 3)
    expect_shape(got, tuple(w.shape), what)
    _lloyd_fixed_point(w.numpy(), np.asarray(got), 3, what)


@check("test_kmeans_quantize", points=1)
def test_kmeans_quantize_keeps_zeros_dtype_and_input(lab4_compression):
    """Right values, pruned zeros exactly 0, the weight's dtype, the weight left unchanged."""
    w = _sparse((32, 16, 3, 3), torch.Generator().manual_seed(SEED + 52), zeros=0.7)
    got, after, what = _compare(lab4_compression, w, 4)
    if got.dtype != np.float32:
        raise CheckFailed(f"{what}: returned {got.dtype}, expected weight's dtype float32")
    moved = int((got[w.numpy() == 0] != 0).sum())
    if moved:
        raise CheckFailed(f"{what}: {moved} pruned (zero) weights are no longer 0")
    if not np.array_equal(after[0], w.numpy()):
        raise CheckFailed(f"{what} changed weight (it must return a new tensor)")


@check("test_kmeans_quantize", points=1)
def test_kmeans_quantize_edge_cases(lab4_compression):
    """All zeros stay zeros; at most 2^bits distinct values are returned unchanged; a value
    halfway between two centroids goes to the smaller one."""
    for values, bits in (
        ([0.0, 0.0, 0.0], 1),
        ([0.0, 0.3, 0.3, -0.2, 0.0], 2),
        ([0.5, 0.5, 0.5], 1),
        ([1.0, 2.0, 3.0], 1),
    ):
        w = torch.tensor(values)
        got, _, what = _kmeans(lab4_compression, w, bits)
        expected = reference_kmeans(w, bits).numpy()
        expect_close(got, expected, what, {"weight": w.numpy()}, rtol=1e-6, atol=1e-7)
