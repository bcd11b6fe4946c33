"""scripts/group_norms.py: its learning-rate sum against the closed form, its committed
measurement against the committed checkpoints, and the strengths' docstrings against it."""

import json
from pathlib import Path

import pytest

from edu.experiments import GROUP_LASSO_STRENGTH, STRONG_GROUP_LASSO_STRENGTH
from edu.models import pretrained_resnet20

REPO = Path(__file__).resolve().parents[2]
MEASURED = REPO / "benchmarks" / "results" / "group_norms.json"


def _flat(tree, prefix=""):
    """A nested dict as one dict from slash-joined keys to leaves (approx compares flat)."""
    if not isinstance(tree, dict):
        return {prefix: tree}
    return {k: v for key, sub in tree.items() for k, v in _flat(sub, f"{prefix}/{key}").items()}


@pytest.fixture(scope="module")
def script(repo_script):
    return repo_script("scripts/group_norms.py")


@pytest.mark.parametrize(("lr", "steps"), [(0.01, 3920), (0.1, 150), (1.0, 1)])
def test_learning_rate_sum_is_the_cosine_closed_form(script, lr, steps):
    """Is it sum_{t<T} lr (1 + cos(pi t / T)) / 2 = lr (T + 1) / 2? (The cosines cancel
    in pairs but for t = 0.)"""
    assert script.learning_rate_sum(lr, steps) == pytest.approx(lr * (steps + 1) / 2, rel=1e-9)


def test_committed_measurement_is_what_the_committed_checkpoints_give(script):
    """Does a fresh measurement of the committed checkpoints give the committed JSON?"""
    committed = json.loads(MEASURED.read_text())
    measured = script.measure(REPO / "outputs" / "reference", pretrained_resnet20().state_dict())
    assert committed["command"].startswith("python scripts/group_norms.py outputs/reference")
    del committed["command"]
    assert _flat(committed) == pytest.approx(_flat(measured), rel=1e-5)
    assert set(measured["rows"]) >= {"group-lasso", "group-lasso-strong"}


def test_strengths_docstrings_quote_the_measurement():
    """Are the numbers the strengths were chosen by those the script measured?"""
    committed = json.loads(MEASURED.read_text())
    start, rows = committed["pretrained"], committed["rows"]
    text = " ".join((REPO / "edu" / "experiments" / "_tables.py").read_text().split())
    assert rows["group-lasso"]["strength"] == GROUP_LASSO_STRENGTH
    assert rows["group-lasso-strong"]["strength"] == STRONG_GROUP_LASSO_STRENGTH
    assert f"groups ({start['median']:.2f}; they range from {start['min']:.2f} to" in text
    assert f"{start['max']:.2f})" in text
    weak = rows["group-lasso"]
    assert f"median norm fell to {weak['after']['median']:.2f}" in text
    assert f"only {weak['after']['zero']} of the {start['groups']} inner channels" in text
    strong = rows["group-lasso-strong"]
    assert f"budget, {strong['budget']:.2f}, exceeds the norm of all but" in text
    assert f"all but {start['groups'] - strong['pretrained_groups_below_budget']} of" in text
