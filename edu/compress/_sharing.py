"""Finetuning with shared weights: every weight of a cluster moves with its centroid.

Deep Compression (Han et al., 2016, section 3.3) finetunes a k-means-shared layer by
updating its centroids: the gradient of the loss with respect to centroid ``c_j`` is
the sum of the gradients of the weights that share it. A step of the weights' learning
rate along that sum moves a centroid shared by ``|C_j|`` weights ``|C_j|`` times as far as
one weight moves in Labs 2 and 3; with clusters of hundreds or thousands of weights it
diverges (measured: 4-bit finetuning of the pretrained ResNet-20 at learning rate 0.01
falls to 20 % training accuracy within its first epoch). So each centroid takes the step
``lr / |C_j|`` along its summed gradient: it moves by its weights' mean gradient, which
is what the centroid of the weights becomes when every weight takes its own SGD step
and is then put back on its cluster's mean.

Here the weights stay ordinary tensors: a gradient hook replaces each weight's gradient
by the mean over its cluster. All weights of a cluster then receive the same gradient,
and since they hold the same value, SGD with momentum and weight decay gives them the
same update, step after step: they stay equal, and their common value follows the
centroid. Weight decay acts on each weight as on the centroid, ``lambda * c``. Pruned
zeros get a zero gradient and stay 0. Because nothing but the values is stored, the
clusters are read back from the weights (equal values, one cluster), so a checkpoint
resumes as is.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from edu.compress._kmeans import kmeans_quantize
from edu.quant import QuantConv2d, QuantLinear

__all__ = ["SharedWeights", "cluster_labels", "share_weights"]


def cluster_labels(weight: torch.Tensor) -> tuple[torch.Tensor, int]:
    """Each non-zero weight's cluster (one per distinct value), and the cluster count.

    Zeros are labelled ``-1``: they belong to no cluster.

    Examples
    --------
    >>> cluster_labels(torch.tensor([0.5, 0.0, -1.0, 0.5]))
    (tensor([ 1, -1,  0,  1]), 2)
    """
    labels = torch.full(weight.shape, -1, dtype=torch.long, device=weight.device)
    nonzero = weight != 0
    values, inverse = torch.unique(weight.detach()[nonzero], return_inverse=True)
    labels[nonzero] = inverse
    return labels, values.numel()


def _averaged_over_clusters(labels: torch.Tensor, count: int):
    """A gradient hook: each weight's gradient becomes the mean over its cluster's."""
    member = labels >= 0
    members = labels[member]
    sizes = torch.bincount(members, minlength=count)

    def hook(grad: torch.Tensor) -> torch.Tensor:
        sums = torch.zeros(count, dtype=grad.dtype, device=grad.device)
        sums.index_add_(0, members, grad[member])
        shared = torch.zeros_like(grad)
        shared[member] = (sums / sizes.to(sums))[members]
        return shared

    return hook


@dataclass
class SharedWeights:
    """The layers tied to their centroids by :func:`share_weights`; ``remove()`` unties them."""

    bits: int
    layers: list[str]
    _handles: list[torch.utils.hooks.RemovableHandle] = field(default_factory=list, repr=False)

    def remove(self) -> None:
        """Stop averaging gradients over clusters (the weights keep their shared values)."""
        for handle in self._handles:
            handle.remove()
        self._handles.clear()


def share_weights(net: nn.Module, bits: int) -> SharedWeights:
    """Share each quantizable layer's weights among :math:`2^{bits}` centroids, for training.

    Parameters
    ----------
    net : nn.Module
        Its :class:`~edu.quant.QuantConv2d` and :class:`~edu.quant.QuantLinear` layers
        (in the CIFAR ResNet, the stage convolutions and shortcuts: those the linear
        quantizer quantizes) are shared; others stay float. Use float layers
        (``Nbits=None``): the shared values are the weights.
    bits : int
        Bits per code.

    Returns
    -------
    SharedWeights
        The names of the shared layers; while it lives, gradients are averaged over
        clusters (see the module docstring).

    Notes
    -----
    Each weight is replaced by :func:`kmeans_quantize` ``(weight, bits)``. A layer
    that already holds at most :math:`2^{bits}` distinct non-zero values (a resumed
    run) is kept as it is, and its clusters are read back by :func:`cluster_labels`.
    """
    shared = SharedWeights(bits=bits, layers=[])
    for name, layer in net.named_modules():
        if not isinstance(layer, (QuantConv2d, QuantLinear)):
            continue
        with torch.no_grad():
            layer.weight.copy_(kmeans_quantize(layer.weight, bits))
        labels, count = cluster_labels(layer.weight)
        shared._handles.append(layer.weight.register_hook(_averaged_over_clusters(labels, count)))
        shared.layers.append(name)
    return shared
