"""Fixtures shared by the tests of pruning and finetuning: tiny batches, pruned nets, SGD."""

import pytest
import torch

from edu.models import ResNetCIFAR
from edu.prune import prunable_layers, prune_by_percentage
from edu.train import seed_everything


@pytest.fixture
def random_batches():
    """Make a list of ``(x, y)`` CIFAR-shaped random batches, reproducible from ``seed``."""

    def make(num_batches=3, batch_size=8, seed=0):
        generator = torch.Generator().manual_seed(seed)
        x = torch.randn(num_batches * batch_size, 3, 32, 32, generator=generator)
        y = torch.randint(0, 10, (num_batches * batch_size,), generator=generator)
        return list(zip(x.split(batch_size), y.split(batch_size), strict=True))

    return make


@pytest.fixture
def pruned_resnet():
    """Make a seeded ResNet-20 with every prunable layer pruned to ``q`` %."""

    def make(q=70):
        seed_everything(0)
        net = ResNetCIFAR()
        for _, layer in prunable_layers(net):
            prune_by_percentage(layer, q)
        return net

    return make


@pytest.fixture
def momentum_sgd():
    """Make SGD with momentum and weight decay, the two ways a pruned weight could revive."""

    def make(net):
        return torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)

    return make
