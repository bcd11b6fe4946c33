"""The notebooks' default ``num_epochs`` against the committed measurement of
scripts/fewest_epochs.py: the default earns every checkpoint point, and the fewest
passing number of epochs the notebooks state is the measured one."""

import json
import re
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[2]
MEASURED = REPO / "outputs" / "fewest-epochs" / "results.json"
NOTEBOOKS = ("lab2_pruning.ipynb", "lab3_quantization.ipynb")


def _settings(name: str) -> tuple[int, str]:
    """The notebook's default ``num_epochs`` and its markdown, as one text."""
    notebook = nbformat.read(REPO / "solutions" / "homework" / name, as_version=4)
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    default = re.search(r"^num_epochs = (\d+)", code, re.MULTILINE)
    assert default, f"{name} sets no num_epochs"
    text = " ".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    return int(default.group(1)), " ".join(text.split())


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_does_the_default_number_of_epochs_earn_every_checkpoint_point(name):
    measured = json.loads(MEASURED.read_text())
    default, text = _settings(name)
    earned = measured["results"].get(str(default))
    assert earned, f"{MEASURED.name} has no run with {default} epochs, {name}'s default"
    for checkpoint, result in earned.items():
        assert result["failed"] == [], (name, checkpoint, result["failed"])
        assert result["points"] == result["max_points"]
    fewest = measured["fewest_passing"]
    assert fewest is not None and fewest <= default
    assert f"whose checkpoints pass the accuracy checks of grading is {fewest} " in text
