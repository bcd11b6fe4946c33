"""README's size-accuracy frontier against the committed ``edu frontier`` output."""

import json
import re
import tempfile
from pathlib import Path

from edu.compress import save_compressed
from edu.models import resnet_from_state_dict
from edu.plots import FRONTIER_MAX_DROP, FRONTIER_MIN_RATIO, FrontierPoint, pareto_front
from edu.train import load_state_dict

REPO = Path(__file__).resolve().parents[3]
FRONTIER = REPO / "outputs" / "reference" / "frontier"
HEADER = "| model | file (bytes) | smaller than float32 | test accuracy | vs float |"


def _committed():
    return json.loads((FRONTIER / "results.json").read_text())


def _readme_text():
    return " ".join((REPO / "README.md").read_text().split())


def _target(committed):
    """The largest file and the lowest accuracy the target admits (accuracy to 4 digits,
    as the test split of 10,000 images gives it)."""
    return (
        committed["float32_bytes"] / FRONTIER_MIN_RATIO,
        round(committed["float_accuracy"] - FRONTIER_MAX_DROP, 4),
    )


def test_the_committed_frontier_is_complete_and_its_command_is_readmes():
    """Are the command, the table, the figure and the JSON committed together, and is
    the command they record the one README gives?"""
    for name in ("results.json", "results.md", "command.txt", "frontier.png"):
        assert (FRONTIER / name).is_file(), name
    command = _committed()["args"]["command"]
    assert (FRONTIER / "command.txt").read_text().strip() == command
    quoted = re.search(r"`(edu frontier [^`]*)` writes every finished row", _readme_text())
    assert quoted is not None and command.startswith(quoted.group(1))


def test_the_committed_frontier_holds_every_finished_row():
    """Is every row the reproduction finished (a ``row.json`` of Labs 2, 3 and 4) in the
    committed frontier, so that README's table was drawn from all of them?"""
    finished = {
        (path.parts[-3], path.parts[-2])
        for path in (REPO / "outputs" / "reference").glob("lab[234]/*/row.json")
    }
    measured = {(m["lab"], m["row"]) for m in _committed()["models"]}
    assert len(finished) > 30
    assert finished <= measured, f"not in the frontier: {sorted(finished - measured)}"


def test_readmes_frontier_table_is_the_committed_run():
    """Is every row of README's table, and only those, an unbeaten model of the
    committed run (edu.plots.pareto_front, itself tested against a brute-force oracle),
    with its bytes, ratio and accuracy?"""
    lines = (REPO / "README.md").read_text().splitlines()
    start = lines.index(HEADER) + 2
    table = lines[start : lines.index("", start)]
    committed = _committed()
    by_label = {f"{m['lab']} `{m['row']}`": m for m in committed["models"]}
    points = [
        FrontierPoint(label, m["file_bytes"], m["test_accuracy"]) for label, m in by_label.items()
    ]
    expected = []
    for point in pareto_front(points):
        m = by_label[point.label]
        below = 100 * (m["test_accuracy"] - committed["float_accuracy"])
        expected.append(
            f"| {point.label} | {m['file_bytes']:,} | {m['ratio']:.1f}x "
            f"| {m['test_accuracy']:.4f} | {below:+.2f} pts |"
        )
    assert table == expected
    assert f"the float32 state dict takes {committed['float32_bytes']:,} bytes" in _readme_text()


def test_readmes_verdict_on_the_target_follows_the_committed_run():
    """Does README state the target's bounds, say it is unmet exactly when no committed
    model meets both, and name the nearest models on either side with their numbers?"""
    committed = _committed()
    most_bytes, least_accuracy = _target(committed)
    text = _readme_text()
    assert f"(at most {int(most_bytes):,} bytes)" in text
    assert f"(at least {least_accuracy:.4f})" in text
    models = committed["models"]
    small = [m for m in models if m["file_bytes"] <= most_bytes]
    accurate = [m for m in models if round(m["test_accuracy"], 4) >= least_accuracy]
    meeting = [m for m in small if m in accurate]
    if meeting:
        assert "**No finished model meets both yet.**" not in text
        for m in meeting:
            below = 100 * (committed["float_accuracy"] - m["test_accuracy"])
            assert f"`{m['row']}` meets the target" in text
            assert f"{m['ratio']:.1f}x smaller ({m['file_bytes']:,} bytes)" in text
            assert f"exactly {below:.2f} point below" in text or f"{below:.2f} points below" in text
        aimed = [m for m in meeting if m["ratio"] >= 20]
        assert ("No model reaches the 20x the course aims for within a point" in text) != bool(
            aimed
        )
        return
    assert "**No finished model meets both yet.**" in text
    smallest = min(accurate, key=lambda m: m["file_bytes"])
    best = max(small, key=lambda m: m["test_accuracy"])
    below = 100 * (committed["float_accuracy"] - best["test_accuracy"])
    assert f"The smallest within a point is `{smallest['row']}`" in text
    assert f"and {smallest['ratio']:.1f}x smaller" in text
    assert f"the most accurate at 15x or more is `{best['row']}`, {best['ratio']:.1f}x" in text
    assert f"at {below:.2f} points below" in text
    short = 100 * (least_accuracy - best["test_accuracy"])
    assert f"it needs {short:.2f} points more" in text


