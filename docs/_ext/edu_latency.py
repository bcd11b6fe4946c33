"""The ``channel-latency`` directive: the committed channel-pruning benchmark as a table.

``python benchmarks/channel_pruning.py --reproduction DIR --json FILE`` writes the
parameters, MACs, latencies and test accuracies of the dense and channel-pruned
ResNet-20s, every model measured in each of its runs; the notes show the committed file
(``edu_latency_file``, relative to the notes' folder). Usage in MyST markdown::

    :::{channel-latency}
    :::

renders the machine it ran on, then one row per model: parameters, MACs, inner widths
per stage, the speedup over the dense model at batch 1 and batch 256 (the median over
the benchmark's runs, with their range in brackets), and the test
accuracy after finetuning with its difference from the float model where the model was
trained. Then the command that made it. While the file is absent the directive says so
and shows no number; a malformed file is a build error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective
from table_nodes import paragraph_node, table_node

HEADER = (
    "model",
    "parameters",
    "MACs",
    "inner widths",
    "batch 1",
    "batch 256",
    "test accuracy",
    "vs float",
)


def _stage_widths(inner: list[int] | None) -> str:
    """``8 / 16 / 48`` when every block of a stage has one width (3 stages), else all."""
    if not inner:
        return "-"
    stage = len(inner) // 3
    stages = [inner[i * stage : (i + 1) * stage] for i in range(3)]
    if len(inner) % 3 == 0 and all(len(set(s)) == 1 for s in stages):
        return " / ".join(str(s[0]) for s in stages)
    return ", ".join(map(str, inner))


def _accuracy_note(models) -> str:
    """Where the finetuned rows' test accuracies come from: test images and epochs."""
    trained = {(m["test_images"], m["epochs"]) for m in models if m["epochs"]}
    if not trained:
        return "No finetuned row was measured."
    if len(trained) == 1:
        ((images, epochs),) = trained
        return f"Test accuracy on {images:,} test images, after {epochs} epochs of finetuning."
    return "Test accuracy of each row after its own finetuning (their epochs differ)."


def _speedup(model: dict[str, Any], batch: int) -> str:
    """``1.55x (1.48-1.61)``: the median speedup over runs at ``batch``, and their range."""
    runs = [float(run) for run in model[f"batch_{batch}_speedup_runs"]]
    return f"{float(model[f'batch_{batch}_speedup']):.2f}x ({min(runs):.2f}-{max(runs):.2f})"


def latency_rows(payload: dict[str, Any]) -> list[list[str]]:
    """The table's rows from the benchmark's JSON, in its order.

    Raises
    ------
    KeyError, TypeError, ValueError
        If the payload is not one ``benchmarks/channel_pruning.py`` writes.
    """
    rows = []
    for name, model in payload["results"].items():
        accuracy = model["test_accuracy"]
        below = model["accuracy_points_below_float"]
        rows.append(
            [
                name,
                f"{int(model['parameters']):,}",
                f"{model['macs'] / 1e6:.1f} M",
                _stage_widths(model["inner_channels"]),
                _speedup(model, 1),
                _speedup(model, 256),
                "-" if accuracy is None else f"{float(accuracy):.4f}",
                "-" if below is None else f"{0.0 - float(below):+.2f} pts",
            ]
        )
    return rows


class ChannelLatency(SphinxDirective):
    """``channel-latency``: the committed benchmark's machine, table and command."""

    def run(self) -> list[nodes.Node]:
        """Read the benchmark's JSON and return its machine, table and command."""
        path = (Path(self.env.srcdir) / self.config.edu_latency_file).resolve()
        self.env.note_dependency(str(path))
        if not path.is_file():
            note = nodes.note()
            note += paragraph_node(
                "The channel-pruning benchmark has not been run yet: ",
                nodes.literal(text="python benchmarks/channel_pruning.py"),
                ".",
            )
            return [note]
        try:
            payload = json.loads(path.read_text())
            rows = latency_rows(payload)
            machine = payload["hardware"]
            where = (
                f"Measured on {machine['cpu']} ({machine['nproc']} cores, "
                f"{machine['vector_isa']}), {payload['threads']} threads, torch "
                f"{machine['torch']}. {payload['runs']} runs, each in a fresh process, of "
                f"{payload['rounds']} rounds; in every round each model runs once, in an "
                "order that rotates, and its speedup is the dense model's time in that "
                "round over its own. The table gives the median over runs of each run's "
                "median speedup, and the runs' range in brackets. "
                f"{_accuracy_note(payload['results'].values())}"
            )
            command = str(payload["command"])
        except (ValueError, KeyError, TypeError) as error:
            raise self.error(f"{path} is not the channel benchmark's: {error!r}") from None
        return [
            paragraph_node(where),
            table_node(HEADER, rows, "channel-latency"),
            paragraph_node("Made by ", nodes.literal(text=command), "."),
        ]


def setup(app: Sphinx) -> dict[str, object]:
    """Register ``channel-latency`` and its ``edu_latency_file`` setting."""
    app.add_config_value(
        "edu_latency_file", "../benchmarks/results/channel_pruning_cpu.json", "env", [str]
    )
    app.add_directive("channel-latency", ChannelLatency)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
