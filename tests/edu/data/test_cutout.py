"""Is cutout DeVries and Taylor's square, and does BatchLoader apply it as it says?"""

import numpy as np
import pytest
import torch

from edu.data import BatchLoader, cutout


def _devries_mask(height, width, row, col, length):
    """The mask of the paper's reference code (``Cutout.__call__``), for one image."""
    mask = np.ones((height, width), np.float32)
    y1, y2 = np.clip(row - length // 2, 0, height), np.clip(row + length // 2, 0, height)
    x1, x2 = np.clip(col - length // 2, 0, width), np.clip(col + length // 2, 0, width)
    mask[y1:y2, x1:x2] = 0.0
    return mask


@pytest.mark.parametrize("length", [2, 8, 16])
def test_is_the_square_the_reference_codes(length):
    """For every centre of a 12 x 10 image, inside and on the border: the same mask as
    the paper's code (even sides, which it is written for)?"""
    rows, cols = torch.meshgrid(torch.arange(12), torch.arange(10), indexing="ij")
    rows, cols = rows.flatten(), cols.flatten()
    x = torch.ones(len(rows), 3, 12, 10)
    masked = cutout(x, rows, cols, length)
    assert masked is x  # in place
    for b, (row, col) in enumerate(zip(rows.tolist(), cols.tolist(), strict=True)):
        expected = torch.from_numpy(_devries_mask(12, 10, row, col, length))
        assert torch.equal(masked[b], expected.expand(3, -1, -1)), (row, col)


def test_is_channels_last_masked_alike():
    """Does a channels_last batch get the same squares as a contiguous one?"""
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(6, 3, 32, 32, generator=generator)
    rows, cols = torch.randint(0, 32, (2, 6), generator=generator)
    contiguous = cutout(x.clone(), rows, cols, 16)
    channels_last = cutout(x.clone().contiguous(memory_format=torch.channels_last), rows, cols, 16)
    assert torch.equal(contiguous, channels_last)


def _images(n):
    generator = torch.Generator().manual_seed(1)
    return torch.randint(1, 255, (n, 3, 32, 32), generator=generator, dtype=torch.uint8)


def test_does_the_loader_mask_one_square_per_training_image():
    """Are a training image's zeros one axis-aligned block, at most 16 x 16, the same in
    every channel, at a place of its own; and are evaluation batches never masked?"""
    images = _images(64)
    loader = BatchLoader(images, torch.arange(64), 32, train=True, seed=0, padding=0, cutout=16)
    x = torch.cat([batch for batch, _ in loader])
    zero = x == 0  # pixels in 1..254 never normalize to exactly 0
    assert torch.equal(zero, zero[:, :1].expand_as(zero))  # the same square in every channel
    blocks = set()
    for image in zero[:, 0]:
        rows = torch.nonzero(image.any(1)).flatten()
        cols = torch.nonzero(image.any(0)).flatten()
        height, width = len(rows), len(cols)
        assert 1 <= height <= 16 and 1 <= width <= 16
        assert int(image.sum()) == height * width  # a full block
        assert rows[-1] - rows[0] + 1 == height and cols[-1] - cols[0] + 1 == width
        blocks.add((int(rows[0]), int(cols[0]), height, width))
    assert len(blocks) > 32
    evaluation = BatchLoader(images, torch.arange(64), 32, train=False, cutout=16)
    assert not any((batch == 0).any() for batch, _ in evaluation)


def test_does_no_cutout_keep_the_batches_of_before():
    """Does cutout=0 draw nothing more (the batches of a loader without the option), and
    does one with cutout differ from them only where it masked?"""
    images = _images(40)
    plain = list(BatchLoader(images, torch.arange(40), 16, train=True, seed=3))
    zero = list(BatchLoader(images, torch.arange(40), 16, train=True, seed=3, cutout=0))
    masked = list(BatchLoader(images, torch.arange(40), 16, train=True, seed=3, cutout=8))
    for (a, ya), (b, yb), (c, yc) in zip(plain, zero, masked, strict=True):
        assert torch.equal(a, b) and torch.equal(ya, yb) and torch.equal(ya, yc)
        assert torch.equal(torch.where(c == 0, 0.0, a), c)


def test_is_a_negative_side_refused():
    """Is cutout < 0 refused with the reason?"""
    with pytest.raises(ValueError, match="cutout is the side of a square"):
        BatchLoader(_images(4), torch.arange(4), 2, train=True, seed=0, cutout=-1)