def test_readmes_size_of_qat_3_without_huffman_codes():
    """Is the size README gives `qat-3` with packed codes and lzma what save_compressed
    writes with huffman=False, and the distillation's gain and extra bytes the run's?"""
    committed = {(m["lab"], m["row"]): m for m in _committed()["models"]}
    record = json.loads((REPO / "outputs/reference/lab3/qat-3/row.json").read_text())
    net = resnet_from_state_dict(
        load_state_dict(REPO / "outputs/reference/lab3/qat-3/model.pt"),
        Nbits=record["details"]["nbits"],
    )
    with tempfile.TemporaryDirectory() as folder:
        packed = save_compressed(net, Path(folder) / "net.edz", huffman=False)
    ratio = packed.float32_bytes / packed.file_bytes
    text = _readme_text()
    assert f"its file took {packed.file_bytes:,} bytes, {ratio:.1f}x" in text
    distilled = committed[("lab4", "sparse-qat-3-distilled")]
    plain = committed[("lab3", "sparse-qat-3")]
    gain = 100 * (distilled["test_accuracy"] - plain["test_accuracy"])
    extra = distilled["file_bytes"] - plain["file_bytes"]
    assert f"{gain:.2f} points ({distilled['test_accuracy']:.4f} against" in text
    assert f"in a file {extra} bytes larger" in text


def test_readmes_k_means_against_linear_comparison_follows_the_committed_run():
    """Are the k-means and linear rows README compares at 4 and 3 bits quoted as run?"""
    committed = {m["row"]: m for m in _committed()["models"]}
    text = _readme_text()
    for kmeans, linear in (("kmeans-4", "qat-4"), ("kmeans-3", "qat-3")):
        assert f"{committed[kmeans]['file_bytes']:,} bytes" in text
        assert f"{committed[kmeans]['test_accuracy']:.4f} against" in text
        assert f"{committed[linear]['test_accuracy']:.4f}" in text
    size = committed["kmeans-3"]["file_bytes"] / committed["qat-3"]["file_bytes"]
    assert f"in a file {size:.2f} times as large" in text


def test_readmes_sparse_kmeans_files_follow_the_committed_run():
    """Are the sparse k-means files' bytes, ratios and points as measured, between the
    sparse QAT rows as README says, and is their start's own loss the run's?"""
    committed = _committed()
    models = {m["row"]: m for m in committed["models"]}
    text = _readme_text()
    phrases = {
        "sparse-kmeans-3": "`sparse-kmeans-3` takes {size:,} bytes ({ratio:.1f}x) at {below:.2f}",
        "sparse-kmeans-4": "`sparse-kmeans-4` {size:,} ({ratio:.1f}x) at {below:.2f}",
    }
    for row, phrase in phrases.items():
        m = models[row]
        below = 100 * (committed["float_accuracy"] - m["test_accuracy"])
        assert phrase.format(size=m["file_bytes"], ratio=m["ratio"], below=below) in text
        assert m["test_accuracy"] > models["sparse-qat-2"]["test_accuracy"]
        assert m["file_bytes"] < models["sparse-qat-3"]["file_bytes"]
        assert models["sparse-qat-3"]["ratio"] < m["ratio"] < models["sparse-qat-2"]["ratio"]
    start = 100 * (committed["float_accuracy"] - models["sensitivity-80"]["test_accuracy"])
    assert f"`sensitivity-80` alone, in float, is {start:.2f} points below" in text
