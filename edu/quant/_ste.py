"""Linear fixed-point quantization of weights with the straight-through estimator (STE).

The quantizer follows the course's Lab 3 (COURSE-SPEC, Lab 3 (a) and (e)): dynamic
scaling from the weights themselves, with zeros treated as pruned so that a sparse
layer stays exactly as sparse after quantization. The backward pass is the
straight-through estimator of Bengio, Léonard and Courville (2013): the rounding
step is treated as the identity, so the gradient reaches the float weights unchanged.
"""

from __future__ import annotations

import operator

import torch

__all__ = ["STE", "quantize_weights"]


def _check_bit(bit: object, symmetric: bool) -> int | None:
    """Return ``bit`` as an int (NumPy integers accepted) or None, or raise a clear error."""
    if bit is None:
        return None
    if isinstance(bit, bool):
        raise TypeError("bit must be an int or None, got bool")
    try:
        bit = operator.index(bit)
    except TypeError:
        raise TypeError(f"bit must be an int or None, got {type(bit).__name__}") from None
    if bit < 0:
        raise ValueError(f"bit must be >= 0 (or None for no quantization), got {bit}")
    if symmetric and bit == 1:
        raise ValueError("symmetric quantization needs bit >= 2 (one level each side of 0)")
    return bit


def quantize_weights(w: torch.Tensor, bit: int | None, symmetric: bool = False) -> torch.Tensor:
    """Quantize ``w`` to ``bit`` bits with dynamic scaling, keeping zeros at exactly 0.

    Parameters
    ----------
    w : torch.Tensor
        Weights of any shape. Entries equal to 0 are taken as pruned.
    bit : int or None
        Number of bits. ``None`` returns ``w`` unchanged; ``0`` returns all zeros.
    symmetric : bool, default False
        Symmetric quantizer (levels symmetric around 0, 0 exactly representable)
        instead of the asymmetric min/max one. Needs ``bit >= 2``.

    Returns
    -------
    torch.Tensor
        Same shape and dtype as ``w``; a new tensor (``w`` is not modified).

    Notes
    -----
    Let :math:`m = [w \\neq 0]` and :math:`\\mathcal{W}` the non-zero entries.
    Asymmetric, with :math:`n = 2^{bit} - 1` steps:
    :math:`\\alpha = \\min \\mathcal{W}`, :math:`\\beta = \\max \\mathcal{W} - \\alpha`,
    :math:`w_s = (w - \\alpha)/\\beta`,
    :math:`w_q = m \\odot (\\mathrm{round}(n w_s)/n \\cdot \\beta + \\alpha)`,
    so the non-zero weights take at most :math:`2^{bit}` values and the layer, with
    its pruned zeros, at most :math:`2^{bit} + 1`.
    Symmetric, with :math:`n = 2^{bit-1} - 1`: :math:`s = \\max |\\mathcal{W}|`,
    :math:`w_q = m \\odot \\mathrm{round}(n w / s) / n \\cdot s`, at most
    :math:`2^{bit} - 1` levels including 0. ``round`` is round-half-to-even, as in
    ``torch.round``. If all non-zero weights are equal (:math:`\\beta = 0`) they are
    already one level and are returned unchanged. See the course notes,
    :ref:`linear-quantizer` and :ref:`pruned-zeros`.

    Examples
    --------
    >>> w = torch.tensor([0.0, -1.0, 0.2, 1.0])
    >>> quantize_weights(w, 1)
    tensor([ 0., -1.,  1.,  1.])
    >>> quantize_weights(w, 2, symmetric=True)
    tensor([ 0., -1.,  0.,  1.])
    """
    bit = _check_bit(bit, symmetric)
    if bit is None:
        return w.clone()
    if bit == 0:
        return torch.zeros_like(w)
    mask = w != 0
    nonzero = w[mask]
    if nonzero.numel() == 0:
        return torch.zeros_like(w)
    if symmetric:
        steps = 2 ** (bit - 1) - 1
        scale = nonzero.abs().max()
        quantized = torch.round(w / scale * steps) / steps * scale
    else:
        steps = 2**bit - 1
        alpha = nonzero.min()
        beta = nonzero.max() - alpha
        if beta == 0:
            return w.clone()
        quantized = torch.round((w - alpha) / beta * steps) / steps * beta + alpha
    return torch.where(mask, quantized, torch.zeros_like(w))


class STE(torch.autograd.Function):
    """Weight quantizer whose backward pass is the straight-through estimator.

    Call it as ``STE.apply(w, bit, symmetric=False)``; the forward pass is
    :func:`quantize_weights`, the backward pass returns the upstream gradient
    unchanged for ``w`` and no gradient for ``bit`` and ``symmetric``.

    Notes
    -----
    Rounding has zero derivative almost everywhere, which would stop learning; the STE
    replaces :math:`\\partial w_q / \\partial w` by 1, so
    :math:`\\partial L / \\partial w = \\partial L / \\partial w_q`. See the course
    notes, :ref:`ste`.

    Examples
    --------
    >>> w = torch.tensor([0.0, -1.0, 0.2, 1.0], requires_grad=True)
    >>> wq = STE.apply(w, 1)
    >>> (wq * torch.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    >>> w.grad
    tensor([1., 2., 3., 4.])
    """

    @staticmethod
    def forward(ctx, w: torch.Tensor, bit: int | None, symmetric: bool = False) -> torch.Tensor:
        return quantize_weights(w, bit, symmetric)

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor) -> tuple[torch.Tensor, None, None]:
        return grad_output, None, None
