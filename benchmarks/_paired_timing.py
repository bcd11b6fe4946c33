"""Latency of several models against a baseline, paired round by round, over runs.

On a shared machine a network's time moves, within a run and between runs of the same
benchmark, and not every network's by the same factor: in the channel benchmark's
committed runs, two of five fresh processes ran every narrower ResNet-20 slower, by up
to half, while the dense one moved less. One ratio of two medians from one run is not
a measure to judge a target on. Here:

- every round measures each model once, and the position each model takes in the
  round rotates from round to round, so no model is always measured first or last;
- a model's speedup in a round is the baseline's time in that round over the model's,
  so a drift slower than a round falls on both and cancels;
- a run's speedup is the median of its rounds' speedups; several runs, each in a fresh
  process, show what pairing cannot remove (the state of a process), and the report
  gives their median and every run's value.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, TypeVar

__all__ = ["interleaved_rounds", "paired_speedup", "summarize_runs"]

Key = TypeVar("Key", bound=Hashable)


def interleaved_rounds(
    measurements: Mapping[Key, Callable[[], float]], rounds: int
) -> dict[Key, list[float]]:
    """Call every measurement once per round, the order shifted by one each round.

    Parameters
    ----------
    measurements
        What to measure, each a call that returns the seconds it measured.
    rounds
        How many rounds.

    Returns
    -------
    dict
        Each key's seconds, one per round, in round order.
    """
    keys = list(measurements)
    seconds: dict[Key, list[float]] = {key: [] for key in keys}
    for round_index in range(rounds):
        shift = round_index % len(keys)
        for key in keys[shift:] + keys[:shift]:
            seconds[key].append(measurements[key]())
    return seconds


def paired_speedup(baseline: Sequence[float], model: Sequence[float]) -> float:
    """The median over rounds of the baseline's time over the model's in that round.

    Parameters
    ----------
    baseline, model : sequence of float
        Seconds per round, the same rounds in the same order.

    Raises
    ------
    ValueError
        If the two do not have one time per round each, or none.
    """
    if len(baseline) != len(model) or not model:
        raise ValueError(f"need one time per round for both, got {len(baseline)} and {len(model)}")
    return statistics.median(base / time for base, time in zip(baseline, model, strict=True))


def summarize_runs(runs: Sequence[Mapping[str, Sequence[float]]], baseline: str) -> dict[str, Any]:
    """Each model's time and speedup over ``baseline``, per run and over the runs.

    Parameters
    ----------
    runs
        For each run, each model's seconds per round (rounds paired across models).
    baseline
        The model every speedup is against.

    Returns
    -------
    dict
        Per model: ``ms`` and ``speedup``, the medians over runs of each run's median
        time (milliseconds) and paired speedup, and ``ms_runs`` and ``speedup_runs``,
        the runs' own values in run order.
    """
    summary = {}
    for name in runs[0]:
        ms_runs = [1000 * statistics.median(run[name]) for run in runs]
        speedup_runs = [paired_speedup(run[baseline], run[name]) for run in runs]
        summary[name] = {
            "ms": statistics.median(ms_runs),
            "ms_runs": ms_runs,
            "speedup": statistics.median(speedup_runs),
            "speedup_runs": speedup_runs,
        }
    return summary
