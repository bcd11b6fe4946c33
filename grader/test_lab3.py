"""Hidden checks of Lab 3: the student's STE (14 points) and two checkpoints (10 points).

``STE.apply`` runs in the sandbox on weights drawn here with fixed seeds (with pruned
zeros); its outputs and the gradient it lets through are compared with
:func:`edu.quant.quantize_weights` and the straight-through rule in the grader's
process. The checkpoints are read with ``torch.load(weights_only=True)`` in the
sandbox and measured here with the reference quantizer: weight levels per quantized
layer, zeros, and CIFAR-10 test accuracy with 4-bit weights.
"""

import numpy as np
import torch
from _common import THRESHOLDS, min_accuracy

from edu.grading import CheckFailed, check, expect_close
from edu.models import pretrained_resnet20
from edu.prune import prunable_layers
from edu.quant import QuantConv2d, count_levels, quantize_weights

SEED = 20_241_003


def _weights(shape, generator, zeros=0.4, shift=0.0):
    w = torch.randn(shape, generator=generator) * 0.1 + shift
    w[torch.rand(shape, generator=generator) < zeros] = 0.0
    return w


def _ste(lab3, w, bit, symmetric=False, grad=None):
    what = f"STE.apply(w, {bit!r}, {symmetric}) with w of shape {tuple(w.shape)}"
    arrays = {"w": w.numpy().copy()}
    if grad is not None:
        arrays["grad"] = grad.numpy().copy()
    header = {"bit": bit, "symmetric": symmetric, "backward": grad is not None}
    _, out = lab3.request("ste", "STE", header, arrays, what)
    if "output" not in out:
        raise CheckFailed(f"{what} returned no tensor")
    return out, what


def _compare(lab3, w, bit, symmetric):
    out, what = _ste(lab3, w, bit, symmetric)
    expected = quantize_weights(w, bit, symmetric).numpy()
    expect_close(out["output"], expected, what, rtol=1e-5, atol=1e-6)
    return out["output"], what


# -- asymmetric -------------------------------------------------------------------------


@check("test_ste_asymmetric", points=2)
def test_ste_asymmetric_values(lab3_quantization):
    """Asymmetric quantization of random sparse weights at 1 to 8 bits matches the reference."""
    generator = torch.Generator().manual_seed(SEED)
    for bit in (1, 2, 3, 4, 5, 6, 8):
        for shape in ((7,), (16, 8, 3, 3), (10, 64)):
            _compare(lab3_quantization, _weights(shape, generator), bit, False)


@check("test_ste_asymmetric", points=1)
def test_ste_asymmetric_special_bits(lab3_quantization):
    """bit=None returns w unchanged, bit=0 returns zeros."""
    w = _weights((6, 5), torch.Generator().manual_seed(SEED + 1))
    for bit in (None, 0):
        _compare(lab3_quantization, w, bit, False)


@check("test_ste_asymmetric", points=1)
def test_ste_asymmetric_keeps_zeros_and_levels(lab3_quantization):
    """Right values, pruned zeros exactly 0, and N bits use the 2^N non-zero levels."""
    w = _weights((64, 32), torch.Generator().manual_seed(SEED + 2), zeros=0.6)
    for bit in (2, 3, 4):
        output, what = _compare(lab3_quantization, w, bit, False)
        wq = torch.from_numpy(output)
        moved = int((wq[w == 0] != 0).sum())
        if moved:
            raise CheckFailed(f"{what}: {moved} pruned (zero) weights are no longer 0")
        levels = count_levels(wq[w != 0])
        if levels != 2**bit:
            raise CheckFailed(
                f"{what}: {levels} levels among the non-zero weights, expected the {2**bit} "
                f"that {bit} bits give"
            )


@check("test_ste_asymmetric", points=1)
def test_ste_asymmetric_degenerate_inputs(lab3_quantization):
    """Equal non-zero weights are one level already; an all-zero tensor stays zero."""
    for w in (torch.tensor([0.0, 0.3, 0.3, 0.0]), torch.zeros(5)):
        _compare(lab3_quantization, w, 4, False)


# -- symmetric --------------------------------------------------------------------------


@check("test_ste_symmetric", points=2)
def test_ste_symmetric_values(lab3_quantization):
    """Symmetric quantization of random sparse weights at 2 to 8 bits matches the reference."""
    generator = torch.Generator().manual_seed(SEED + 10)
    for bit in (2, 3, 4, 5, 6, 8):
        for shape in ((9,), (16, 8, 3, 3), (10, 64)):
            _compare(lab3_quantization, _weights(shape, generator, shift=0.02), bit, True)


