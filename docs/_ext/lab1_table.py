"""The ``lab1-table`` directive: the final numbers of every Lab 1 run, computed at build time.

Runs :func:`edu.sparse.run_part` for every part of :data:`edu.sparse.LAB1_PARTS`
(the spec's hyperparameters) and renders one row per run: part, method, ``lam``, the
threshold ``lr * lam``, the final ``L(W)``, the number of exact non-zeros and the
final ``W``, the same columns as ``edu lab1`` prints, except that an exact zero prints
as ``0`` and a round-off residue in e-notation (:func:`weight_cell`). Usage in MyST
markdown::

    :::{lab1-table}
    :::
"""

from __future__ import annotations

import importlib
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective
from table_nodes import table_node

from edu.sparse import LAB1_PARTS, run_part

HEADER = ("part", "method", "lam", "threshold t", "final L(W)", "non-zeros", "final W")
"""Columns of :func:`lab1_rows`."""

ROUND_OFF = 5e-5
"""Non-zero magnitudes below this would print as ``0.0000``; they are shown in e-notation."""


def weight_cell(w: float) -> str:
    """One entry of a final ``W``: ``0`` when exactly zero, else a signed number.

    An exact zero (which the proximal steps produce) and a round-off residue such as
    ``-9.8e-16`` (which they can leave on a knife edge) must not print alike: the
    first prints as ``0``, the second in e-notation, every other entry with 4 decimals.
    """
    if w == 0.0:
        return "0"
    return f"{w:+.1e}" if abs(w) < ROUND_OFF else f"{w:+.4f}"


def lab1_rows() -> list[list[str]]:
    """One row of cells per Lab 1 run, in the order of :data:`edu.sparse.LAB1_PARTS`."""
    rows = []
    for part in LAB1_PARTS:
        for result in run_part(part):
            rows.append(
                [
                    part.name,
                    result.method,
                    "-" if result.lam is None else f"{result.lam:g}",
                    "-" if result.threshold is None else f"{result.threshold:.3g}",
                    f"{result.final_loss:.4g}",
                    str(result.nonzeros),
                    "[" + ", ".join(weight_cell(w) for w in result.final_weights) + "]",
                ]
            )
    return rows


class Lab1Table(SphinxDirective):
    """``lab1-table``: every Lab 1 run's final loss, non-zeros and weights."""

    def run(self) -> list[nodes.Node]:
        """Run Lab 1 and return its table; the document depends on ``edu.sparse``."""
        package = Path(importlib.import_module("edu.sparse").__file__).parent
        for source in sorted(package.glob("*.py")):
            self.env.note_dependency(str(source))
        return [table_node(HEADER, lab1_rows(), "lab1-table")]


def setup(app: Sphinx) -> dict[str, object]:
    """Register the ``lab1-table`` directive."""
    app.add_directive("lab1-table", Lab1Table)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
