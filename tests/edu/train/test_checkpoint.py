"""Checkpoints: atomic writes, weights_only loading, clear errors for bad files."""

import pickle

import pytest
import torch

from edu.models import ResNetCIFAR
from edu.train import CheckpointError, load_checkpoint, load_state_dict, save_checkpoint


class _Exploit:
    """Unpickling this runs code: the loader must refuse it."""

    def __reduce__(self):
        return (print, ("code ran during unpickling",))


def test_round_trip_keeps_every_tensor(tmp_path):
    """Does a saved checkpoint come back with the same weights and plain values?"""
    net = ResNetCIFAR()
    path = save_checkpoint(tmp_path / "c.pt", {"model": net.state_dict(), "epoch": 3})
    state = load_checkpoint(path)
    assert state["epoch"] == 3
    for key, value in net.state_dict().items():
        assert torch.equal(state["model"][key], value)
    assert not list(tmp_path.glob(".*tmp")), "temporary file left behind"


@pytest.mark.parametrize("key", ["model", "state_dict", None])
def test_load_state_dict_accepts_every_layout(tmp_path, key):
    """Are training checkpoints, weight files and bare state dicts all read?"""
    weights = ResNetCIFAR().state_dict()
    payload = weights if key is None else {key: weights}
    torch.save(payload, tmp_path / "w.pt")
    assert load_state_dict(tmp_path / "w.pt").keys() == weights.keys()


def test_pickle_with_code_is_refused_without_running_it(tmp_path, capsys):
    """Is a malicious pickle an error, and is its code never executed?"""
    path = tmp_path / "evil.pt"
    torch.save({"model": _Exploit()}, path, pickle_module=pickle)
    with pytest.raises(CheckpointError, match="weights_only") as error:
        load_checkpoint(path)
    assert "code ran" not in capsys.readouterr().out
    assert "GLOBAL print" in str(error.value)  # the reason, named
    assert "will likely succeed" not in str(error.value)  # not torch's advice to run it


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "cannot be loaded"), (b"not a checkpoint at all", "cannot be loaded")],
)
def test_garbage_files_give_clear_errors(tmp_path, content, message):
    """Do empty and non-torch files raise CheckpointError naming the file?"""
    path = tmp_path / "bad.pt"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=message) as error:
        load_checkpoint(path)
    assert str(path) in str(error.value)


def test_missing_file_and_non_weights_are_errors(tmp_path):
    """Is a missing file, or one without tensors, reported as such?"""
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "nope.pt")
    torch.save({"epoch": 1}, tmp_path / "meta.pt")
    with pytest.raises(CheckpointError, match="no model weights"):
        load_state_dict(tmp_path / "meta.pt")
