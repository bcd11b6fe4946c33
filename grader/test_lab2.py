"""Hidden checks of Lab 2: the pruning functions (4 points each) and two checkpoints.

The functions run in the sandbox on layers and small CIFAR ResNets built from weights
drawn here with fixed seeds; what they leave in the weights is compared, weight by
weight, with :mod:`edu.prune` and :mod:`edu.train` in the grader's process. The
checkpoints are read with ``torch.load(weights_only=True)`` in the sandbox and
measured here: the zeros of every prunable layer and the CIFAR-10 test accuracy
(thresholds in ``thresholds.toml``).
"""

import copy
import functools

import numpy as np
import torch
from _common import THRESHOLDS, from_arrays, min_accuracy, sandbox_threads, to_arrays
from torch import nn

from edu import prune as reference
from edu.grading import CheckFailed, check
from edu.models import ResNetCIFAR
from edu.train import finetune_after_prune as reference_finetune

SEED = 20_241_002
NUM_LAYERS = 8  # ResNet-8: every kind of layer of ResNet-20, a tenth of the weights


def _pruned_layer(lab2, kind: str, layer: nn.Module, q: float):
    weight = layer.weight.detach().numpy().copy()
    what = f"prune_by_percentage({layer}, q={q})"
    _, out = lab2.request(
        "prune_layer", "prune_by_percentage", {"kind": kind, "q": q}, {"weight": weight}, what
    )
    return out, what


def _layers(seed: int):
    torch.manual_seed(seed)
    return [
        ("conv", nn.Conv2d(8, 16, 3)),
        ("linear", nn.Linear(64, 10)),
        ("conv", nn.Conv2d(3, 4, 1)),
    ]


def _compare_weights(got: np.ndarray, expected: torch.Tensor, what: str) -> None:
    expected = expected.detach().numpy()
    if got.shape != expected.shape:
        raise CheckFailed(f"{what}: the weight has shape {got.shape}, expected {expected.shape}")
    wrong = int((got != expected).sum())
    if wrong:
        raise CheckFailed(
            f"{what}: expected {int((expected == 0).sum())} zeros of {expected.size} weights, "
            f"got {int((got == 0).sum())}; {wrong} weights differ from the expected ones "
            "(threshold: the q-th percentile of |w| as numpy.percentile computes it; "
            "keep |w| >= threshold)"
        )


# -- prune_by_percentage ----------------------------------------------------------------


@check("test_prune_by_percentage", points=2)
def test_prune_by_percentage_matches_the_reference(lab2_pruning):
    """Layers pruned at q = 12.5, 30, 50, 70, 93.3 % lose exactly the expected weights."""
    for q in (12.5, 30, 50, 70, 93.3):
        for kind, layer in _layers(SEED):
            out, what = _pruned_layer(lab2_pruning, kind, layer, q)
            expected = copy.deepcopy(layer)
            reference.prune_by_percentage(expected, q)
            _compare_weights(out["weight"], expected.weight, what)


@check("test_prune_by_percentage", points=1)
def test_prune_by_percentage_returns_the_keep_mask(lab2_pruning):
    """The layer is pruned right and the returned mask is True exactly where it keeps."""
    for kind, layer in _layers(SEED + 1):
        out, what = _pruned_layer(lab2_pruning, kind, layer, 60)
        if "returned" not in out:
            raise CheckFailed(f"{what} returned nothing usable; expected the boolean keep-mask")
        mask, weight = out["returned"], out["weight"]
        if mask.shape != weight.shape or mask.dtype.kind not in "bui":
            raise CheckFailed(
                f"{what} returned an array of shape {mask.shape} and dtype {mask.dtype}; "
                f"expected booleans of the weight's shape {weight.shape}"
            )
        expected = copy.deepcopy(layer)
        keep = reference.prune_by_percentage(expected, 60).numpy()
        _compare_weights(weight, expected.weight, what)  # a mask of the right pruning only
        wrong = int((mask.astype(bool) != keep).sum())
        if wrong:
            raise CheckFailed(
                f"{what}: the returned mask disagrees with the kept weights at {wrong} places"
            )