@check("test_ste_symmetric", points=1)
def test_ste_symmetric_keeps_zeros_and_levels(lab3_quantization):
    """Right values, pruned zeros 0, and N bits use the 2^N - 1 levels, 0 included."""
    w = _weights((64, 32), torch.Generator().manual_seed(SEED + 11), zeros=0.5)
    for bit in (2, 3, 4):
        output, what = _compare(lab3_quantization, w, bit, True)
        wq = torch.from_numpy(output)
        moved = int((wq[w == 0] != 0).sum())
        if moved:
            raise CheckFailed(f"{what}: {moved} pruned (zero) weights are no longer 0")
        if count_levels(wq) != 2**bit - 1:
            raise CheckFailed(
                f"{what}: {count_levels(wq)} levels, expected the {2**bit - 1} (0 included) "
                f"that {bit} bits give"
            )


@check("test_ste_symmetric", points=1)
def test_ste_symmetric_is_odd(lab3_quantization):
    """Q(-w) = -Q(w): the levels are symmetric around 0."""
    w = _weights((40,), torch.Generator().manual_seed(SEED + 12), shift=0.05)
    plus, what = _compare(lab3_quantization, w, 3, True)
    minus, _ = _ste(lab3_quantization, -w, 3, True)
    expect_close(minus["output"], -plus, f"{what}, applied to -w", rtol=1e-5, atol=1e-6)


@check("test_ste_symmetric", points=1)
def test_ste_symmetric_scale(lab3_quantization):
    """The largest |w| is itself a level (scale = max |w| over the non-zero weights)."""
    w = _weights((30,), torch.Generator().manual_seed(SEED + 13), shift=-0.03)
    out, what = _ste(lab3_quantization, w, 4, True)
    got, expected = float(np.abs(out["output"]).max()), float(w.abs().max())
    if not np.isclose(got, expected, rtol=1e-5):
        raise CheckFailed(
            f"{what}: the largest |w_q| is {got:.6g}, expected max |w| = {expected:.6g}"
        )


# -- gradient ---------------------------------------------------------------------------


def _straight_through(lab3, symmetric: bool, seed: int) -> None:
    generator = torch.Generator().manual_seed(seed)
    for bit in (2, 4, 8):
        w = torch.randn(5, 7, generator=generator)
        upstream = torch.randn(5, 7, generator=generator)
        out, what = _ste(lab3, w, bit, symmetric, grad=upstream)
        if "grad" not in out:
            raise CheckFailed(f"{what}: backward gave w no gradient")
        expect_close(out["grad"], upstream.numpy(), f"the gradient of w through {what}")


@check("test_ste_gradient", points=2)
def test_ste_gradient_passes_straight_through(lab3_quantization):
    """Asymmetric: backward returns the upstream gradient unchanged for w."""
    _straight_through(lab3_quantization, False, SEED + 20)


@check("test_ste_gradient", points=1)
def test_ste_gradient_passes_straight_through_symmetric(lab3_quantization):
    """Symmetric: backward returns the upstream gradient unchanged for w."""
    _straight_through(lab3_quantization, True, SEED + 21)


@check("test_ste_gradient", points=1)
def test_ste_gradient_with_pruned_zeros(lab3_quantization):
    """With pruned zeros in w, every entry of w gets the upstream gradient."""
    generator = torch.Generator().manual_seed(SEED + 22)
    w = _weights((6, 6), generator, zeros=0.5)
    upstream = torch.randn(6, 6, generator=generator)
    out, what = _ste(lab3_quantization, w, 3, False, grad=upstream)
    if "grad" not in out:
        raise CheckFailed(f"{what}: backward gave w no gradient")
    expect_close(out["grad"], upstream.numpy(), f"the gradient of w through {what}")


# -- checkpoints ------------------------------------------------------------------------

TOLERANCE = THRESHOLDS["sparsity"]["tolerance"]
EVAL_IMAGES = THRESHOLDS["accuracy"]["eval_images"]


def _finite(checkpoints, name: str) -> None:
    net = checkpoints.model(name)
    for key, value in net.state_dict().items():
        if value.is_floating_point() and not torch.isfinite(value).all():
            raise CheckFailed(f"{name}.pt: {key} holds NaN or infinite values")


def _levels(checkpoints, name: str) -> None:
    counts, budget = checkpoints.weight_levels(name)
    for layer, count in counts.items():
        if not 2 <= count <= budget:
            raise CheckFailed(
                f"{name}.pt, layer {layer}: {count} distinct weight values with 4 bits, "
                f"expected between 2 and {budget}"
            )


