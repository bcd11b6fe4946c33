"""Magnitude pruning: per-layer and global thresholds on ``|w|`` (Lab 2 (b) and (e)).

Weights whose magnitude falls below the ``q``-th percentile of the magnitudes are set
to zero, either with one threshold per layer (Han et al., "Learning both Weights and
Connections for Efficient Neural Networks", NeurIPS 2015) or with one threshold for
all prunable layers together, which lets the sparsity differ between layers.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from edu.prune._layers import _select_layers
from edu.prune._masks import _write_keep

__all__ = [
    "GlobalPruning",
    "global_prune_by_percentage",
    "percentile",
    "prune_by_percentage",
    "prune_model",
]

_SCOPES = ("layer", "global")


def _check_q(q: float) -> float:
    if isinstance(q, bool):
        raise TypeError("q must be a number in [0, 100], got a bool")
    q = float(q)
    if not 0.0 <= q <= 100.0:  # also rejects NaN
        raise ValueError(f"q must be a percentage in [0, 100], got {q}")
    return q


def _check_scope(scope: str) -> str:
    """``scope`` if it is ``"layer"`` or ``"global"``; otherwise a ``ValueError``."""
    if scope not in _SCOPES:
        raise ValueError(f"scope must be 'layer' or 'global', got {scope!r}")
    return scope


def percentile(magnitudes: torch.Tensor, q: float) -> float:
    """The ``q``-th percentile of a tensor, exactly as ``numpy.percentile`` computes it.

    Parameters
    ----------
    magnitudes : torch.Tensor
        Any shape (flattened), any device.
    q : float
        Percentage in [0, 100].

    Returns
    -------
    float
        ``float(numpy.percentile(magnitudes, q))``.

    Notes
    -----
    numpy's default "linear" definition (type 7 of Hyndman and Fan, 1996): with the
    :math:`n` values sorted, :math:`v_{(0)} \\le \\dots \\le v_{(n-1)}`, position
    :math:`p = q (n - 1) / 100`, :math:`k = \\lfloor p \\rfloor`, :math:`g = p - k`,
    the percentile is :math:`v_{(k)} + g (v_{(k+1)} - v_{(k)})`. It is computed by
    numpy itself, on the CPU, so that it is bit for bit the course's
    ``np.percentile`` (with numpy >= 2 the result keeps a float32 input's
    precision; :func:`prune_by_percentage` compares ``|w|`` with it in float64,
    as numpy compares an array with a float64 scalar).

    Examples
    --------
    >>> w = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0])
    >>> percentile(w, 25), round(percentile(w, 30), 6)
    (2.0, 2.2)
    """
    q = _check_q(q)
    values = magnitudes.detach().flatten().cpu()
    if values.dtype not in (torch.float32, torch.float64):
        values = values.float()  # numpy has no bfloat16
    values = values.numpy()
    if values.size == 0:
        raise ValueError("the percentile of an empty tensor is undefined")
    return float(np.percentile(values, q))


def _keep(weight: torch.Tensor, threshold: float) -> torch.Tensor:
    """``|w| >= threshold`` compared in float64 (as numpy compares with its float64)."""
    return (weight.detach().abs().double() >= threshold) & (weight != 0)


def prune_by_percentage(layer: nn.Module, q: float) -> torch.Tensor:
    """Zero the weights of ``layer`` below the ``q``-th percentile of ``|w|``, in place.

    Parameters
    ----------
    layer : nn.Module
        A layer with a ``weight`` (``Conv2d``, ``Linear``, their subclasses), masked
        by :func:`prepare` or not.
    q : float
        Percentage in [0, 100]; about ``q`` % of the layer's weights end up zero.

    Returns
    -------
    torch.Tensor
        The boolean keep-mask, shaped like the weight: ``|w| >= t`` and ``w != 0``.

    Notes
    -----
    :math:`t = \\mathrm{percentile}_q(|w|)` (numpy's linear interpolation, see
    :func:`percentile`), :math:`w \\leftarrow w \\odot [|w| \\ge t]`. With :math:`n`
    distinct magnitudes, exactly :math:`\\lceil q (n - 1) / 100 \\rceil` weights are
    pruned. Zeros already in the layer count as the smallest magnitudes and stay
    zero. If the layer is masked, the mask is updated (it only shrinks) and the
    stored weights are zeroed, so the pruning survives finetuning. Course notes,
    :ref:`magnitude-pruning`.

    Examples
    --------
    >>> from torch import nn
    >>> layer = nn.Linear(5, 1, bias=False)
    >>> with torch.no_grad():
    ...     _ = layer.weight.copy_(torch.tensor([[-1.0, 2.0, 3.0, -4.0, 5.0]]))
    >>> prune_by_percentage(layer, 30)
    tensor([[False, False,  True,  True,  True]])
    >>> layer.weight
    Parameter containing:
    tensor([[ 0.,  0.,  3., -4.,  5.]], requires_grad=True)
    """
    threshold = percentile(layer.weight.detach().abs(), q)
    keep = _keep(layer.weight, threshold)
    _write_keep(layer, keep)
    return keep


class GlobalPruning(NamedTuple):
    """What :func:`global_prune_by_percentage` returns: the threshold and the masks."""

    threshold: float
    masks: dict[str, torch.Tensor]


def global_prune_by_percentage(
    net: nn.Module, q: float, layers: Iterable[str] | None = None
) -> GlobalPruning:
    """Prune all prunable layers of ``net`` with one threshold on ``|w|``, in place.

    Parameters
    ----------
    net : nn.Module
    q : float
        Percentage in [0, 100] of all prunable weights taken together to set to 0.
    layers : iterable of str, optional
        Layer names; default all of :func:`prunable_layers`.

    Returns
    -------
    GlobalPruning
        ``(threshold, masks)``: the common threshold :math:`t` and the keep-mask of
        each layer by name.

    Notes
    -----
    :math:`t = \\mathrm{percentile}_q(\\{|w| : w \\text{ in any prunable layer}\\})`,
    then every layer keeps :math:`|w| \\ge t`. Layers whose weights are small
    (wide layers, with small initialization scale) lose more than ``q`` %, small
    layers with large weights (the first convolution, the classifier) less.
    Masked layers are handled as in :func:`prune_by_percentage`. Course notes,
    :ref:`global-pruning`.

    Examples
    --------
    >>> from torch import nn
    >>> net = nn.Sequential(nn.Linear(2, 2, bias=False), nn.Linear(2, 1, bias=False))
    >>> with torch.no_grad():
    ...     _ = net[0].weight.copy_(torch.tensor([[0.1, -0.2], [0.3, 0.4]]))
    ...     _ = net[1].weight.copy_(torch.tensor([[5.0, -6.0]]))
    >>> result = global_prune_by_percentage(net, 50)
    >>> round(result.threshold, 4)
    0.35
    >>> net[0].weight.count_nonzero().item(), net[1].weight.count_nonzero().item()
    (1, 2)
    """
    selected = _select_layers(net, layers)
    if not selected:
        raise ValueError("no prunable layers to prune")
    magnitudes = torch.cat([layer.weight.detach().abs().flatten().cpu() for _, layer in selected])
    threshold = percentile(magnitudes, q)
    masks = {}
    for name, layer in selected:
        masks[name] = _keep(layer.weight, threshold)
        _write_keep(layer, masks[name])
    return GlobalPruning(threshold, masks)


def prune_model(
    net: nn.Module,
    q: float,
    scope: str = "layer",
    *,
    layers: Iterable[str] | None = None,
) -> dict[str, torch.Tensor]:
    """Prune the prunable layers of ``net`` to ``q`` percent, per layer or globally, in place.

    Parameters
    ----------
    net : nn.Module
        Modified in place; masked layers (:func:`prepare`) get their masks updated.
    q : float
        Percentage in [0, 100].
    scope : {"layer", "global"}, default "layer"
        ``"layer"``: :func:`prune_by_percentage` on every layer, one threshold each,
        so every layer loses ``q`` % of its weights. ``"global"``:
        :func:`global_prune_by_percentage`, one threshold for all, so the layers
        together lose ``q`` %.
    layers : iterable of str, optional
        Layer names; default all of :func:`prunable_layers`.

    Returns
    -------
    dict of str to torch.Tensor
        The boolean keep-mask of each pruned layer by name, shaped like its weight
        (empty if ``scope="layer"`` and there is no layer to prune).

    Raises
    ------
    ValueError
        If ``scope`` is neither ``"layer"`` nor ``"global"``, ``q`` is outside
        [0, 100], or ``scope="global"`` finds no layer to prune.
    KeyError
        If a name in ``layers`` is not one of :func:`prunable_layers`.

    Notes
    -----
    Per layer :math:`\\ell`: :math:`t_\\ell = \\mathrm{percentile}_q(|w_\\ell|)`;
    global: :math:`t = \\mathrm{percentile}_q(\\{|w| : w \\text{ in any layer}\\})`;
    then :math:`w \\leftarrow w \\odot [|w| \\ge t]`. The one place where the
    ``scope`` choice of Lab 2 (d) and (e) is made (course notes,
    :ref:`global-pruning`).

    Examples
    --------
    >>> from torch import nn
    >>> net = nn.Sequential(nn.Linear(2, 2, bias=False), nn.Linear(2, 1, bias=False))
    >>> with torch.no_grad():
    ...     _ = net[0].weight.copy_(torch.tensor([[0.1, -0.2], [0.3, 0.4]]))
    ...     _ = net[1].weight.copy_(torch.tensor([[5.0, -6.0]]))
    >>> masks = prune_model(net, 50)  # each layer loses half of its weights
    >>> [int(mask.sum()) for mask in masks.values()]
    [2, 1]
    >>> net[1].weight
    Parameter containing:
    tensor([[ 0., -6.]], requires_grad=True)
    """
    if _check_scope(scope) == "global":
        return global_prune_by_percentage(net, q, layers).masks
    return {name: prune_by_percentage(layer, q) for name, layer in _select_layers(net, layers)}