@check("test_prune_by_percentage", points=1)
def test_prune_by_percentage_on_a_pruned_layer(lab2_pruning):
    """Pruning again keeps the earlier zeros (they count as the smallest magnitudes)."""
    torch.manual_seed(SEED + 2)
    layer = nn.Conv2d(16, 32, 3)
    reference.prune_by_percentage(layer, 40)
    out, what = _pruned_layer(lab2_pruning, "conv", layer, 75)
    expected = copy.deepcopy(layer)
    reference.prune_by_percentage(expected, 75)
    _compare_weights(out["weight"], expected.weight, f"{what} on a layer already 40 % pruned")


# -- global_prune_by_percentage ---------------------------------------------------------


def _global(lab2, q: float, seed: int):
    torch.manual_seed(seed)
    net = ResNetCIFAR(num_layers=NUM_LAYERS)
    what = f"global_prune_by_percentage(ResNetCIFAR(num_layers={NUM_LAYERS}), q={q})"
    _, out = lab2.request(
        "global_prune",
        "global_prune_by_percentage",
        {"q": q, "num_layers": NUM_LAYERS},
        to_arrays(net.state_dict()),
        what,
    )
    expected = copy.deepcopy(net)
    result = reference.global_prune_by_percentage(expected, q)
    return net, expected, result, out, what


@check("test_global_prune_by_percentage", points=2)
def test_global_prune_matches_the_reference(lab2_pruning):
    """One threshold over all prunable layers: every layer loses the expected weights."""
    for q in (25, 50, 70, 90):
        _, expected, _, out, what = _global(lab2_pruning, q, SEED + 10)
        got = from_arrays(out)
        for name, layer in reference.prunable_layers(expected):
            _compare_weights(got[f"{name}.weight"].numpy(), layer.weight, f"{what}, layer {name}")


@check("test_global_prune_by_percentage", points=1)
def test_global_prune_leaves_the_rest_alone(lab2_pruning):
    """The prunable layers are pruned right; shortcuts, batch norms and biases are not."""
    net, expected, _, out, what = _global(lab2_pruning, 70, SEED + 11)
    got = from_arrays(out)
    for name, layer in reference.prunable_layers(expected):  # a no-op leaves all alone
        _compare_weights(got[f"{name}.weight"].numpy(), layer.weight, f"{what}, layer {name}")
    prunable = {f"{name}.weight" for name, _ in reference.prunable_layers(net)}
    for key, value in net.state_dict().items():
        if key not in prunable and not torch.equal(got[key], value):
            raise CheckFailed(f"{what} changed {key}, which is not a prunable layer's weight")


@check("test_global_prune_by_percentage", points=1)
def test_global_prune_returns_the_threshold(lab2_pruning):
    """The returned value is the common threshold."""
    _, _, result, out, what = _global(lab2_pruning, 50, SEED + 12)
    if "returned" not in out:
        raise CheckFailed(f"{what} returned nothing usable; expected the threshold (a float)")
    got = float(out["returned"])
    if not abs(got - result.threshold) <= 1e-6 * max(1.0, result.threshold):
        raise CheckFailed(f"{what}: expected the threshold {result.threshold:.6g}, got {got:.6g}")


# -- finetune_after_prune ---------------------------------------------------------------

FINETUNE = {"lr": 0.05, "momentum": 0.9, "weight_decay": 5e-4, "batch_size": 6}


