"""The pretrained ResNet-20 shipped with the package."""

import math
import os

import pytest
import torch

from edu.data import BatchLoader, load_cifar10
from edu.models import ResNetCIFAR, pretrained_metadata, pretrained_path, pretrained_resnet20
from edu.train import evaluate


def test_shipped_weights_load_safely_with_the_expected_keys():
    """Does the file load with weights_only=True and hold exactly ResNet-20's tensors?"""
    state = torch.load(pretrained_path(), map_location="cpu", weights_only=True)
    expected = ResNetCIFAR().state_dict()
    assert state.keys() == expected.keys()
    for key, value in expected.items():
        assert state[key].shape == value.shape, key
    assert pretrained_path().stat().st_size < 2_000_000


def test_metadata_records_how_the_weights_were_made():
    """Does the metadata name the command, seed, data, hardware and the measured accuracy?"""
    meta = pretrained_metadata()
    assert all(stage["command"].startswith("edu train ") for stage in meta["stages"])
    assert meta["epochs"] == sum(stage["epochs"] for stage in meta["stages"])
    for key in ("seed", "data", "data_sha256", "hardware", "wall_seconds_all_epochs"):
        assert meta[key] not in (None, ""), key
    assert meta["test_images"] == 10_000


def test_quantized_variant_loads_the_same_weights():
    """Does pretrained_resnet20(Nbits=4) carry the shipped float weights?"""
    net = pretrained_resnet20(Nbits=4)
    state = torch.load(pretrained_path(), map_location="cpu", weights_only=True)
    assert torch.equal(net.final_fc.linear.weight, state["final_fc.linear.weight"])
    assert net.Nbits == 4


@pytest.mark.skipif(not os.environ.get("EDU_DATA_ROOT"), reason="EDU_DATA_ROOT is not set")
def test_metadata_accuracy_matches_a_fresh_evaluation():
    """Is the recorded accuracy what 1,000 test images give, within 4 binomial std devs?"""
    test = load_cifar10("test")
    loader = BatchLoader(test.images[:1000], test.labels[:1000], 500, train=False)
    fresh = evaluate(pretrained_resnet20(), loader).accuracy
    recorded = pretrained_metadata()["test_accuracy"]
    tolerance = 4 * math.sqrt(recorded * (1 - recorded) / 1000)
    assert abs(fresh - recorded) <= tolerance
