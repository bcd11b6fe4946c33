"""The iterative (linear) and gradual cubic sparsity schedules, checked by hand."""

import itertools

import pytest

from edu.prune import cubic_sparsity, iterative_sparsity


def test_iterative_schedule_is_the_courses():
    """Does epoch e = 0..9 give 7 (e + 1) % and every later epoch 70 %? (exact)"""
    assert [iterative_sparsity(e) for e in range(10)] == [7.0 * (e + 1) for e in range(10)]
    assert [iterative_sparsity(e) for e in range(10, 20)] == [70.0] * 10


def test_iterative_schedule_generalises():
    """Are final and the number of pruning epochs honoured (80 % in 4 epochs)?"""
    assert [iterative_sparsity(e, final=80.0, prune_epochs=4) for e in range(6)] == [
        20.0,
        40.0,
        60.0,
        80.0,
        80.0,
        80.0,
    ]


def test_cubic_schedule_endpoints_and_hand_midpoint():
    """Does the cubic schedule start at s_i, end at s_f and match eq. (1) at the midpoint?

    By hand: s_i = 10, s_f = 90, t_0 = 100, n dt = 400, t = 300:
    90 + (10 - 90) (1 - 200/400)^3 = 90 - 80/8 = 80 (tolerance 1e-12).
    """
    kwargs = dict(final=90.0, initial=10.0, begin_step=100, end_step=500, frequency=100)
    assert cubic_sparsity(0, **kwargs) == 10.0
    assert cubic_sparsity(100, **kwargs) == 10.0
    assert cubic_sparsity(300, **kwargs) == pytest.approx(80.0, abs=1e-12)
    assert cubic_sparsity(350, **kwargs) == pytest.approx(80.0, abs=1e-12)  # held until t = 400
    # t = 400: 90 - 80 (1/4)^3 = 88.75
    assert cubic_sparsity(400, **kwargs) == pytest.approx(88.75, abs=1e-12)
    assert cubic_sparsity(500, **kwargs) == 90.0
    assert cubic_sparsity(10_000, **kwargs) == 90.0


def test_cubic_schedule_is_monotone_and_front_loaded():
    """Is the schedule non-decreasing, and does it prune more in its first half than its second?"""
    values = [cubic_sparsity(t, end_step=100, final=70.0) for t in range(150)]
    assert all(a <= b for a, b in itertools.pairwise(values))
    assert values[50] - values[0] > values[100] - values[50]
    # t = 50 of 100: 70 (1 - 1/8) = 61.25
    assert values[50] == pytest.approx(61.25, abs=1e-12)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(end_step=0),
        dict(end_step=10, begin_step=10),
        dict(end_step=10, frequency=0),
        dict(end_step=10, final=101.0),
        dict(end_step=10, initial=-1.0),
    ],
)
def test_cubic_schedule_rejects_bad_arguments(kwargs):
    """Are an empty pruning window, a zero frequency and percentages outside [0, 100] refused?"""
    with pytest.raises(ValueError):
        cubic_sparsity(0, **kwargs)


def test_iterative_schedule_rejects_bad_arguments():
    """Are a negative epoch and zero pruning epochs refused?"""
    with pytest.raises(ValueError):
        iterative_sparsity(-1)
    with pytest.raises(ValueError):
        iterative_sparsity(0, prune_epochs=0)