def _finetuned(checkpoints, name: str, start: torch.nn.Module, start_name: str) -> None:
    """Fail when the quantized layers hold exactly the weights finetuning starts from.

    A checkpoint stores the float weights that quantization-aware finetuning trains (the
    forward pass quantizes them), so its levels alone cannot tell a finetuned model from
    the model it starts from, or from another checkpoint submitted under this name.
    """
    before = dict(prunable_layers(start))
    for layer, module in prunable_layers(checkpoints.model(name)):
        if isinstance(module, QuantConv2d) and not torch.equal(module.weight, before[layer].weight):
            return
    raise CheckFailed(
        f"{name}.pt holds the weights of {start_name} unchanged: quantization-aware "
        "finetuning changes them"
    )


QUANTIZATION_GAIN = THRESHOLDS["quantization"]["min_gain"]
IMAGES = f"the first {EVAL_IMAGES or 10_000} CIFAR-10 test images"


def _trained_through_quantizer(checkpoints, name: str) -> None:
    """Fail unless the 4-bit weights beat the same weights in float by ``QUANTIZATION_GAIN``.

    A checkpoint stores the float weights that quantization-aware finetuning trains, and
    their levels are counted as the forward pass quantizes them, so any float model has
    the levels of 4 bits. Weights trained through the quantizer are tuned to their 4-bit
    values: quantized, they do better than in float (by 0.019 to 0.032 in the reference
    runs). Weights trained in float (the pretrained model, a float finetune) lose accuracy
    when quantized. ``QUANTIZATION_GAIN`` lies between the two (grader/thresholds.toml).
    The difference is paired on the same images, so its noise is far below that of either
    accuracy.
    """
    quantized = [
        m for _, m in prunable_layers(checkpoints.model(name)) if isinstance(m, QuantConv2d)
    ]
    with torch.no_grad():
        on_grid = all(torch.equal(m.weight, m.quantized_weight()) for m in quantized)
    if on_grid:
        raise CheckFailed(
            f"{name}.pt stores weights already on their 4-bit grid: quantized or not, they "
            "are the same model, so nothing shows they were trained through the quantizer. "
            "Submit the float weights that quantization-aware finetuning trains "
            "(save_submission saves them)"
        )
    accuracy = checkpoints.accuracy(name, EVAL_IMAGES)
    unquantized = checkpoints.accuracy(name, EVAL_IMAGES, quantized=False)
    if accuracy - unquantized < QUANTIZATION_GAIN:
        raise CheckFailed(
            f"{name}.pt: on {IMAGES} its weights score {accuracy:.4f} with 4 bits and "
            f"{unquantized:.4f} in float, a gain of {accuracy - unquantized:+.4f}; weights "
            f"trained through the quantizer gain at least {QUANTIZATION_GAIN}, so these were "
            "probably not (quantization-aware finetuning tunes them to their 4-bit values)"
        )


def _accurate(checkpoints, name: str) -> None:
    """The 4-bit accuracy reaches the threshold, and the weights were trained for the grid."""
    threshold = min_accuracy(name)
    accuracy = checkpoints.accuracy(name, EVAL_IMAGES)
    if accuracy < threshold:
        raise CheckFailed(
            f"{name}.pt with 4-bit weights: test accuracy {accuracy:.4f} on {IMAGES}, "
            f"expected at least {threshold:.4f}"
        )
    _trained_through_quantizer(checkpoints, name)


@check("test_lab3_qat_4bit", points=1)
def test_lab3_qat_4bit_loads(checkpoints):
    """lab3_qat_4bit.pt holds the finite weights of a ResNet-20 (weights_only)."""
    _finite(checkpoints, "lab3_qat_4bit")


@check("test_lab3_qat_4bit", points=1, needs_data=True)
def test_lab3_qat_4bit_levels(checkpoints):
    """Every quantized layer of lab3_qat_4bit.pt uses at most 16 weight values, for weights
    finetuned through the quantizer (not the pretrained model's, and better quantized than
    in float)."""
    _levels(checkpoints, "lab3_qat_4bit")
    _finetuned(checkpoints, "lab3_qat_4bit", pretrained_resnet20(), "the pretrained model")
    _trained_through_quantizer(checkpoints, "lab3_qat_4bit")


