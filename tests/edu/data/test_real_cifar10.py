"""Does the real CIFAR-10 (found through EDU_DATA_ROOT) load complete and sensible?

Skipped unless ``EDU_DATA_ROOT`` is set (CI sets it to the folder holding
``cifar10-jpeg.tar.gz``). The first run decodes the 60,000 JPEGs (about 12 s on 2
cores) into the per-user cache (``$EDU_CACHE_DIR`` or ``~/.cache/edu/cifar10``); later
runs read the cache (under a second).
"""

import os

import pytest
import torch

from edu.data import CIFAR10_MEAN, CIFAR10_STD, BatchLoader, find_data_root, load_cifar10

pytestmark = pytest.mark.skipif(
    not os.environ.get("EDU_DATA_ROOT"),
    reason="EDU_DATA_ROOT is not set (point it at a folder holding CIFAR-10, "
    "e.g. ../shared/data with cifar10-jpeg.tar.gz)",
)

SIZES = {"train": 50_000, "test": 10_000}


@pytest.fixture(scope="module")
def splits():
    return {split: load_cifar10(split) for split in SIZES}


@pytest.mark.parametrize("split", list(SIZES))
def test_split_sizes_and_classes(splits, split):
    """50,000 / 10,000 images, a tenth of them in each class?"""
    data = splits[split]
    assert data.images.shape == (SIZES[split], 3, 32, 32)
    assert data.images.dtype == torch.uint8 and data.labels.dtype == torch.int64
    assert torch.bincount(data.labels, minlength=10).tolist() == [SIZES[split] // 10] * 10
    assert str(find_data_root().resolve()) in data.source


def test_training_pixel_statistics(splits):
    """Are the per-channel mean and std those of CIFAR-10 (within 0.02)?"""
    std, mean = torch.std_mean(splits["train"].images.float(), dim=(0, 2, 3))
    mean, std = mean / 255, std / 255
    torch.testing.assert_close(mean, torch.tensor(CIFAR10_MEAN), atol=0.02, rtol=0)
    torch.testing.assert_close(std, torch.tensor(CIFAR10_STD), atol=0.02, rtol=0)


def test_prefix_is_class_balanced(splits):
    """Does a smoke run on the first 1,000 images see every class about equally?"""
    counts = torch.bincount(splits["train"].labels[:1000], minlength=10)
    assert counts.min() >= 50


def test_cached_reload_is_identical(splits):
    """Does the cached reload give exactly the decoded tensors?"""
    again = load_cifar10("test")
    assert torch.equal(again.images, splits["test"].images)
    assert torch.equal(again.labels, splits["test"].labels)


def test_a_training_batch(splits):
    """Is a real training batch shaped, typed and normalized as the model expects?"""
    train = splits["train"]
    loader = BatchLoader(train.images, train.labels, 256, train=True, seed=0)
    x, y = next(iter(loader))
    assert x.shape == (256, 3, 32, 32) and y.shape == (256,)
    assert abs(x.mean().item()) < 0.3  # normalized, roughly
