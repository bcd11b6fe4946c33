"""Is k-means weight sharing a Lloyd fixed point, as good as brute force where it should be?"""

import itertools

import pytest
import torch

from edu.compress import kmeans_quantize


def _sse(values, shared):
    return float(((values.double() - shared.double()) ** 2).sum())


def _brute_force_sse(values, k):
    """The least squared error of any k clusters: in 1-D, contiguous runs of the sorted
    values, so every choice of k - 1 cuts among the n - 1 gaps is tried."""
    ordered = sorted(values.double().tolist())
    best = float("inf")
    for cuts in itertools.combinations(range(1, len(ordered)), k - 1):
        bounds = (0, *cuts, len(ordered))
        error = 0.0
        for start, stop in itertools.pairwise(bounds):
            group = torch.tensor(ordered[start:stop], dtype=torch.float64)
            error += float(((group - group.mean()) ** 2).sum())
        best = min(best, error)
    return best


@pytest.mark.parametrize("seed", range(4))
def test_well_separated_clusters_reach_the_brute_force_optimum(seed):
    """On 12 values in 4 separated groups, is the 2-bit sharing the brute-force optimum?"""
    generator = torch.Generator().manual_seed(seed)
    centers = torch.tensor([-1.0, -0.2, 0.3, 1.5])
    values = (centers.repeat_interleave(3) + 0.05 * torch.randn(12, generator=generator)).float()
    shared = kmeans_quantize(values, 2)
    assert _sse(values, shared) == pytest.approx(_brute_force_sse(values, 4), rel=1e-6)


@pytest.mark.parametrize("seed", range(6))
def test_result_is_a_lloyd_fixed_point_no_worse_than_the_optimum(seed):
    """On random values: is each centroid the mean of its weights, each weight nearest
    its centroid, and the error within reach of brute force (never below it)?"""
    values = torch.randn(11, generator=torch.Generator().manual_seed(seed))
    shared = kmeans_quantize(values, 2).double()
    centroids = shared.unique()
    assert centroids.numel() <= 4
    for centroid in centroids:
        members = values.double()[shared == centroid]
        assert float(members.mean()) == pytest.approx(float(centroid), abs=1e-6)
    distances = (values.double()[:, None] - centroids[None]).abs()
    nearest = distances.min(dim=1).values
    assert torch.allclose((values.double() - shared).abs(), nearest, atol=1e-6)
    optimum = _brute_force_sse(values, 4)
    assert optimum - 1e-9 <= _sse(values, shared) <= 1.5 * optimum + 1e-9


def test_pruned_zeros_stay_out_of_the_clustering():
    """Do zeros stay exactly 0 and leave the centroids of the other weights unchanged?"""
    values = torch.tensor([0.5, 0.6, 2.0, 2.2, -1.0, -1.1])
    with_zeros = torch.zeros(12)
    with_zeros[::2] = values
    shared = kmeans_quantize(with_zeros, 2)
    assert torch.equal(shared[1::2], torch.zeros(6))
    assert torch.equal(shared[::2], kmeans_quantize(values, 2))


def test_linear_initialization_and_levels():
    """Are there at most 2^bits values, the extremes kept by the linear initialization?"""
    weight = torch.randn(64, 32, 3, 3, generator=torch.Generator().manual_seed(0))
    weight[weight.abs() < 0.5] = 0
    shared = kmeans_quantize(weight, 3)
    assert shared.shape == weight.shape and shared.dtype == weight.dtype
    assert torch.equal(shared == 0, weight == 0)
    assert shared[shared != 0].unique().numel() <= 8
    assert shared.max() <= weight.max() and shared.min() >= weight.min()


def test_all_zero_weights_and_bad_bits():
    """Does an all-pruned layer stay zero, and are 0 or fractional bits refused?"""
    assert torch.equal(kmeans_quantize(torch.zeros(5), 3), torch.zeros(5))
    for bits in (0, 2.5, True):
        with pytest.raises(ValueError, match="bits must be"):
            kmeans_quantize(torch.ones(3), bits)
