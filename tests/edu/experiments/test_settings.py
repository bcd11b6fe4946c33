"""Settings: the iterative schedule's length, the recorded values, the checkpoint hash."""

import hashlib

import pytest

from edu.experiments import Settings, file_sha256


@pytest.mark.parametrize(("epochs", "prune_epochs"), [(20, 10), (7, 3), (2, 1), (1, 1)])
def test_half_of_the_epochs_prune(epochs, prune_epochs):
    """Do the iterative rows prune before the first epochs // 2 epochs (at least one)?"""
    assert Settings("x", epochs=epochs).prune_epochs == prune_epochs


def test_defaults_are_the_documented_recipe():
    """Are the defaults the spec's 20 epochs and batch 256, with SGD 0.9 / 5e-4 / lr 0.01?"""
    recorded = Settings("abc").as_dict()
    assert recorded == {
        "checkpoint_sha256": "abc",
        "epochs": 20,
        "lr": 0.01,
        "batch_size": 256,
        "momentum": 0.9,
        "weight_decay": 5e-4,
        "seed": 0,
        "limit_train": None,
        "limit_test": None,
        "prune_epochs": 10,
    }


@pytest.mark.parametrize("bad", [{"epochs": 0}, {"batch_size": 0}, {"lr": 0.0}])
def test_impossible_settings_are_refused(bad):
    """Is a run with no epochs, empty batches or no learning rate refused up front?"""
    with pytest.raises(ValueError):
        Settings("x", **bad)


def test_checkpoint_hash_is_sha256_of_the_bytes(tmp_path):
    """Does file_sha256 agree with hashlib on the whole file?"""
    path = tmp_path / "w.pt"
    path.write_bytes(b"weights" * 400_000)
    assert file_sha256(path) == hashlib.sha256(path.read_bytes()).hexdigest()
