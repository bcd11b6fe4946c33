"""README's size-accuracy frontier against the committed ``edu frontier`` output."""

import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
FRONTIER = REPO / "outputs" / "reference" / "frontier"
HEADER = "| model | file (bytes) | smaller than float32 | test accuracy | vs float |"


def _committed():
    return json.loads((FRONTIER / "results.json").read_text())


def _unbeaten(models):
    """The models no file of at most their size matches in accuracy, found pair by pair
    (an oracle for :func:`edu.plots.pareto_front`), in size order."""
    kept = [
        m
        for m in models
        if not any(
            other is not m
            and other["file_bytes"] <= m["file_bytes"]
            and other["test_accuracy"] >= m["test_accuracy"]
            and (other["file_bytes"], -other["test_accuracy"])
            < (m["file_bytes"], -m["test_accuracy"])
            for other in models
        )
    ]
    return sorted(kept, key=lambda m: m["file_bytes"])


def test_the_committed_frontier_is_complete():
    """Are the command, the table, the figure and the JSON committed together, and does
    the JSON name the command README gives?"""
    for name in ("results.json", "results.md", "command.txt", "frontier.png"):
        assert (FRONTIER / name).is_file(), name
    command = _committed()["args"]["command"]
    assert command.startswith(
        "edu frontier outputs/reference --checkpoint "
        "outputs/reference/pretrained/resnet20_cifar10.pt"
    )
    assert (FRONTIER / "command.txt").read_text().strip() == command


def test_readmes_frontier_table_is_the_committed_run():
    """Is every row of README's table, and only those, an unbeaten model of the
    committed run, with its bytes, ratio and accuracy?"""
    lines = (REPO / "README.md").read_text().splitlines()
    start = lines.index(HEADER) + 2
    table = lines[start : lines.index("", start)]
    committed = _committed()
    expected = [
        f"| {m['lab']} `{m['row']}` | {m['file_bytes']:,} | {m['ratio']:.1f}x "
        f"| {m['test_accuracy']:.4f} "
        f"| {100 * (m['test_accuracy'] - committed['float_accuracy']):+.2f} pts |"
        for m in _unbeaten(committed["models"])
    ]
    assert table == expected
    text = " ".join((REPO / "README.md").read_text().split())
    assert f"the float32 state dict takes {committed['float32_bytes']:,} bytes" in text


def test_readmes_verdict_on_the_target_follows_the_committed_run():
    """Does README say the target is unmet exactly when no committed model is both at
    least 15x smaller and within 1 point, and otherwise name each one that is?"""
    committed = _committed()
    floor = round(committed["float_accuracy"] - 0.01, 4)
    meeting = [
        m for m in committed["models"] if m["ratio"] >= 15 and round(m["test_accuracy"], 4) >= floor
    ]
    text = " ".join((REPO / "README.md").read_text().split())
    if not meeting:
        assert "**No finished model meets both yet.**" in text
    else:
        assert "**No finished model meets both yet.**" not in text
        for m in meeting:
            assert f"`{m['row']}` meets the target" in text
