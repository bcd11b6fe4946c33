"""Per-layer sparsity report of the prunable layers (the tables of Lab 2)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from edu.prune._layers import prunable_layers

__all__ = ["LayerSparsity", "SparsityReport", "sparsity_report"]


@dataclass(frozen=True)
class LayerSparsity:
    """One row of the report: a layer's weight count, zero count and sparsity."""

    name: str
    weights: int
    zeros: int

    @property
    def sparsity(self) -> float:
        """Fraction of zero weights, in [0, 1]."""
        return self.zeros / self.weights if self.weights else 0.0


@dataclass(frozen=True)
class SparsityReport:
    """Sparsity of every prunable layer and of all of them together.

    Sparsities are fractions in [0, 1] (the pruning functions take percentages).
    """

    layers: tuple[LayerSparsity, ...]

    @property
    def total_weights(self) -> int:
        """Number of weights in the prunable layers."""
        return sum(layer.weights for layer in self.layers)

    @property
    def total_zeros(self) -> int:
        """Number of zero weights in the prunable layers."""
        return sum(layer.zeros for layer in self.layers)

    @property
    def total_sparsity(self) -> float:
        """Fraction of zero weights over all prunable layers (weighted by size)."""
        return self.total_zeros / self.total_weights if self.total_weights else 0.0

    def as_dict(self) -> dict:
        """JSON-ready: ``{"layers": [{name, weights, zeros, sparsity}], "total_*": ...}``."""
        return {
            "layers": [{**asdict(layer), "sparsity": layer.sparsity} for layer in self.layers],
            "total_weights": self.total_weights,
            "total_zeros": self.total_zeros,
            "total_sparsity": self.total_sparsity,
        }

    def to_markdown(self) -> str:
        """The report as a Markdown table with aligned columns, the total last."""
        rows = [(r.name, str(r.weights), str(r.zeros), f"{r.sparsity:.4f}") for r in self.layers]
        rows.append(
            ("total", str(self.total_weights), str(self.total_zeros), f"{self.total_sparsity:.4f}")
        )
        header = ("layer", "weights", "zeros", "sparsity")
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]
        rule = ("-" * widths[0], *("-" * (w - 1) + ":" for w in widths[1:]))

        def line(cells: tuple[str, ...]) -> str:
            padded = [cells[0].ljust(widths[0])]
            padded += [c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)]
            return "| " + " | ".join(padded) + " |"

        return "\n".join(line(cells) for cells in [header, rule, *rows])

    def __str__(self) -> str:
        return self.to_markdown()


def sparsity_report(net: nn.Module, quantized: bool = False) -> SparsityReport:
    """Count the zero weights of each prunable layer of ``net``.

    Parameters
    ----------
    net : nn.Module
    quantized : bool, default False
        Count the zeros of the weights as the forward pass uses them
        (``quantized_weight()`` of a quantized layer; symmetric quantization rounds
        small weights to 0) instead of the stored float weights.

    Returns
    -------
    SparsityReport

    Notes
    -----
    Layer sparsity :math:`s_l = |\\{w \\in W_l : w = 0\\}| / |W_l|`; total
    :math:`\\sum_l |\\{w = 0\\}| / \\sum_l |W_l|` over the layers of
    :func:`prunable_layers` (masked layers report ``original * mask``). Course
    notes, :ref:`magnitude-pruning`.

    Examples
    --------
    >>> from torch import nn
    >>> net = nn.Sequential(nn.Linear(4, 2, bias=False))
    >>> with torch.no_grad():
    ...     _ = net[0].weight.copy_(torch.tensor([[0.0, 1.0, 0.0, 2.0], [3.0, 0.0, 4.0, 5.0]]))
    >>> print(sparsity_report(net))
    | layer | weights | zeros | sparsity |
    | ----- | ------: | ----: | -------: |
    | 0     |       8 |     3 |   0.3750 |
    | total |       8 |     3 |   0.3750 |
    """
    rows = []
    with torch.no_grad():
        for name, layer in prunable_layers(net):
            weight = layer.weight
            if quantized and hasattr(layer, "quantized_weight"):
                weight = layer.quantized_weight()
            rows.append(LayerSparsity(name, weight.numel(), int((weight == 0).sum())))
    return SparsityReport(tuple(rows))
