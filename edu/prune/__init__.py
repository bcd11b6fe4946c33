"""Magnitude pruning of the CIFAR ResNet: thresholds, masks, schedules, report (Lab 2).

- :func:`prunable_layers` says which layers are pruned (not the ``id_mapping``
  shortcuts);
- :func:`prune_by_percentage` (one threshold per layer) and
  :func:`global_prune_by_percentage` (one for all) zero the small weights, and
  :func:`prune_model` applies either to a whole model (``scope="layer"`` or
  ``"global"``);
- :func:`prepare`, :func:`apply_masks`, :func:`squash_mask` keep them at zero during
  finetuning, in the shape of :mod:`torch.ao.pruning`; :class:`MagnitudePruner`
  drives them from a schedule;
- :func:`iterative_sparsity` and :func:`cubic_sparsity` are the schedules (percent);
- :func:`sparsity_report` counts the zeros;
- :func:`remove_channels` removes whole inner channels of each block, ranked by
  :func:`channel_importance`, into a smaller dense network, and
  :class:`FilterGroupLasso` trains whole channels to zero (:func:`channel_group_norms`
  measures their groups, :func:`live_channels` counts the survivors);
- :func:`sensitivity_scan` measures each layer's accuracy when pruned alone, and
  :func:`sensitivity_sparsities` spends a total sparsity where it costs least.
"""

from edu.prune._channels import CRITERIA, channel_importance, live_channels, remove_channels
from edu.prune._group_lasso import FilterGroupLasso, channel_group_norms
from edu.prune._iterative import IterativePruning
from edu.prune._layers import prunable_layers
from edu.prune._magnitude import (
    GlobalPruning,
    global_prune_by_percentage,
    percentile,
    prune_by_percentage,
    prune_model,
)
from edu.prune._masks import (
    WeightMask,
    apply_masks,
    get_mask,
    masks_from_nonzeros,
    plain_state_dict,
    prepare,
    squash_mask,
    update_masks,
)
from edu.prune._pruner import MagnitudePruner
from edu.prune._report import LayerSparsity, SparsityReport, sparsity_report
from edu.prune._schedules import cubic_sparsity, iterative_sparsity
from edu.prune._sensitivity import SensitivityScan, sensitivity_scan, sensitivity_sparsities

__all__ = [
    "CRITERIA",
    "FilterGroupLasso",
    "GlobalPruning",
    "IterativePruning",
    "LayerSparsity",
    "MagnitudePruner",
    "SensitivityScan",
    "SparsityReport",
    "WeightMask",
    "apply_masks",
    "channel_group_norms",
    "channel_importance",
    "cubic_sparsity",
    "get_mask",
    "global_prune_by_percentage",
    "iterative_sparsity",
    "live_channels",
    "masks_from_nonzeros",
    "percentile",
    "plain_state_dict",
    "prepare",
    "prunable_layers",
    "prune_by_percentage",
    "prune_model",
    "remove_channels",
    "sensitivity_scan",
    "sensitivity_sparsities",
    "sparsity_report",
    "squash_mask",
    "update_masks",
]
