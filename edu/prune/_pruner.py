"""``MagnitudePruner``: prepare / step / squash_mask around a sparsity schedule.

The object has the shape of :mod:`torch.ao.pruning`'s sparsifier and scheduler
together: ``prepare(net)`` attaches masks, each ``step()`` prunes every layer (or all
layers with one threshold) to the schedule's sparsity for the next step index, and
``squash_mask()`` leaves a plain sparse model. The masks only shrink: weights pruned
at one step stay pruned. That is gradual pruning (Zhu and Gupta, 2017); the course's
Lab 2 (d), where weights may grow back until the last pruning epoch, uses
:func:`prune_by_percentage` without masks instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from torch import nn

from edu.prune._magnitude import _check_scope, prune_model
from edu.prune._masks import prepare, squash_mask

__all__ = ["MagnitudePruner"]


class MagnitudePruner:
    """Prune to ``schedule(step)`` percent at each step, with masks enforced in between.

    Parameters
    ----------
    schedule : callable int -> float
        Target sparsity in percent for a step index, e.g.
        ``functools.partial(cubic_sparsity, end_step=..., final=70.0)``.
    scope : {"layer", "global"}, default "layer"
        One threshold per layer (:func:`prune_by_percentage`) or one for all
        (:func:`global_prune_by_percentage`); see :func:`prune_model`.
    layers : iterable of str, optional
        Layer names; default all of :func:`prunable_layers`.

    Raises
    ------
    ValueError
        If ``scope`` is neither ``"layer"`` nor ``"global"``.

    Notes
    -----
    Use ``pruner.step()`` as ``fit``'s ``after_step`` hook (per-step schedule) or in
    ``before_epoch`` (per-epoch schedule). Pruning runs only when the target changes.
    Course notes, :ref:`schedules`.

    Examples
    --------
    >>> import functools
    >>> import torch
    >>> from torch import nn
    >>> from edu.prune import cubic_sparsity, sparsity_report
    >>> _ = torch.manual_seed(0)
    >>> net = nn.Sequential(nn.Linear(100, 10))
    >>> pruner = MagnitudePruner(functools.partial(cubic_sparsity, end_step=4, final=50.0))
    >>> pruner.prepare(net)
    >>> [pruner.step() for _ in range(5)]
    [0.0, 28.90625, 43.75, 49.21875, 50.0]
    >>> pruner.squash_mask()
    >>> sparsity_report(net).total_sparsity
    0.5
    """

    def __init__(
        self,
        schedule: Callable[[int], float],
        *,
        scope: str = "layer",
        layers: Iterable[str] | None = None,
    ) -> None:
        self.schedule = schedule
        self.scope = _check_scope(scope)
        self.layers = None if layers is None else list(layers)
        self.net: nn.Module | None = None
        self.steps_done = 0
        self.sparsity: float | None = None

    def prepare(self, net: nn.Module) -> None:
        """Attach masks built from the current non-zeros of ``net``'s layers."""
        prepare(net, self.layers)
        self.net = net

    def step(self, index: int | None = None) -> float:
        """Prune to ``schedule(index)`` (default: the next step index); return it.

        Parameters
        ----------
        index : int, optional
            Step index to prune for; default ``steps_done`` (0, 1, 2, ... on
            successive calls). Pass it to resume; ``steps_done`` becomes
            ``index + 1``.

        Returns
        -------
        float
            The target sparsity in percent, ``float(schedule(index))``; the model is
            pruned (:func:`prune_model`) only when it differs from the last target.

        Raises
        ------
        RuntimeError
            If :meth:`prepare` has not been called.
        """
        if self.net is None:
            raise RuntimeError("call prepare(net) before step()")
        index = self.steps_done if index is None else index
        target = float(self.schedule(index))
        if target != self.sparsity:
            prune_model(self.net, target, self.scope, layers=self.layers)
            self.sparsity = target
        self.steps_done = index + 1
        return target

    def squash_mask(self) -> None:
        """Remove the masks, leaving plain weights with their zeros."""
        if self.net is not None:
            squash_mask(self.net)
