"""Sparsity schedules: the course's iterative (linear) one and the gradual cubic one.

Both are pure functions of the epoch or step that return the target sparsity in
**percent** (the ``q`` of :func:`prune_by_percentage`), so they plug straight into the
pruning functions. The cubic schedule is that of M. Zhu and S. Gupta, "To prune, or not
to prune: exploring the efficacy of pruning for model compression", ICLR Workshop 2018
(arXiv:1710.01878, 2017), eq. (1).
"""

from __future__ import annotations

__all__ = ["cubic_sparsity", "iterative_sparsity"]


def _check_percent(name: str, value: float) -> float:
    value = float(value)
    if not 0.0 <= value <= 100.0:
        raise ValueError(f"{name} must be a percentage in [0, 100], got {value}")
    return value


def _check_count(name: str, value: int, minimum: int) -> int:
    if isinstance(value, bool) or int(value) != value or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def iterative_sparsity(epoch: int, final: float = 70.0, prune_epochs: int = 10) -> float:
    """Target sparsity (percent) before ``epoch`` of the course's iterative pruning.

    Parameters
    ----------
    epoch : int
        Epoch index, from 0.
    final : float, default 70.0
        Sparsity (percent) reached at the last pruning epoch and kept afterwards.
    prune_epochs : int, default 10
        Number of pruning epochs (0 .. ``prune_epochs - 1``).

    Returns
    -------
    float
        :math:`q_e = s_f \\cdot (\\min(e, E - 1) + 1) / E`, in percent.

    Notes
    -----
    Lab 2 (d): before epoch :math:`e = 0, \\dots, 9` prune each layer to
    :math:`q = 7 (e + 1)` %, i.e. :math:`s_f = 70`, :math:`E = 10`; the sparsity
    grows linearly and stays at :math:`s_f` from epoch :math:`E - 1` on. Course
    notes, :ref:`schedules`.

    Examples
    --------
    >>> [iterative_sparsity(e) for e in (0, 1, 9, 15)]
    [7.0, 14.0, 70.0, 70.0]
    """
    epoch = _check_count("epoch", epoch, 0)
    final = _check_percent("final", final)
    prune_epochs = _check_count("prune_epochs", prune_epochs, 1)
    return final * (min(epoch, prune_epochs - 1) + 1) / prune_epochs


def cubic_sparsity(
    step: int,
    *,
    end_step: int,
    final: float = 70.0,
    initial: float = 0.0,
    begin_step: int = 0,
    frequency: int = 1,
) -> float:
    """Target sparsity (percent) at ``step`` of the gradual cubic schedule.

    Parameters
    ----------
    step : int
        Training step (or epoch), from 0.
    end_step : int
        Step :math:`t_0 + n \\Delta t` at which ``final`` is reached; > ``begin_step``.
    final, initial : float
        Final and initial sparsity :math:`s_f`, :math:`s_i` (percent).
    begin_step : int, default 0
        First pruning step :math:`t_0`.
    frequency : int, default 1
        Pruning interval :math:`\\Delta t`: the target changes only every
        ``frequency`` steps after ``begin_step``.

    Returns
    -------
    float
        The sparsity :math:`s_t` in percent.

    Notes
    -----
    Zhu and Gupta (2017), eq. (1):

    .. math:: s_t = s_f + (s_i - s_f) \\left(1 - \\frac{t - t_0}{n \\Delta t}\\right)^3

    for :math:`t \\in \\{t_0, t_0 + \\Delta t, \\dots, t_0 + n \\Delta t\\}`; between
    pruning steps the last value holds (:math:`t` is rounded down to the grid),
    before :math:`t_0` it is :math:`s_i`, from :math:`t_0 + n \\Delta t` on it is
    :math:`s_f`. It prunes fast while the network is redundant and slowly near the
    end. Course notes, :ref:`schedules`.

    Examples
    --------
    >>> cubic_sparsity(5, end_step=10, final=80.0)
    70.0
    """
    step = _check_count("step", step, 0)
    begin_step = _check_count("begin_step", begin_step, 0)
    end_step = _check_count("end_step", end_step, begin_step + 1)
    frequency = _check_count("frequency", frequency, 1)
    final = _check_percent("final", final)
    initial = _check_percent("initial", initial)
    if step < begin_step:
        return initial
    if step >= end_step:
        return final
    last_pruning_step = begin_step + (step - begin_step) // frequency * frequency
    remaining = 1.0 - (last_pruning_step - begin_step) / (end_step - begin_step)
    return final + (initial - final) * remaining**3
