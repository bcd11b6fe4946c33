"""How many distinct weight values the quantized layers use (checks of Lab 3).

The non-zero weights of an ``N``-bit layer take at most :math:`2^N` values with the
asymmetric quantizer (0 can be one of them, when the grid contains it) and at most
:math:`2^N - 1` with the symmetric one (0 always among them); a pruned layer adds its
zeros, which the asymmetric grid may not contain. Counting them on a checkpoint shows
whether it was quantized.
"""

from __future__ import annotations

import torch
from torch import nn

from edu.quant._layers import QuantConv2d, QuantLinear

__all__ = ["count_levels", "count_weight_levels", "quantized_layers"]


def quantized_layers(net: nn.Module) -> list[tuple[str, nn.Module]]:
    """The ``(name, module)`` pairs of the layers that quantize their weights.

    Parameters
    ----------
    net : nn.Module
        Any model; its submodules are visited with ``named_modules()``.

    Returns
    -------
    list of (str, nn.Module)
        Every :class:`QuantConv2d` and :class:`QuantLinear` with ``nbits`` not
        ``None``, in module order.

    Examples
    --------
    >>> net = torch.nn.Sequential(QuantLinear(3, 2, nbits=4), QuantLinear(2, 1, nbits=None))
    >>> [name for name, _ in quantized_layers(net)]
    ['0']
    """
    return [
        (name, module)
        for name, module in net.named_modules()
        if isinstance(module, (QuantConv2d, QuantLinear)) and module.nbits is not None
    ]


def count_levels(tensor: torch.Tensor) -> int:
    """Number of distinct values in ``tensor`` (``-0.0`` and ``0.0`` count as one).

    Parameters
    ----------
    tensor : torch.Tensor
        Any shape, any device; gradients are not tracked.

    Returns
    -------
    int
        :math:`|\\{t_i\\}|`, the number of distinct entries.

    Notes
    -----
    ``-0.0`` is mapped to ``+0.0`` (by adding ``0.0``) before counting, since
    :func:`torch.unique` may tell them apart. NaNs compare unequal, so each NaN may
    count as its own value. A layer quantized to :math:`N` bits has at most
    :math:`2^N` levels (asymmetric, plus 0 when pruned) or :math:`2^N - 1`
    (symmetric), see :func:`count_weight_levels`.

    Examples
    --------
    >>> count_levels(torch.tensor([0.0, -0.0, 0.5, 0.5, -1.0]))
    3
    """
    return int(torch.unique(tensor.detach() + 0.0).numel())


def count_weight_levels(net: nn.Module) -> dict[str, int]:
    """Distinct values of each quantized layer's weight, as the forward pass uses it.

    Parameters
    ----------
    net : nn.Module
        Any model; only its :func:`quantized_layers` are counted.

    Returns
    -------
    dict of str to int
        ``{name: count_levels(layer.quantized_weight())}`` for the layers of
        :func:`quantized_layers`.

    Notes
    -----
    At most :math:`2^N` (asymmetric) or :math:`2^N - 1` (symmetric) levels, plus
    one for the zeros of a pruned layer in the asymmetric case (stored as a
    position, not as a code: course notes, :ref:`storage`).

    Examples
    --------
    >>> _ = torch.manual_seed(0)
    >>> net = torch.nn.Sequential(QuantLinear(100, 10, nbits=2))
    >>> count_weight_levels(net)
    {'0': 4}
    """
    with torch.no_grad():
        return {
            name: count_levels(layer.quantized_weight()) for name, layer in quantized_layers(net)
        }