@check("test_lab3_qat_4bit", points=3, needs_data=True)
def test_lab3_qat_4bit_accuracy(checkpoints):
    """lab3_qat_4bit.pt with 4-bit weights reaches the course's accuracy threshold, and
    does better with 4 bits than in float (it was trained through the quantizer)."""
    _accurate(checkpoints, "lab3_qat_4bit")


@check("test_lab3_sparse_qat_4bit", points=1)
def test_lab3_sparse_qat_4bit_loads(checkpoints):
    """lab3_sparse_qat_4bit.pt holds the finite weights of a ResNet-20 (weights_only)."""
    _finite(checkpoints, "lab3_sparse_qat_4bit")


SPARSE_STARTS = ("lab2_finetune_70", "lab2_global_iterative_70")
"""The 70 %-sparse checkpoints of Lab 2 that part (d) may start from: (c) or (e)."""


def _sparsity(net) -> float:
    """Fraction of exactly-zero weights over all prunable layers of ``net`` together."""
    weights = torch.cat([m.weight.detach().flatten() for _, m in prunable_layers(net)])
    return int((weights == 0).sum()) / weights.numel()


def _revived(checkpoints, name: str, start_name: str) -> int:
    """How many weights pruned in ``start_name`` are not 0 in ``name``."""
    start = dict(prunable_layers(checkpoints.starting_point(start_name)))
    return sum(
        int((module.weight[start[layer].weight == 0] != 0).sum())
        for layer, module in prunable_layers(checkpoints.model(name))
    )


def _sparse_start(checkpoints, name: str) -> str | None:
    """The 70 %-sparse Lab 2 checkpoint whose zeros ``name`` keeps; None when none of them
    is readable and 70 % sparse.

    Raises CheckFailed when the readable starts all have zeros that ``name`` revived.
    """
    revived = {}
    for start in SPARSE_STARTS:
        try:
            if abs(_sparsity(checkpoints.starting_point(start)) - 0.70) > TOLERANCE:
                continue  # not a 70 %-sparse model: keeping its zeros proves nothing
            revived[start] = _revived(checkpoints, name, start)
        except CheckFailed:
            continue  # not submitted or unreadable: it cannot be the start
        if revived[start] == 0:
            return start
    if not revived:
        return None
    raise CheckFailed(
        f"{name}.pt keeps the zeros of neither 70 %-sparse model of Lab 2: "
        + ", ".join(
            f"{count} weights pruned in {start}.pt are not 0" for start, count in revived.items()
        )
    )


@check("test_lab3_sparse_qat_4bit", points=1)
def test_lab3_sparse_qat_4bit_is_sparse(checkpoints):
    """70 % of the prunable weights are 0, and every zero of the Lab 2 model it starts
    from (lab2_finetune_70.pt or lab2_global_iterative_70.pt) is kept."""
    name = "lab3_sparse_qat_4bit"
    total = checkpoints.total_sparsity(name)
    if abs(total - 0.70) > TOLERANCE:
        raise CheckFailed(
            f"{name}.pt: {total:.2%} of the prunable weights are 0, expected 70 % "
            f"(+/- {TOLERANCE:.0%})"
        )
    _sparse_start(checkpoints, name)


@check("test_lab3_sparse_qat_4bit", points=1, needs_data=True)
def test_lab3_sparse_qat_4bit_levels(checkpoints):
    """Quantized layers use at most 16 levels besides the pruned 0, which stays 0, and
    were finetuned through the quantizer from their Lab 2 start (not its weights
    unchanged, and better quantized than in float)."""
    name = "lab3_sparse_qat_4bit"
    _levels(checkpoints, name)
    try:
        start = _sparse_start(checkpoints, name)
    except CheckFailed:
        start = None  # the zeros are the other check's business
    if start is not None:
        _finetuned(checkpoints, name, checkpoints.starting_point(start), f"{start}.pt")
    for layer, module in prunable_layers(checkpoints.model(name)):
        if isinstance(module, QuantConv2d):
            with torch.no_grad():
                moved = int((module.quantized_weight()[module.weight == 0] != 0).sum())
            if moved:
                raise CheckFailed(f"{name}.pt, layer {layer}: quantization moves {moved} zeros")
    _trained_through_quantizer(checkpoints, name)


@check("test_lab3_sparse_qat_4bit", points=2, needs_data=True)
def test_lab3_sparse_qat_4bit_accuracy(checkpoints):
    """lab3_sparse_qat_4bit.pt with 4-bit weights reaches the course's accuracy threshold,
    and does better with 4 bits than in float (it was trained through the quantizer)."""
    _accurate(checkpoints, "lab3_sparse_qat_4bit")