@functools.cache
def _finetune_case(prune: bool, seed: int):
    """A 70 % pruned ResNet-8, four batches, and the reference's model after one epoch.

    The same for every submission (fixed seed): computed once per grading process.
    """
    torch.manual_seed(seed)
    net = ResNetCIFAR(num_layers=NUM_LAYERS)
    with torch.no_grad():
        for _, layer in reference.prunable_layers(net):
            layer.weight.mul_(torch.rand_like(layer.weight) > 0.7)
    x, y = torch.randn(24, 3, 32, 32), torch.randint(0, 10, (24,))
    expected = copy.deepcopy(net)
    optimizer = torch.optim.SGD(
        expected.parameters(),
        lr=FINETUNE["lr"],
        momentum=FINETUNE["momentum"],
        weight_decay=FINETUNE["weight_decay"],
    )
    size = FINETUNE["batch_size"]
    batches = [(x[i : i + size], y[i : i + size]) for i in range(0, len(y), size)]
    with sandbox_threads():
        reference_finetune(
            expected, batches, nn.CrossEntropyLoss(), optimizer, prune=prune, progress=False
        )
    return net, expected, x, y


def _finetune(lab2, prune: bool, seed: int):
    net, expected, x, y = _finetune_case(prune, seed)
    what = (
        f"finetune_after_prune(ResNetCIFAR(num_layers={NUM_LAYERS}) 70 % pruned, 4 batches of 6, "
        f"CrossEntropyLoss, SGD(lr=0.05, momentum=0.9, weight_decay=5e-4), prune={prune})"
    )
    _, out = lab2.request(
        "finetune",
        "finetune_after_prune",
        {"num_layers": NUM_LAYERS, "prune": prune, **FINETUNE},
        {**to_arrays(net.state_dict()), "x": x.numpy(), "y": y.numpy()},
        what,
    )
    return net, expected, from_arrays(out), what


@check("test_finetune_after_prune", points=2)
def test_finetune_keeps_pruned_weights_at_zero(lab2_pruning):
    """With prune=True, pruned weights stay exactly 0 and the others train as expected."""
    net, expected, got, what = _finetune(lab2_pruning, True, SEED + 20)
    trained = dict(reference.prunable_layers(expected))
    for name, layer in reference.prunable_layers(net):
        pruned = layer.weight == 0
        after = got[f"{name}.weight"]
        revived = int((after[pruned] != 0).sum())
        if revived:
            raise CheckFailed(f"{what}: {revived} pruned weights of {name} are no longer 0")
        # the zeros count only with the training they are kept through: the weights must
        # move as the reference's do (up to float32 sums over other thread counts)
        step = trained[name].weight.detach() - layer.weight.detach()
        error = float((after - trained[name].weight.detach()).norm() / step.norm())
        if error > 0.05:
            raise CheckFailed(
                f"{what}: the weights of {name} did not train as expected (their change "
                f"differs from the expected one by {error:.0%} of it)"
            )


@check("test_finetune_after_prune", points=1)
def test_finetune_with_mask_matches_the_reference(lab2_pruning):
    """One epoch with prune=True gives the reference's weights (same batches, optimizer)."""
    _, expected, got, what = _finetune(lab2_pruning, True, SEED + 21)
    _compare_states(got, expected.state_dict(), what)


@check("test_finetune_after_prune", points=1)
def test_finetune_without_mask_matches_the_reference(lab2_pruning):
    """One epoch with prune=False lets pruned weights grow back, as the reference does."""
    _, expected, got, what = _finetune(lab2_pruning, False, SEED + 22)
    _compare_states(got, expected.state_dict(), what)


def _compare_states(got: dict, expected: dict, what: str) -> None:
    for key, value in expected.items():
        if key not in got:
            raise CheckFailed(f"{what}: the model has no {key} afterwards")
        # a right step may still sum in another order than the reference (its own loss
        # or optimizer call); a wrong step (no zero_grad, mask before step, ...) differs
        # by far more.
        if not torch.allclose(got[key].float(), value.float(), rtol=1e-3, atol=1e-4):
            error = float((got[key].float() - value.float()).abs().max())
            raise CheckFailed(
                f"{what}: after one epoch {key} differs from the expected one (largest "
                f"difference {error:.3g}; every batch is one step: zero_grad, forward, loss, "
                "backward, step, then the mask)"
            )


# -- checkpoints ------------------------------------------------------------------------

