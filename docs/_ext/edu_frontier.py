"""The ``frontier-results`` directive: file size against test accuracy, from ``edu frontier``.

``edu frontier OUTPUT_DIR --checkpoint FLOAT`` writes ``OUTPUT_DIR/frontier/``:
``results.json``, ``results.md``, ``command.txt`` and ``frontier.png``;
``scripts/ship_reproduction.py`` commits them under ``docs/<edu_results_dir>/frontier/``.
Usage in MyST markdown::

    :::{frontier-results}
    :::

renders the figure, then one row per model, smallest file first: its test accuracy (of
the compressed file, read back), the difference from the float model, the file's bytes,
how many times smaller it is than the float32 state dict, bits per weight and MACs; the
last column marks the models in the course's target region
(:data:`edu.plots.FRONTIER_MAX_DROP`, :data:`edu.plots.FRONTIER_MIN_RATIO`). Then the
command that made it. While the folder is absent the directive says so and shows no
number; a malformed ``results.json`` is a build error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective
from table_nodes import paragraph_node, table_node

from edu.plots import FRONTIER_MAX_DROP, FRONTIER_MIN_RATIO, meets_frontier_target

FOLDER = "frontier"
"""The folder of ``docs/<edu_results_dir>/`` that ``edu frontier``'s files are committed to."""

HEADER = (
    "model",
    "test accuracy",
    "vs float",
    "file bytes",
    "x smaller",
    "bits/weight",
    "MACs",
    "in target",
)


def frontier_rows(payload: dict[str, Any]) -> list[list[str]]:
    """The table's rows from ``results.json``, smallest file first.

    Raises
    ------
    KeyError, TypeError
        If the payload is not one ``edu frontier`` writes.
    """
    float_accuracy = float(payload["float_accuracy"])
    float32_bytes = int(payload["float32_bytes"])
    rows = []
    for model in sorted(payload["models"], key=lambda m: m["file_bytes"]):
        drop = float_accuracy - model["test_accuracy"]
        in_target = meets_frontier_target(
            model["test_accuracy"], model["file_bytes"], float_accuracy, float32_bytes
        )
        rows.append(
            [
                f"{model['lab']} {model['row']}",
                f"{model['test_accuracy']:.4f}",
                f"{-100 * drop:+.2f} pts",
                f"{model['file_bytes']:,}",
                f"{model['ratio']:.1f}",
                f"{model['bits_per_weight']:.2f}",
                f"{model['macs'] / 1e6:.1f} M",
                "yes" if in_target else "",
            ]
        )
    return rows


class FrontierResults(SphinxDirective):
    """``frontier-results``: the committed frontier's figure and table, or the note that it
    is missing."""

    def run(self) -> list[nodes.Node]:
        """Read the frontier's files and return the figure, the table and the command."""
        folder = Path(self.env.srcdir) / self.config.edu_results_dir / FOLDER
        names = ("results.json", "command.txt", "frontier.png")
        for name in names:
            self.env.note_dependency(str(folder / name))
        if not all((folder / name).is_file() for name in names):
            note = nodes.note()
            note += paragraph_node(
                "The frontier has not been measured yet. Run ",
                nodes.literal(text="edu frontier OUTPUT_DIR --checkpoint FLOAT"),
                " on a finished reproduction, then ",
                nodes.literal(text="python scripts/ship_reproduction.py OUTPUT_DIR"),
                ".",
            )
            return [note]
        try:
            payload = json.loads((folder / "results.json").read_text())
            rows = frontier_rows(payload)
            float32_bytes = int(payload["float32_bytes"])
            float_accuracy = float(payload["float_accuracy"])
        except (ValueError, KeyError, TypeError) as error:
            where = folder / "results.json"
            raise self.error(f"{where} is not edu frontier's: {error!r}") from None
        figure = nodes.image(
            uri=f"/{self.config.edu_results_dir}/{FOLDER}/frontier.png",
            alt="test accuracy against compressed file size",
        )
        command = (folder / "command.txt").read_text().strip()
        return [
            figure,
            paragraph_node(
                f"The float model: test accuracy {float_accuracy:.4f}, float32 state dict "
                f"{float32_bytes:,} bytes. Each model below was written as a compressed "
                "file, read back and evaluated on the 10,000 test images; in target: within "
                f"{100 * FRONTIER_MAX_DROP:g} point of the float model and at least "
                f"{FRONTIER_MIN_RATIO:g} times smaller."
            ),
            table_node(HEADER, rows, "frontier-results"),
            paragraph_node("Made by ", nodes.literal(text=command), "."),
        ]


def setup(app: Sphinx) -> dict[str, object]:
    """Register ``frontier-results`` (it reads ``edu_results_dir``, set by ``edu_results``)."""
    app.setup_extension("edu_results")
    app.add_directive("frontier-results", FrontierResults)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
