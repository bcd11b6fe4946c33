"""A tiny in-memory experiment: random ResNet-20 weights and 20 random images."""

import pytest
import torch

from edu.data import BatchLoader
from edu.experiments import Experiment, Settings
from edu.models import ResNetCIFAR


@pytest.fixture(scope="session")
def float_weights():
    """Random ResNet-20 weights (the float checkpoint of the tests)."""
    torch.manual_seed(0)
    return ResNetCIFAR().state_dict()


@pytest.fixture
def make_experiment(tmp_path, float_weights):
    """Build an Experiment on 20 training and 10 test images, batches of 10, on the CPU."""
    data = torch.Generator().manual_seed(1)
    images = torch.randint(0, 256, (20, 3, 32, 32), dtype=torch.uint8, generator=data)
    labels = torch.arange(20) % 10

    def make(output_dir=tmp_path / "out", **settings):
        settings = {"checkpoint_sha256": "test", "epochs": 1, "batch_size": 10, **settings}
        return Experiment(
            weights=float_weights,
            settings=Settings(**settings),
            output_dir=output_dir,
            train_loader=lambda generator: BatchLoader(
                images, labels, 10, train=True, generator=generator
            ),
            test_loader=BatchLoader(images[:10], labels[:10], 10, train=False),
            progress=False,
            log=None,
        )

    return make
