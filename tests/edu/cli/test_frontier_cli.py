"""``edu frontier`` end to end: every finished row compressed, read back and evaluated."""

import json

import pytest
import torch

from edu.cli.main import main
from edu.compress import load_compressed
from edu.data import BatchLoader, load_cifar10
from edu.train import load_state_dict


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("EDU_CACHE_DIR", str(tmp_path / "cache"))


def _accuracy_by_hand(net, data_root):
    test = load_cifar10("test", data_root)
    net.eval()
    right = 0
    with torch.no_grad():
        for x, y in BatchLoader(test.images, test.labels, 7, train=False):
            right += int((net(x).argmax(1) == y).sum())
    return right / len(test.labels)


def test_frontier_measures_the_files_of_every_finished_row(data_root, weights, tmp_path):
    out = tmp_path / "reproduce"
    data = ["--data-root", str(data_root), "--device", "cpu", "--no-progress"]
    for lab, rows in (("lab2", ["float", "oneshot-70"]), ("lab3", ["ptq-4"])):
        argv = ["reproduce", lab, "--smoke", "--checkpoint", str(weights), "--rows", *rows]
        assert main([*argv, "--output-dir", str(out), *data]) == 0
    argv = ["frontier", str(out), "--checkpoint", str(weights), "--data-root", str(data_root)]
    assert main([*argv, "--device", "cpu"]) == 0
    payload = json.loads((out / "frontier" / "results.json").read_text())
    float32 = sum(t.numel() * t.element_size() for t in load_state_dict(weights).values())
    assert payload["float32_bytes"] == float32
    models = {m["row"]: m for m in payload["models"]}
    assert list(models) == ["float", "oneshot-70", "ptq-4"]
    for lab, row in (("lab2", "float"), ("lab2", "oneshot-70"), ("lab3", "ptq-4")):
        path = out / "frontier" / f"{lab}-{row}.edz"
        assert models[row]["file_bytes"] == path.stat().st_size
        assert models[row]["ratio"] == pytest.approx(float32 / path.stat().st_size)
        loaded = load_compressed(path)
        assert models[row]["test_accuracy"] == pytest.approx(_accuracy_by_hand(loaded, data_root))
    assert (
        models["ptq-4"]["file_bytes"]
        < models["oneshot-70"]["file_bytes"]
        < models["float"]["file_bytes"]
    )
    assert load_compressed(out / "frontier" / "lab3-ptq-4.edz").Nbits == 4
    assert (out / "frontier" / "frontier.png").read_bytes().startswith(b"\x89PNG")
    assert "lab3 ptq-4" in (out / "frontier" / "results.md").read_text()


def test_frontier_without_finished_rows_says_so(data_root, weights, tmp_path, capsys):
    argv = ["frontier", str(tmp_path), "--checkpoint", str(weights), "--data-root", str(data_root)]
    assert main(argv) == 2
    assert "no finished rows" in capsys.readouterr().err
