"""Are BatchLoader's batches the right images, with true random crops and flips?"""

import pytest
import torch
import torchvision.transforms.functional as TF

from edu.data import CIFAR10_MEAN, CIFAR10_STD, BatchLoader, crop_flip

TOL = 1e-5  # float32 normalization: (x / 255 - mean) / std vs x * (1 / (255 std)) - mean / std


def _images(n, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, 3, 32, 32), generator=generator, dtype=torch.uint8)


def _normalize(images):
    """The torchvision reference: ToTensor's x / 255, then Normalize."""
    return TF.normalize(images.float() / 255, list(CIFAR10_MEAN), list(CIFAR10_STD))


def _all_crops(image):
    """All 9 x 9 x 2 crops of the zero-padded image (as RandomCrop(32, padding=4) and
    RandomHorizontalFlip could give), normalized; and their (top, left, flip)."""
    padded = TF.pad(image, [4])
    crops, params = [], []
    for top in range(9):
        for left in range(9):
            crop = TF.crop(padded, top, left, 32, 32)
            for flip in (False, True):
                crops.append(TF.hflip(crop) if flip else crop)
                params.append((top, left, flip))
    return _normalize(torch.stack(crops)), params


def _match(x, image):
    """Which (top, left, flip) of ``image`` gives the output ``x``, by brute force."""
    crops, params = _all_crops(image)
    distance = (crops - x).abs().amax(dim=(1, 2, 3))
    return [params[i] for i in torch.nonzero(distance < TOL).flatten().tolist()]


def _epoch(loader):
    xs, ys = zip(*loader, strict=True)
    return torch.cat(xs), torch.cat(ys)


def test_shapes_dtypes_and_len():
    """Are batches float32 (B, 3, 32, 32) and int64 (B,), and len() the batch count?"""
    loader = BatchLoader(_images(10), torch.arange(10), 4, train=True, seed=0)
    batches = list(loader)
    assert len(loader) == len(batches) == 3
    assert [x.shape for x, _ in batches] == [(4, 3, 32, 32)] * 2 + [(2, 3, 32, 32)]
    assert all(x.dtype == torch.float32 and y.dtype == torch.int64 for x, y in batches)
    assert loader.num_images == 10


def test_drop_last():
    """Does drop_last drop the short batch (and len() agree)?"""
    loader = BatchLoader(_images(10), torch.arange(10), 4, train=True, seed=0, drop_last=True)
    assert len(loader) == 2
    assert [x.shape[0] for x, _ in loader] == [4, 4]
    assert loader.num_images == 8
    exact = BatchLoader(_images(8), torch.arange(8), 4, train=False, drop_last=True)
    assert len(exact) == 2


def test_eval_batches_are_the_normalized_images_in_order():
    """Are test batches every image once, in order, normalized as torchvision does?"""
    images = _images(10)
    loader = BatchLoader(images, torch.arange(10) % 3, 4, train=False)
    x, y = _epoch(loader)
    torch.testing.assert_close(x, _normalize(images), atol=TOL, rtol=0)
    assert torch.equal(y, torch.arange(10) % 3)


def test_channels_last_gives_the_same_values():
    """Is channels_last only a memory format (for eval and training batches)?"""
    images, labels = _images(12), torch.arange(12)
    for train in (False, True):
        plain = BatchLoader(images, labels, 5, train=train, seed=3)
        fast = BatchLoader(images, labels, 5, train=train, seed=3, channels_last=True)
        for (x, y), (x_cl, y_cl) in zip(plain, fast, strict=True):
            assert x_cl.is_contiguous(memory_format=torch.channels_last)
            assert torch.equal(x, x_cl) and torch.equal(y, y_cl)


def test_every_training_crop_is_a_window_of_the_padded_image():
    """Is each output some 32x32 crop (maybe flipped) of the image zero-padded by 4,
    with offsets that differ between the images of one batch?"""
    n = 24
    images = _images(n, seed=1)
    loader = BatchLoader(images, torch.arange(n), n, train=True, seed=0)
    ((x, y),) = list(loader)
    found = []
    for xi, index in zip(x, y.tolist(), strict=True):
        matches = _match(xi, images[index])
        assert len(matches) == 1, f"image {index}: {len(matches)} matching crops"
        found.append(matches[0])
    assert len({(top, left) for top, left, _ in found}) > n // 2
    assert 0 < sum(flip for _, _, flip in found) < n
    tops = {top for top, _, _ in found}
    assert min(tops) < 4 < max(tops)  # offsets on both sides of the centre


