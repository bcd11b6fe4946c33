"""The functions students write, and what would do their work for them.

A student's function must do the work itself: one that calls or imports a counterpart
earns nothing for it. The static check (:mod:`edu.grading._static`) flags a solution
cell that imports or names one of the counterparts below; at run time the sandbox
goes further, since its ``edu`` holds nothing but the model's building blocks and
torch's own versions of the taught operations refuse
(:mod:`edu.grading._sandbox_edu`), so a call that slips past the static check
(``getattr`` with a computed name, another function that computes the same thing)
is refused when it happens.
"""

from __future__ import annotations

__all__ = ["COUNTERPARTS", "LIBRARY_COUNTERPARTS", "TAUGHT"]

TAUGHT: dict[str, str] = {
    "gradient": "edu.sparse",
    "hard_threshold": "edu.sparse",
    "l1_subgradient": "edu.sparse",
    "soft_threshold": "edu.sparse",
    "trimmed_soft_threshold": "edu.sparse",
    "prune_by_percentage": "edu.prune",
    "global_prune_by_percentage": "edu.prune",
    "finetune_after_prune": "edu.train",
    "STE": "edu.quant",
    "channel_importance": "edu.prune",
    "remove_inner_channels": "edu.prune",
    "kmeans_quantize": "edu.compress",
}
"""Each function students write -> the public package of its reference in ``edu``: the
homework's, then the bonus Lab 4's. The reference is the first of its
:data:`COUNTERPARTS`; it has the student's name except where ``edu``'s is more general
(``remove_inner_channels`` is :func:`edu.prune.remove_channels` with ``criterion="l2"``,
and the student's ``channel_importance(weight)`` is :func:`edu.prune.channel_importance`
of one block's first convolution)."""

COUNTERPARTS: dict[str, tuple[str, ...]] = {
    "gradient": ("edu.sparse.gradient",),
    "hard_threshold": ("edu.sparse.hard_threshold", "edu.sparse._prox._largest_magnitudes"),
    "l1_subgradient": ("edu.sparse.l1_subgradient",),
    "soft_threshold": ("edu.sparse.soft_threshold", "edu.sparse.group_soft_threshold"),
    "trimmed_soft_threshold": (
        "edu.sparse.trimmed_soft_threshold",
        "edu.sparse.group_soft_threshold",
        "edu.sparse._prox._largest_magnitudes",
    ),
    "prune_by_percentage": (
        "edu.prune.prune_by_percentage",
        "edu.prune.prune_model",
        "edu.prune._magnitude._keep",
    ),
    "global_prune_by_percentage": (
        "edu.prune.global_prune_by_percentage",
        "edu.prune.prune_model",
        "edu.prune._magnitude._keep",
    ),
    "finetune_after_prune": (
        "edu.train.finetune_after_prune",
        "edu.train.train_one_epoch",
        "edu.prune.apply_masks",
        "edu.prune.masks_from_nonzeros",
    ),
    "STE": ("edu.quant.STE", "edu.quant.quantize_weights"),
    "channel_importance": ("edu.prune.channel_importance",),
    "remove_inner_channels": ("edu.prune.remove_channels", "edu.prune.channel_importance"),
    "kmeans_quantize": (
        "edu.compress.kmeans_quantize",
        "edu.compress.kmeans_quantizer",
        "edu.compress.share_weights",
    ),
}
"""What in ``edu`` does each taught function's work: the reference itself, and the
functions that compute the same result (``prune_model`` prunes as both pruning
functions do, ``quantize_weights`` is the STE's forward pass, ``group_soft_threshold``
with one-element groups is the soft threshold, ``train_one_epoch`` with masks is the
finetuning epoch; ``kmeans_quantizer`` is ``kmeans_quantize`` as a layer's quantizer and
``share_weights`` shares a model's layers with it; ``remove_channels`` ranks the channels
with ``channel_importance``). The static check flags names and imports of any of them;
in the sandbox they, and everything else of ``edu`` but the model's building blocks,
refuse."""

LIBRARY_COUNTERPARTS: tuple[str, ...] = (
    "softshrink",
    "Softshrink",
    "fake_quantize_per_tensor_affine",
    "fake_quantize_per_channel_affine",
    "quantize_per_tensor",
    "quantize_per_channel",
    "l1_unstructured",
    "global_unstructured",
    "ln_structured",
)
"""torch's routines that are a taught operation (soft thresholding, fake quantization,
magnitude pruning): handing the work to them counts as handing it to ``edu``
(``grader/README.md``). The static check flags these names and the modules
``torch.nn.utils.prune`` and ``torch.ao``; in the sandbox they refuse."""
