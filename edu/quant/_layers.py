"""Convolution and linear layers whose weights pass through a quantizer in every forward.

The float weights stay the trainable parameters (and the only state in the
``state_dict``), so a float checkpoint loads into a quantized model unchanged and
quantization-aware finetuning updates the float weights through the STE.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.nn import functional as F

from edu.quant._ste import STE

__all__ = ["QuantConv2d", "QuantLinear", "Quantizer", "resolve_quantizer"]

Quantizer = Callable[[torch.Tensor, int | None, bool], torch.Tensor]


def resolve_quantizer(quantizer: object | None) -> Quantizer:
    """Return a callable ``(w, bit, symmetric) -> w_q``.

    Parameters
    ----------
    quantizer : callable, autograd.Function subclass or None
        ``None`` gives the reference :class:`STE`; an ``autograd.Function`` subclass
        (a student's own ``STE``) is called through its ``apply``; any other
        callable is used as it is. It is called with three positional arguments:
        the float weight, the number of bits and ``symmetric``.

    Returns
    -------
    Quantizer
        The callable that :class:`QuantConv2d` and :class:`QuantLinear` apply to
        their weight in every forward pass.

    Raises
    ------
    TypeError
        If ``quantizer`` is neither ``None``, an ``autograd.Function`` subclass nor
        callable.

    Examples
    --------
    >>> w = torch.tensor([0.0, -1.0, 0.2, 1.0])
    >>> resolve_quantizer(None)(w, 1, False)  # the reference STE
    tensor([ 0., -1.,  1.,  1.])
    >>> resolve_quantizer(lambda w, bit, symmetric: w.round())(w, 8, False)
    tensor([ 0., -1.,  0.,  1.])
    """
    if quantizer is None:
        return STE.apply
    if isinstance(quantizer, type) and issubclass(quantizer, torch.autograd.Function):
        return quantizer.apply
    if not callable(quantizer):
        raise TypeError(f"quantizer must be callable or an autograd.Function, got {quantizer!r}")
    return quantizer


class _QuantWeight:
    """Mixin: the quantized view of ``self.weight`` used by the forward pass."""

    weight: torch.Tensor
    nbits: int | None
    symmetric: bool
    quantizer: Quantizer

    def _setup_quantizer(self, nbits: int | None, symmetric: bool, quantizer: object) -> None:
        self.nbits = nbits
        self.symmetric = symmetric
        self.quantizer = resolve_quantizer(quantizer)

    def quantized_weight(self) -> torch.Tensor:
        """The weight as the forward pass uses it (float weight if ``nbits`` is None)."""
        if self.nbits is None:
            return self.weight
        return self.quantizer(self.weight, self.nbits, self.symmetric)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, nbits={self.nbits}, symmetric={self.symmetric}"


class QuantConv2d(_QuantWeight, nn.Conv2d):
    """``nn.Conv2d`` with ``nbits``-bit weights through ``quantizer`` (default: :class:`STE`).

    Parameters
    ----------
    *args, **kwargs
        Those of :class:`torch.nn.Conv2d` (``in_channels``, ``out_channels``,
        ``kernel_size``, ``stride``, ``padding``, ``bias``, ...).
    nbits : int or None
        Keyword-only, required: bits of the weights; ``None`` keeps them float (the
        layer is then an ordinary ``Conv2d``).
    symmetric : bool, default False
        Symmetric quantizer (levels symmetric around 0) instead of the asymmetric
        min/max one.
    quantizer : callable or autograd.Function subclass, optional
        See :func:`resolve_quantizer`; default the reference :class:`STE`.

    Notes
    -----
    The forward pass is :math:`y = \\mathrm{conv}(x, Q(w), b)` with
    :math:`Q(w)` = ``quantizer(w, nbits, symmetric)`` (:meth:`quantized_weight`);
    with the STE, :math:`\\partial L / \\partial w = \\partial L / \\partial Q(w)`,
    so training updates the float weight, which stays the only state in the
    ``state_dict``. The bias is not quantized. Course notes,
    :ref:`qat`.

    Examples
    --------
    >>> _ = torch.manual_seed(0)
    >>> conv = QuantConv2d(3, 8, 3, padding=1, nbits=2)
    >>> conv(torch.randn(1, 3, 4, 4)).shape
    torch.Size([1, 8, 4, 4])
    >>> conv.quantized_weight().unique().numel()  # 2 bits: at most 4 levels
    4
    >>> sorted(conv.state_dict())
    ['bias', 'weight']
    """

    def __init__(
        self,
        *args,
        nbits: int | None,
        symmetric: bool = False,
        quantizer: object | None = None,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._setup_quantizer(nbits, symmetric, quantizer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._conv_forward(x, self.quantized_weight(), self.bias)


class QuantLinear(_QuantWeight, nn.Linear):
    """``nn.Linear`` with ``nbits``-bit weights through ``quantizer`` (default: :class:`STE`).

    Parameters
    ----------
    *args, **kwargs
        Those of :class:`torch.nn.Linear` (``in_features``, ``out_features``,
        ``bias``, ...).
    nbits : int or None
        Keyword-only, required: bits of the weights; ``None`` keeps them float.
    symmetric : bool, default False
        Symmetric quantizer instead of the asymmetric min/max one.
    quantizer : callable or autograd.Function subclass, optional
        See :func:`resolve_quantizer`; default the reference :class:`STE`.

    Notes
    -----
    :math:`y = x Q(w)^T + b`, with :math:`Q` as in :class:`QuantConv2d`.

    Examples
    --------
    >>> layer = QuantLinear(2, 1, bias=False, nbits=2, symmetric=True)
    >>> with torch.no_grad():
    ...     _ = layer.weight.copy_(torch.tensor([[0.9, -0.2]]))
    >>> layer.quantized_weight()  # 2 bits symmetric: levels -0.9, 0, 0.9
    tensor([[0.9000, -0.0000]], grad_fn=<STEBackward>)
    >>> layer(torch.tensor([[1.0, 1.0]]))
    tensor([[0.9000]], grad_fn=<MmBackward0>)
    """

    def __init__(
        self,
        *args,
        nbits: int | None,
        symmetric: bool = False,
        quantizer: object | None = None,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._setup_quantizer(nbits, symmetric, quantizer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.quantized_weight(), self.bias)
