"""The values a quantized layer's non-zero weights take: a linear grid or a codebook.

The course's linear quantizer (:func:`edu.quant.quantize_weights`) puts the weights on
:math:`2^N` levels :math:`\\ell_j = (k_j / n)\\,\\beta + \\alpha` (asymmetric:
:math:`k_j = j`, :math:`n = 2^N - 1`, :math:`\\alpha` the smallest non-zero weight and
:math:`\\beta` the range) or :math:`2^N - 1` levels :math:`(k_j / n)\\, s` (symmetric:
:math:`k_j = j - n`, :math:`n = 2^{N-1} - 1`, :math:`s` the largest magnitude): two
float32 numbers, a scale and an offset, describe them all. Any other quantizer (k-means
weight sharing) is stored as its codebook, one float32 per level. Each non-zero weight
is then the ``ceil(log2(levels))``-bit code of its level.

The grid is recomputed exactly as the quantizer computes it, in float32 with the same
operations, and kept only when it reproduces every weight bit for bit; otherwise the
layer's distinct values become its codebook, so the file never changes a weight.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from edu.compress._bits import width_for
from edu.compress._stream import CompressedFileError, Reader, Writer

__all__ = ["Grid", "fit_grid", "read_grid"]

LINEAR, CODEBOOK = 0, 1
MAX_BITS = 16
MAX_LEVELS = 1 << MAX_BITS


@dataclass(frozen=True)
class Grid:
    """The levels of one quantized layer.

    Attributes
    ----------
    bits : int
        The layer's bit width ``N`` (its ``nbits``).
    symmetric : bool
        Whether the layer uses the symmetric linear quantizer.
    scale, offset : float
        :math:`\\beta` and :math:`\\alpha` (asymmetric) or :math:`s` and 0 (symmetric),
        float32 values; unused by a codebook.
    codebook : np.ndarray of float32 or None
        The levels themselves, for a layer that is not on a linear grid.
    """

    bits: int
    symmetric: bool
    scale: float = 0.0
    offset: float = 0.0
    codebook: np.ndarray | None = None

    @property
    def name(self) -> str:
        """``"linear"`` or ``"codebook"``."""
        return "linear" if self.codebook is None else "codebook"

    def levels(self) -> torch.Tensor:
        """The float32 levels :math:`\\ell_j`, indexed by code."""
        if self.codebook is not None:
            return torch.from_numpy(self.codebook.astype(np.float32))
        if self.symmetric:
            steps = 2 ** (self.bits - 1) - 1
            ks = torch.arange(-steps, steps + 1, dtype=torch.float32)
        else:
            steps = 2**self.bits - 1
            ks = torch.arange(2**self.bits, dtype=torch.float32)
        scale = torch.tensor(self.scale, dtype=torch.float32)
        offset = torch.tensor(self.offset, dtype=torch.float32)
        return ks / steps * scale + offset

    @property
    def code_width(self) -> int:
        """Bits per code: ``ceil(log2(number of levels))``."""
        if self.codebook is not None:
            return width_for(self.codebook.size)
        return width_for(2**self.bits - (1 if self.symmetric else 0))

    @property
    def nbytes(self) -> int:
        """Bytes this grid takes in the file."""
        return 3 + (8 if self.codebook is None else 4 + 4 * self.codebook.size)

    def write(self, writer: Writer) -> None:
        """Append kind, bits, symmetric, then scale and offset or the codebook."""
        writer.pack(
            "<BBB", LINEAR if self.codebook is None else CODEBOOK, self.bits, self.symmetric
        )
        if self.codebook is None:
            writer.pack("<ff", self.scale, self.offset)
        else:
            writer.pack("<I", self.codebook.size)
            writer.write(self.codebook.astype("<f4").tobytes())


def _codes(levels: torch.Tensor, values: torch.Tensor) -> torch.Tensor | None:
    """Index of each value among ``levels``, or None if one is not a level bit for bit."""
    order = torch.argsort(levels, stable=True)
    found = torch.searchsorted(levels[order], values).clamp(max=levels.numel() - 1)
    codes = order[found]
    if not torch.equal(levels[codes].view(torch.int32), values.view(torch.int32)):
        return None
    return codes


def fit_grid(
    weight: torch.Tensor, values: torch.Tensor, bits: int, symmetric: bool
) -> tuple[Grid, np.ndarray]:
    """The grid of a quantized layer and the code of each of its non-zero weights.

    Parameters
    ----------
    weight : torch.Tensor
        The layer's float weight, from which the linear quantizer takes its range.
    values : torch.Tensor of shape (nnz,)
        The non-zero entries of the quantized weight, as the forward pass uses them.
    bits : int
        The layer's ``nbits``, 1 to 16.
    symmetric : bool
        The layer's ``symmetric``.

    Returns
    -------
    grid : Grid
        The linear grid of :func:`edu.quant.quantize_weights` when it reproduces
        ``values`` exactly, else the codebook of their distinct values.
    codes : np.ndarray of int64, shape (nnz,)
        ``grid.levels()[codes]`` equals ``values`` bit for bit.

    Raises
    ------
    ValueError
        If ``bits`` is out of range, or the values are not quantized: more distinct
        values than :math:`2^{16}`.

    Examples
    --------
    >>> from edu.quant import quantize_weights
    >>> w = torch.tensor([0.0, -1.0, 0.2, 1.0])
    >>> wq = quantize_weights(w, 2)
    >>> grid, codes = fit_grid(w, wq[wq != 0], 2, symmetric=False)
    >>> grid.name, codes.tolist(), grid.levels()[codes].tolist() == wq[wq != 0].tolist()
    ('linear', [0, 2, 3], True)
    """
    if not 1 <= bits <= MAX_BITS:
        raise ValueError(f"bits must be 1 to {MAX_BITS}, got {bits}")
    values = values.detach().to(torch.float32).cpu().contiguous()
    weight = weight.detach().to(torch.float32).cpu()
    nonzero = weight[weight != 0]
    if nonzero.numel():
        if symmetric:
            scale, offset = nonzero.abs().max(), torch.zeros((), dtype=torch.float32)
        else:
            offset = nonzero.min()
            scale = nonzero.max() - offset
        grid = Grid(bits, symmetric, float(scale), float(offset))
        codes = _codes(grid.levels(), values)
        if codes is not None:
            return grid, codes.numpy()
    codebook = torch.unique(values)
    if codebook.numel() > MAX_LEVELS:
        raise ValueError(f"{codebook.numel()} distinct weights are not {bits}-bit weights")
    grid = Grid(bits, symmetric, codebook=codebook.numpy())
    return grid, _codes(codebook, values).numpy()


def read_grid(reader: Reader, field: str) -> Grid:
    """Read a grid written by :meth:`Grid.write`, checking every field."""
    kind, bits, symmetric = reader.unpack("<BBB", f"{field}: grid")
    if kind not in (LINEAR, CODEBOOK) or not 1 <= bits <= MAX_BITS or symmetric > 1:
        raise CompressedFileError(
            f"{field}: invalid grid (kind {kind}, {bits} bits, symmetric {symmetric})"
        )
    if kind == LINEAR:
        if symmetric and bits < 2:
            raise CompressedFileError(f"{field}: a symmetric grid needs at least 2 bits")
        scale, offset = reader.unpack("<ff", f"{field}: scale and offset")
        return Grid(bits, bool(symmetric), scale, offset)
    (size,) = reader.unpack("<I", f"{field}: codebook size")
    if size > MAX_LEVELS:
        raise CompressedFileError(f"{field}: codebook of {size} levels (at most {MAX_LEVELS})")
    codebook = np.frombuffer(reader.take(4 * size, f"{field}: codebook"), dtype="<f4")
    return Grid(bits, bool(symmetric), codebook=codebook.astype(np.float32))
