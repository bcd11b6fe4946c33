"""Pruning masks that survive finetuning: ``prepare`` -> train -> ``squash_mask``.

The shape is that of :mod:`torch.ao.pruning`: ``prepare`` attaches a boolean mask to
the weight of every prunable layer, pruning changes the masks, ``squash_mask`` makes
the pruning permanent and leaves a plain model behind.

Design: the mask is a :mod:`torch.nn.utils.parametrize` parametrization
(:class:`WeightMask`, the counterpart of ``torch.ao.pruning``'s ``FakeSparsity``),
so ``layer.weight`` *is* ``original * mask`` every time anything reads it. We chose
this over a plain buffer re-applied after each optimizer step because

- the forward pass can never see a pruned weight, whatever the optimizer does
  between two re-applications (momentum, weight decay, Adam, a forgotten hook);
- the gradient of a pruned weight is exactly 0, so nothing accumulates for it;
- a quantized layer (:class:`edu.quant.QuantConv2d`) reads ``self.weight``, so its
  quantizer sees the masked weight and keeps the zeros at zero with no extra code;
- the original parameter object stays the optimizer's parameter (it is moved, not
  copied), so ``prepare`` may come before or after the optimizer is built.

The price is the state-dict layout while masks are attached:
``<layer>.parametrizations.weight.original`` and
``<layer>.parametrizations.weight.0.mask`` replace ``<layer>.weight``. Call
:func:`squash_mask` before saving, or save :func:`plain_state_dict`, to get the keys
of an unpruned model. The course's recipe of re-applying the mask after every
optimizer step (COURSE-SPEC, Lab 2 (c)) is :func:`apply_masks`: harmless with masks
attached (it keeps the stored weights equal to what the forward sees), and it also
works on its own with masks from :func:`masks_from_nonzeros` and no ``prepare``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import torch
from torch import nn
from torch.nn.utils import parametrize

from edu.prune._layers import _select_layers

__all__ = [
    "WeightMask",
    "apply_masks",
    "get_mask",
    "masks_from_nonzeros",
    "plain_state_dict",
    "prepare",
    "squash_mask",
    "update_masks",
]

_ORIGINAL = "parametrizations.weight.original"
_MASK = "parametrizations.weight.0.mask"


class WeightMask(nn.Module):
    """The parametrization ``weight -> weight * mask`` with a boolean ``mask`` buffer.

    Parameters
    ----------
    mask : torch.Tensor
        Shaped like the weight it will mask; converted to ``bool`` and copied into
        the buffer ``mask`` (``True`` = kept).

    Notes
    -----
    :math:`w = w_{orig} \\odot m`, computed as ``masked_fill``: pruned entries are
    ``+0.0`` (not ``w * 0``, which would give ``-0.0`` for negative weights) and
    their gradient is exactly 0. It is registered by :func:`prepare` with
    :func:`torch.nn.utils.parametrize.register_parametrization`, the counterpart
    of ``torch.ao.pruning``'s ``FakeSparsity``.

    Examples
    --------
    >>> WeightMask(torch.tensor([True, False]))(torch.tensor([-1.0, -2.0]))
    tensor([-1.,  0.])
    """

    def __init__(self, mask: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("mask", mask.detach().to(torch.bool).clone())

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        return weight.masked_fill(~self.mask, 0.0)


def get_mask(layer: nn.Module) -> torch.Tensor | None:
    """The boolean mask attached to ``layer.weight`` by :func:`prepare`, or ``None``.

    Parameters
    ----------
    layer : nn.Module
        A layer with a ``weight``.

    Returns
    -------
    torch.Tensor or None
        The live ``mask`` buffer of the layer's :class:`WeightMask`, shaped like the
        weight (writing to it changes the pruning), or ``None`` if the weight has no
        :class:`WeightMask`.

    Examples
    --------
    >>> from torch import nn
    >>> layer = nn.Linear(2, 1, bias=False)
    >>> get_mask(layer) is None
    True
    >>> _ = prepare(layer, masks={"": torch.tensor([[True, False]])})
    >>> get_mask(layer)
    tensor([[ True, False]])
    """
    if not parametrize.is_parametrized(layer, "weight"):
        return None
    for module in layer.parametrizations.weight:
        if isinstance(module, WeightMask):
            return module.mask
    return None


def _stored_weight(layer: nn.Module) -> torch.Tensor:
    """The tensor the optimizer updates: ``original`` if masked, else ``weight``."""
    if parametrize.is_parametrized(layer, "weight"):
        return layer.parametrizations.weight.original
    return layer.weight


def _write_keep(layer: nn.Module, keep: torch.Tensor) -> None:
    """Zero the weights outside ``keep``, through the attached mask if there is one.

    Private to :mod:`edu.prune`: the pruning functions of ``_magnitude`` and the
    mask functions here all write a keep-mask this way. ``keep`` is boolean, shaped
    and placed like the stored weight; it replaces the attached mask as given.
    """
    with torch.no_grad():
        mask = get_mask(layer)
        if mask is not None:
            mask.copy_(keep)
        _stored_weight(layer).masked_fill_(~keep, 0.0)


def masks_from_nonzeros(
    net: nn.Module, layers: Iterable[str] | None = None
) -> dict[str, torch.Tensor]:
    """Boolean masks of the non-zero weights of the prunable layers.

    Parameters
    ----------
    net : nn.Module
    layers : iterable of str, optional
        Layer names; default all of :func:`prunable_layers`.

    Returns
    -------
    dict of str to torch.Tensor
        ``mask[name] = (weight != 0)``, boolean, shaped like the layer's weight.

    Notes
    -----
    Lab 2 (c) builds the finetuning mask from the non-zeros of the pruned model:
    :math:`m = [w \\neq 0]`. For a masked layer ``weight`` is already
    ``original * mask`` (course notes, :ref:`masks`).

    Examples
    --------
    >>> from torch import nn
    >>> layer = nn.Linear(3, 1, bias=False)
    >>> with torch.no_grad():
    ...     _ = layer.weight.copy_(torch.tensor([[0.0, 2.0, -1.0]]))
    >>> masks_from_nonzeros(layer)
    {'': tensor([[False,  True,  True]])}
    """
    with torch.no_grad():
        return {name: layer.weight != 0 for name, layer in _select_layers(net, layers)}


def prepare(
    net: nn.Module,
    layers: Iterable[str] | None = None,
    masks: Mapping[str, torch.Tensor] | None = None,
) -> dict[str, torch.Tensor]:
    """Attach a mask to the weight of each prunable layer; return the masks.

    Parameters
    ----------
    net : nn.Module
        Modified in place.
    layers : iterable of str, optional
        Layer names; default all of :func:`prunable_layers`. Ignored if ``masks``
        is given (its keys name the layers).
    masks : mapping of str to torch.Tensor, optional
        The masks to attach; default :func:`masks_from_nonzeros`. A layer that is
        already masked gets its mask replaced (see :func:`update_masks`).

    Returns
    -------
    dict of str to torch.Tensor
        The attached mask buffers (live: pruning updates them in place).

    Notes
    -----
    After ``prepare``, ``layer.weight`` computes :math:`w = w_{orig} \\odot m` on
    every access, so the forward pass and the gradient see only the kept weights.
    The stored weights outside the mask are set to 0 as well. See the module
    docstring for the state-dict keys (course notes, :ref:`masks`).

    Examples
    --------
    >>> from torch import nn
    >>> layer = nn.Linear(2, 2, bias=False)
    >>> _ = prepare(layer, masks={"": torch.eye(2, dtype=torch.bool)})
    >>> with torch.no_grad():  # whatever the optimizer does to the stored weights
    ...     _ = layer.parametrizations.weight.original.fill_(5.0)
    >>> layer.weight
    tensor([[5., 0.],
            [0., 5.]], grad_fn=<MaskedFillBackward0>)
    >>> squash_mask(layer)
    >>> sorted(layer.state_dict())
    ['weight']
    """
    if masks is None:
        masks = masks_from_nonzeros(net, layers)
    selected = dict(_select_layers(net, masks))
    for name, layer in selected.items():
        mask = masks[name]
        if mask.shape != _stored_weight(layer).shape:
            raise ValueError(
                f"mask for {name!r} has shape {tuple(mask.shape)}, weight has "
                f"{tuple(_stored_weight(layer).shape)}"
            )
        if get_mask(layer) is None:
            device = _stored_weight(layer).device
            parametrize.register_parametrization(layer, "weight", WeightMask(mask.to(device)))
        _write_keep(layer, mask.to(device=_stored_weight(layer).device, dtype=torch.bool))
    return {name: get_mask(layer) for name, layer in selected.items()}


def update_masks(net: nn.Module, masks: Mapping[str, torch.Tensor]) -> None:
    """Replace the masks of already prepared layers (e.g. after a new threshold).

    Parameters
    ----------
    net : nn.Module
    masks : mapping of str to torch.Tensor
        New boolean masks by layer name; each layer must have been prepared.

    Notes
    -----
    The new mask is used as given: weights it keeps that were pruned come back with
    the stored value (0 after :func:`prepare` or pruning). To prune further, pass
    ``old & new``; :func:`prune_by_percentage` on a masked layer does that itself.

    Raises
    ------
    ValueError
        If a named layer has no mask (:func:`prepare` was not called on it).
    KeyError
        If a name is not one of :func:`prunable_layers`.

    Examples
    --------
    >>> from torch import nn
    >>> layer = nn.Linear(2, 1, bias=False)
    >>> _ = prepare(layer, masks={"": torch.tensor([[True, True]])})
    >>> update_masks(layer, {"": torch.tensor([[False, True]])})
    >>> get_mask(layer), float(layer.weight.detach()[0, 0])
    (tensor([[False,  True]]), 0.0)
    """
    for name, layer in _select_layers(net, masks):
        if get_mask(layer) is None:
            raise ValueError(f"layer {name!r} has no mask: call prepare(net) first")
        _write_keep(layer, masks[name].to(device=get_mask(layer).device, dtype=torch.bool))


def apply_masks(net: nn.Module, masks: Mapping[str, torch.Tensor] | None = None) -> None:
    """Set the pruned stored weights to 0; meant to run after every optimizer step.

    Parameters
    ----------
    net : nn.Module
    masks : mapping of str to torch.Tensor, optional
        Masks by layer name. Default: the masks attached by :func:`prepare` (then the
        forward pass is already masked and this only keeps the stored weights equal
        to what the forward sees). Given explicitly, e.g. from
        :func:`masks_from_nonzeros`, it implements the course's recipe with no
        parametrization: :math:`w \\leftarrow w \\odot m` after each step.

    Notes
    -----
    Course notes, :ref:`masks`: finetuning with a fixed mask.

    Examples
    --------
    >>> from torch import nn
    >>> layer = nn.Linear(2, 1, bias=False)
    >>> masks = {"": torch.tensor([[True, False]])}
    >>> apply_masks(layer, masks)
    >>> int((layer.weight == 0).sum())
    1
    """
    with torch.no_grad():
        if masks is None:
            for _, layer in _select_layers(net, None):
                mask = get_mask(layer)
                if mask is not None:
                    _stored_weight(layer).masked_fill_(~mask, 0.0)
            return
        for name, layer in _select_layers(net, masks):
            weight = _stored_weight(layer)
            weight.masked_fill_(~masks[name].to(device=weight.device, dtype=torch.bool), 0.0)


def squash_mask(net: nn.Module) -> None:
    """Make the pruning permanent: remove the masks, keep plain weights with zeros.

    Parameters
    ----------
    net : nn.Module
        Modified in place; afterwards its ``state_dict`` has exactly the keys of the
        unpruned model and loads into a model that was never prepared.

    Notes
    -----
    Each masked layer's ``weight`` becomes the parameter :math:`w_{orig} \\odot m`
    (the same parameter object, so an optimizer holding it stays valid).

    Raises
    ------
    ValueError
        If a masked weight carries other parametrizations besides its
        :class:`WeightMask`.

    Examples
    --------
    >>> from torch import nn
    >>> layer = nn.Linear(2, 1, bias=False)
    >>> _ = prepare(layer, masks={"": torch.tensor([[True, False]])})
    >>> squash_mask(layer)
    >>> get_mask(layer) is None, float(layer.weight.detach()[0, 1])
    (True, 0.0)
    """
    for _, layer in _select_layers(net, None):
        if get_mask(layer) is None:
            continue
        if len(layer.parametrizations.weight) != 1:
            raise ValueError(
                "squash_mask only removes a WeightMask that is the sole "
                "parametrization of the weight"
            )
        parametrize.remove_parametrizations(layer, "weight", leave_parametrized=True)


def plain_state_dict(net: nn.Module) -> dict[str, torch.Tensor]:
    """The state dict that ``net`` would have after :func:`squash_mask`, without squashing.

    Parameters
    ----------
    net : nn.Module
        Left unchanged.

    Returns
    -------
    dict of str to torch.Tensor
        ``<layer>.weight = original * mask`` in place of the parametrization keys;
        every other entry as in ``net.state_dict()``. Use it to checkpoint during
        masked finetuning.

    Examples
    --------
    >>> from torch import nn
    >>> layer = nn.Linear(2, 1)
    >>> _ = prepare(layer, masks={"": torch.tensor([[True, False]])})
    >>> sorted(plain_state_dict(layer))
    ['bias', 'weight']
    >>> float(plain_state_dict(layer)["weight"][0, 1])
    0.0
    """
    state = net.state_dict()
    masked = {
        f"{name}." if name else ""
        for name, layer in _select_layers(net, None)
        if get_mask(layer) is not None
    }
    plain: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        if key.endswith(_MASK) and key[: -len(_MASK)] in masked:
            continue
        if key.endswith(_ORIGINAL) and key[: -len(_ORIGINAL)] in masked:
            prefix = key[: -len(_ORIGINAL)]
            plain[prefix + "weight"] = value.masked_fill(~state[prefix + _MASK], 0.0)
        else:
            plain[key] = value
    return plain
