"""Fixtures of the command-line tests: a tiny fake CIFAR-10 and random ResNet-20 weights."""

import numpy as np
import pytest
import torch
from PIL import Image

from edu.data import CIFAR10_CLASSES
from edu.models import ResNetCIFAR
from edu.train import save_checkpoint


@pytest.fixture(scope="session")
def data_root(tmp_path_factory):
    """An image-folder CIFAR-10 with 4 training and 2 test images per class (lossless PNG)."""
    root = tmp_path_factory.mktemp("fake-cifar")
    rng = np.random.default_rng(0)
    for split, count in (("train", 4), ("test", 2)):
        for name in CIFAR10_CLASSES:
            folder = root / split / name
            folder.mkdir(parents=True)
            for index in range(count):
                pixels = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
                Image.fromarray(pixels).save(folder / f"{index:04d}.png")
    return root


@pytest.fixture(scope="session")
def weights(tmp_path_factory):
    """Random ResNet-20 weights saved as a weights file: the float checkpoint."""
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("weights") / "model.pt"
    return save_checkpoint(path, {"state_dict": ResNetCIFAR().state_dict()})
