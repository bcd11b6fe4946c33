"""The shared optimizer and learning-rate schedules."""

import math

import pytest
import torch
from torch import nn

from edu.train import make_scheduler, make_sgd


def _rates(schedule, steps=10, peak=0.1):
    optimizer = make_sgd(nn.Linear(2, 1), lr=peak, momentum=0.9, weight_decay=5e-4)
    scheduler = make_scheduler(optimizer, schedule, peak, steps)
    rates = []
    for _ in range(steps):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return optimizer, rates


def test_sgd_uses_nesterov_momentum_and_weight_decay():
    """Is the optimizer SGD with the given momentum (Nesterov) and weight decay?"""
    optimizer, _ = _rates("constant")
    group = optimizer.param_groups[0]
    assert (group["momentum"], group["nesterov"], group["weight_decay"]) == (0.9, True, 5e-4)


def test_cosine_follows_the_closed_form():
    """Is step t's rate lr (1 + cos(pi t / T)) / 2?"""
    _, rates = _rates("cosine")
    expected = [0.1 * (1 + math.cos(math.pi * t / 10)) / 2 for t in range(10)]
    assert rates == pytest.approx(expected)


def test_onecycle_peaks_at_the_peak_rate_and_constant_stays():
    """Does one-cycle rise to the peak and fall, and 'constant' never change?"""
    _, rates = _rates("onecycle", steps=100)
    assert max(rates) == pytest.approx(0.1) and rates[0] < 0.01 and rates[-1] < 0.001
    assert set(_rates("constant")[1]) == {0.1}


def test_unknown_schedule_is_refused():
    """Is a misspelt schedule an error listing the choices?"""
    optimizer = torch.optim.SGD(nn.Linear(2, 1).parameters(), lr=0.1)
    with pytest.raises(ValueError, match="onecycle, cosine, constant"):
        make_scheduler(optimizer, "step", 0.1, 10)
