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

    ``None`` gives the reference :class:`STE`; an ``autograd.Function`` subclass (a
    student's own ``STE``) is called through its ``apply``; any other callable is used
    as it is.
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

    Parameters are those of :class:`torch.nn.Conv2d`, plus the keyword-only ``nbits``
    (``None`` for float), ``symmetric`` and ``quantizer``.
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
    """``nn.Linear`` with ``nbits``-bit weights through ``quantizer`` (default: :class:`STE`)."""

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