def test_padding_is_zero_before_normalization():
    """Do padded pixels come out as -mean/std (torchvision pads with 0 before Normalize)?"""
    image = torch.full((1, 3, 32, 32), 200, dtype=torch.uint8)
    x = crop_flip(image, torch.tensor([0]), torch.tensor([0]), torch.tensor([False]))
    assert (x[0, :, :4, :] == 0).all() and (x[0, :, 4:, 4:] == 200).all()

    loader = BatchLoader(image.expand(20, -1, -1, -1), torch.arange(20), 20, train=True, seed=0)
    ((x, _),) = list(loader)
    two_pixels = torch.tensor([0, 200], dtype=torch.uint8).expand(1, 3, 1, 2)
    reference = _normalize(two_pixels)[0, :, 0]  # (3, 2): value of 0 and of 200 per channel
    pad, inside = reference[:, 0], reference[:, 1]
    for channel in range(3):
        values = x[:, channel].flatten()
        is_pad = (values - pad[channel]).abs() < TOL
        assert is_pad.any()
        assert ((values - inside[channel]).abs() < TOL)[~is_pad].all()


def test_crop_flip_matches_explicit_slicing():
    """Does the batched gather equal per-image pad, slice and flip?"""
    images = _images(6, seed=2)
    top, left = torch.tensor([0, 8, 3, 4, 7, 1]), torch.tensor([8, 0, 5, 4, 2, 6])
    flip = torch.tensor([False, True, True, False, True, False])
    out = crop_flip(images, top, left, flip)
    for b in range(6):
        expected = TF.pad(images[b], [4])[:, top[b] : top[b] + 32, left[b] : left[b] + 32]
        assert torch.equal(out[b], expected.flip(-1) if flip[b] else expected)
    out_cl = crop_flip(images.contiguous(memory_format=torch.channels_last), top, left, flip)
    assert out_cl.is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(out_cl, out)


def test_each_epoch_covers_every_image_once_in_a_new_order():
    """Does each training epoch see every image once, shuffled anew?"""
    n = 50
    loader = BatchLoader(_images(n), torch.arange(n), 8, train=True, seed=0)
    _, first = _epoch(loader)
    _, second = _epoch(loader)
    assert torch.equal(first.sort().values, torch.arange(n))
    assert torch.equal(second.sort().values, torch.arange(n))
    assert not torch.equal(first, second)


def test_same_seed_same_batches_other_seed_other_batches():
    """Does the seed alone decide the order, crops and flips?"""
    images, labels = _images(20), torch.arange(20)
    a = _epoch(BatchLoader(images, labels, 6, train=True, seed=7))
    b = _epoch(BatchLoader(images, labels, 6, train=True, seed=7))
    c = _epoch(BatchLoader(images, labels, 6, train=True, seed=8))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[1], c[1])


def test_a_shared_generator_resumes_where_it_was():
    """Does restoring the generator's state (as a checkpoint does) replay the next epoch?"""
    generator = torch.Generator().manual_seed(0)
    loader = BatchLoader(_images(20), torch.arange(20), 6, train=True, generator=generator)
    _epoch(loader)
    state = generator.get_state()
    expected = _epoch(loader)
    generator.set_state(state)
    replay = _epoch(loader)
    assert torch.equal(expected[0], replay[0]) and torch.equal(expected[1], replay[1])


def test_eval_uses_no_randomness():
    """Does a test pass leave the random generator untouched?"""
    generator = torch.Generator().manual_seed(0)
    state = generator.get_state()
    list(BatchLoader(_images(5), torch.arange(5), 2, train=False, generator=generator))
    assert torch.equal(generator.get_state(), state)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"images": torch.zeros(2, 3, 32, 32)}, "uint8"),
        ({"labels": torch.arange(3)}, r"labels must have shape \(2,\)"),
        ({"batch_size": 0}, "batch_size"),
        ({"seed": 1, "generator": torch.Generator()}, "not both"),
    ],
)
def test_bad_arguments(kwargs, message):
    """Are wrong shapes, types and sizes refused with a message naming the problem?"""
    arguments = {
        "images": torch.zeros(2, 3, 32, 32, dtype=torch.uint8),
        "labels": torch.arange(2),
        "batch_size": 2,
        "train": True,
    } | kwargs
    with pytest.raises(ValueError, match=message):
        BatchLoader(**arguments)


def test_device_and_source_are_kept():
    """Does the loader report the device and the data source it was given?"""
    loader = BatchLoader(
        _images(3), torch.arange(3), 2, train=False, device="cpu", source="fake data"
    )
    assert loader.device == torch.device("cpu")
    assert loader.source == "fake data"
    x, y = next(iter(loader))
    assert x.device.type == y.device.type == "cpu"
