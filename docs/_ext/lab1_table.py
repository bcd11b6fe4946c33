"""The ``lab1-table`` directive: the final numbers of every Lab 1 run, computed at build time.

Runs :func:`edu.sparse.run_part` for every part of :data:`edu.sparse.LAB1_PARTS`
(the spec's hyperparameters) and renders one row per run: part, method, ``lam``, the
threshold ``lr * lam``, the final ``L(W)``, the number of exact non-zeros and the
final ``W``, the same columns as ``edu lab1`` prints. Usage in MyST markdown::

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
                    "[" + ", ".join(f"{w:+.4f}" for w in result.final_weights) + "]",
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