TOLERANCE = THRESHOLDS["sparsity"]["tolerance"]
EVAL_IMAGES = THRESHOLDS["accuracy"]["eval_images"]
MIN_GLOBAL_SPREAD = 0.10
"""Least difference between the sparsest and the densest layer of a global pruning (the
reference's layers range from 19 % to 95 % zeros; per-layer pruning gives 70 % in each)."""


@check("test_lab2_finetune_70", points=1)
def test_lab2_finetune_70_loads(checkpoints):
    """lab2_finetune_70.pt holds the finite weights of a ResNet-20 (weights_only)."""
    _finite(checkpoints, "lab2_finetune_70")


@check("test_lab2_finetune_70", points=1)
def test_lab2_finetune_70_is_70_percent_sparse_in_every_layer(checkpoints):
    """Every prunable layer of lab2_finetune_70.pt has 70 % zeros."""
    for layer, sparsity in checkpoints.layer_sparsity("lab2_finetune_70").items():
        if abs(sparsity - 0.70) > TOLERANCE:
            raise CheckFailed(
                f"lab2_finetune_70.pt, layer {layer}: {sparsity:.2%} of the weights are 0, "
                f"expected 70 % (+/- {TOLERANCE:.0%}) in every prunable layer"
            )


@check("test_lab2_finetune_70", points=2, needs_data=True)
def test_lab2_finetune_70_accuracy(checkpoints):
    """lab2_finetune_70.pt reaches the course's test accuracy threshold."""
    _accurate(checkpoints, "lab2_finetune_70")


@check("test_lab2_global_iterative_70", points=1)
def test_lab2_global_iterative_70_loads(checkpoints):
    """lab2_global_iterative_70.pt holds the finite weights of a ResNet-20 (weights_only)."""
    _finite(checkpoints, "lab2_global_iterative_70")


@check("test_lab2_global_iterative_70", points=1)
def test_lab2_global_iterative_70_is_70_percent_sparse_overall(checkpoints):
    """The prunable layers of lab2_global_iterative_70.pt together have 70 % zeros, unevenly
    spread (one threshold for all, not 70 % in each)."""
    sparsity = checkpoints.total_sparsity("lab2_global_iterative_70")
    if abs(sparsity - 0.70) > TOLERANCE:
        raise CheckFailed(
            f"lab2_global_iterative_70.pt: {sparsity:.2%} of all prunable weights are 0, "
            f"expected 70 % (+/- {TOLERANCE:.0%})"
        )
    layers = checkpoints.layer_sparsity("lab2_global_iterative_70").values()
    if max(layers) - min(layers) < MIN_GLOBAL_SPREAD:
        raise CheckFailed(
            f"lab2_global_iterative_70.pt: every layer has {min(layers):.0%} to "
            f"{max(layers):.0%} zeros; one threshold over all layers prunes them unevenly "
            f"(layers differ by at least {MIN_GLOBAL_SPREAD:.0%}), as a per-layer pruning "
            "does not"
        )


@check("test_lab2_global_iterative_70", points=2, needs_data=True)
def test_lab2_global_iterative_70_accuracy(checkpoints):
    """lab2_global_iterative_70.pt reaches the course's test accuracy threshold."""
    _accurate(checkpoints, "lab2_global_iterative_70")


def _finite(checkpoints, name: str) -> None:
    net = checkpoints.model(name)
    for key, value in net.state_dict().items():
        if value.is_floating_point() and not torch.isfinite(value).all():
            raise CheckFailed(f"{name}.pt: {key} holds NaN or infinite values")


def _accurate(checkpoints, name: str) -> None:
    threshold = min_accuracy(name)
    accuracy = checkpoints.accuracy(name, EVAL_IMAGES)
    if accuracy < threshold:
        images = EVAL_IMAGES or 10_000
        raise CheckFailed(
            f"{name}.pt: test accuracy {accuracy:.4f} on the first {images} CIFAR-10 test "
            f"images, expected at least {threshold:.4f}"
        )
