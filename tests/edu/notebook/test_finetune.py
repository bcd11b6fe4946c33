"""Is the notebooks' finetuning the reference recipe, and do the student hooks plug in?"""

from __future__ import annotations

import copy
import functools
import math

import pytest
import torch

from edu.data import BatchLoader
from edu.experiments import Experiment, Settings
from edu.experiments import finetune as reference_finetune
from edu.models import ResNetCIFAR
from edu.notebook import finetune
from edu.prune import apply_masks, masks_from_nonzeros, prune_model
from edu.train import finetune_after_prune

IMAGES = torch.randint(
    0, 256, (20, 3, 32, 32), dtype=torch.uint8, generator=torch.Generator().manual_seed(1)
)
LABELS = torch.arange(20) % 10


def _loaders():
    train = BatchLoader(IMAGES, LABELS, 10, train=True, seed=0)
    test = BatchLoader(IMAGES[:10], LABELS[:10], 10, train=False)
    return train, test


@pytest.fixture(scope="module")
def weights():
    torch.manual_seed(0)
    return ResNetCIFAR(num_layers=8).state_dict()


def _net(weights):
    net = ResNetCIFAR(num_layers=8)
    net.load_state_dict(weights)
    return net


def _assert_same_weights(a, b):
    for key, value in b.state_dict().items():
        assert torch.equal(a.state_dict()[key], value), key


def test_matches_the_reference_finetuning_of_edu_reproduce(tmp_path, weights):
    """Does finetune() end with the weights and accuracies of edu.experiments.finetune?"""
    exp = Experiment(
        weights=weights,
        settings=Settings(checkpoint_sha256="test", epochs=3, batch_size=10),
        output_dir=tmp_path,
        train_loader=lambda generator: BatchLoader(
            IMAGES, LABELS, 10, train=True, generator=generator
        ),
        test_loader=_loaders()[1],
        progress=False,
        log=None,
    )
    expected_net = _net(weights)
    expected = reference_finetune(exp, expected_net, tmp_path, best_from_epoch=1)
    net = _net(weights)
    train, test = _loaders()
    result = finetune(net, train, test, epochs=3, best_from_epoch=1, progress=False, log=None)
    _assert_same_weights(net, expected_net)
    got_accuracy = [row["test_accuracy"] for row in result.history]
    assert got_accuracy == [row["test_accuracy"] for row in expected.history]
    assert (result.best_epoch, result.best_accuracy) == (
        expected.best_epoch,
        expected.best_accuracy,
    )


def test_student_epoch_gets_the_same_schedule_as_the_default(weights):
    """Does an epoch function without a scheduler (finetune_after_prune) train exactly like
    the default epoch with masks re-applied, the cosine schedule stepped per batch?"""
    pruned = _net(weights)
    prune_model(pruned, 50)
    a, b = copy.deepcopy(pruned), copy.deepcopy(pruned)

    def student_epoch(net, trainloader, criterion, optimizer):  # returns None, as students do
        finetune_after_prune(net, trainloader, criterion, optimizer, progress=False)

    history = finetune(a, *_loaders(), epochs=2, train_epoch=student_epoch, log=None)
    masks = masks_from_nonzeros(b)
    finetune(
        b,
        *_loaders(),
        epochs=2,
        after_step=functools.partial(apply_masks, masks=masks),
        progress=False,
        log=None,
    )
    _assert_same_weights(a, b)
    steps_per_epoch = 2
    expected_lr = [0.01 * (1 + math.cos(math.pi * e * steps_per_epoch / 4)) / 2 for e in (1, 2)]
    assert [row["lr"] for row in history.history] == pytest.approx(expected_lr)
    assert "train_loss" not in history.history[0]


def test_keeps_the_best_epoch(weights):
    """Does the model end with the weights of its best epoch?"""
    net = _net(weights)
    result = finetune(net, *_loaders(), epochs=2, progress=False, log=None)
    for key, value in result.best_state.items():
        assert torch.equal(net.state_dict()[key], value)
    assert result.best_accuracy == max(row["test_accuracy"] for row in result.history)


def test_bad_arguments(weights):
    """Are impossible settings refused before any training?"""
    net = _net(weights)
    with pytest.raises(ValueError, match="epochs must be >= 1"):
        finetune(net, *_loaders(), epochs=0)
    with pytest.raises(ValueError, match="best_from_epoch must be in"):
        finetune(net, *_loaders(), epochs=2, best_from_epoch=2)
    with pytest.raises(ValueError, match="after_step applies to the default epoch only"):
        finetune(net, *_loaders(), epochs=1, train_epoch=finetune_after_prune, after_step=print)
