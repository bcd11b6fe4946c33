"""k-means weight sharing (Han et al., 2016, "Deep Compression", section 3).

The non-zero weights of a layer are clustered into :math:`2^N` groups and each weight
is replaced by its group's centroid, so the layer stores :math:`2^N` float32 centroids
(its codebook) and an :math:`N`-bit code per non-zero weight. Unlike the linear
quantizer's evenly spaced levels, the centroids follow the weights' distribution:
dense where the weights are. As in the paper, the centroids start evenly spaced over
the range of the weights (linear initialization, which keeps a few centroids on the
rare large weights) and move by Lloyd's iterations; pruned zeros take no part, and stay
exactly 0.
"""

from __future__ import annotations

import torch

__all__ = ["kmeans_quantize", "kmeans_quantizer"]


def _nearest(values: torch.Tensor, centroids: torch.Tensor) -> torch.Tensor:
    """Index of the nearest centroid of each value (ties to the lower centroid)."""
    ordered, order = torch.sort(centroids, stable=True)
    midpoints = (ordered[1:] + ordered[:-1]) / 2
    return order[torch.bucketize(values, midpoints)]


def kmeans_quantize(weight: torch.Tensor, bits: int, iterations: int = 100) -> torch.Tensor:
    """Share the non-zero weights of ``weight`` among :math:`2^{bits}` k-means centroids.

    Parameters
    ----------
    weight : torch.Tensor
        Weights of any shape; entries equal to 0 are pruned and left out.
    bits : int
        Bits per code, at least 1: :math:`k = 2^{bits}` centroids.
    iterations : int, default 100
        Most Lloyd iterations; they stop earlier when no weight changes cluster.

    Returns
    -------
    torch.Tensor
        Same shape and dtype as ``weight``: each non-zero weight replaced by its
        centroid, zeros kept; at most :math:`2^{bits}` distinct non-zero values.

    Notes
    -----
    With :math:`\\mathcal{W}` the non-zero weights, the centroids start at
    :math:`c_j = \\min \\mathcal{W} + j (\\max \\mathcal{W} - \\min \\mathcal{W}) / (k - 1)`
    and alternate the two steps of Lloyd's algorithm, which never increase
    :math:`\\sum_i (w_i - c_{a_i})^2`: assign each weight to its nearest centroid,
    :math:`a_i = \\arg\\min_j |w_i - c_j|`, then move each centroid to the mean of its
    weights (a centroid with no weight stays where it is). At convergence each
    centroid is the mean of its weights and each weight is nearest its centroid.
    Computed in float64, returned in the weight's dtype. Weights that already hold at
    most :math:`2^{bits}` distinct non-zero values are returned unchanged: each value
    is its own centroid, the optimum (zero error), which Lloyd's iterations from the
    linear initialization need not find.

    Examples
    --------
    >>> w = torch.tensor([0.0, 1.0, 1.2, 4.9, 5.4, 0.0, 9.0])
    >>> kmeans_quantize(w, 1)  # clusters {1, 1.2} and {4.9, 5.4, 9}
    tensor([0.0000, 1.1000, 1.1000, 6.4333, 6.4333, 0.0000, 6.4333])
    >>> kmeans_quantize(w, 2)  # {1, 1.2}, {4.9}, {5.4}, {9}
    tensor([0.0000, 1.1000, 1.1000, 4.9000, 5.4000, 0.0000, 9.0000])
    """
    if isinstance(bits, bool) or not isinstance(bits, int) or bits < 1:
        raise ValueError(f"bits must be an integer >= 1, got {bits!r}")
    mask = weight != 0
    values = weight.detach()[mask].to(torch.float64)
    if values.numel() == 0:
        return torch.zeros_like(weight)
    count = 2**bits
    if torch.unique(values).numel() <= count:  # every value its own centroid: no error
        return weight.detach().clone()
    centroids = torch.linspace(float(values.min()), float(values.max()), count, dtype=torch.float64)
    labels = _nearest(values, centroids)
    for _ in range(iterations):
        sums = torch.zeros(count, dtype=torch.float64).index_add_(0, labels, values)
        sizes = torch.bincount(labels, minlength=count)
        centroids = torch.where(sizes > 0, sums / sizes.clamp(min=1), centroids)
        new_labels = _nearest(values, centroids)
        if torch.equal(new_labels, labels):
            break
        labels = new_labels
    shared = torch.zeros_like(weight)
    shared[mask] = centroids[labels].to(weight.dtype)
    return shared


def kmeans_quantizer(weight: torch.Tensor, bits: int, symmetric: bool = False) -> torch.Tensor:
    """:func:`kmeans_quantize` as a layer's quantizer, ``(w, bits, symmetric) -> w_q``.

    Pass it as ``quantizer`` to :class:`~edu.models.ResNetCIFAR` (with ``Nbits``) to
    share every stage convolution's weights among :math:`2^{bits}` centroids;
    ``symmetric`` means nothing to k-means and is ignored.
    """
    return kmeans_quantize(weight, bits)
