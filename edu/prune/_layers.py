"""Which layers are pruned: every convolution and linear layer except the shortcuts.

The course prunes every ``Conv2d`` and ``Linear`` of the CIFAR ResNet except the 1x1
downsampling shortcuts, whose modules are named with ``id_mapping`` (COURSE-SPEC,
Lab 2): ResNet-20 has 20 prunable layers.
"""

from __future__ import annotations

from collections.abc import Iterable

from torch import nn

__all__ = ["prunable_layers"]

_SKIP = "id_mapping"


def prunable_layers(net: nn.Module) -> list[tuple[str, nn.Module]]:
    """The ``(name, module)`` pairs of the layers that pruning acts on, in module order.

    Parameters
    ----------
    net : nn.Module
        Any model; its submodules are visited with ``named_modules()``.

    Returns
    -------
    list of (str, nn.Module)
        Every :class:`torch.nn.Conv2d` and :class:`torch.nn.Linear` (subclasses
        included, e.g. :class:`edu.quant.QuantConv2d`) whose name does not contain
        ``"id_mapping"``.

    Notes
    -----
    The shortcut convolutions are few weights but carry the whole signal of a
    downsampling block, so the course leaves them dense (course notes,
    :ref:`prunable-layers`).

    Examples
    --------
    >>> from torch import nn
    >>> net = nn.Sequential()
    >>> net.add_module("conv", nn.Conv2d(3, 4, 3))
    >>> net.add_module("id_mapping", nn.Conv2d(3, 4, 1))
    >>> net.add_module("linear", nn.Linear(4, 2))
    >>> [name for name, _ in prunable_layers(net)]
    ['conv', 'linear']
    """
    return [
        (name, module)
        for name, module in net.named_modules()
        if isinstance(module, (nn.Conv2d, nn.Linear)) and _SKIP not in name
    ]


def _select_layers(net: nn.Module, layers: Iterable[str] | None) -> list[tuple[str, nn.Module]]:
    """The prunable layers of ``net`` named in ``layers`` (all of them if ``None``).

    Private to :mod:`edu.prune` (its modules share it). The pairs come in the order
    of ``layers``, or in module order when ``layers`` is ``None``; a name that is not
    one of :func:`prunable_layers` raises ``KeyError`` listing the unknown names.
    """
    available = prunable_layers(net)
    if layers is None:
        return available
    by_name = dict(available)
    wanted = list(layers)
    unknown = [name for name in wanted if name not in by_name]
    if unknown:
        raise KeyError(f"not prunable layers of this model: {unknown}")
    return [(name, by_name[name]) for name in wanted]
