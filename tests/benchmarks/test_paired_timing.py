"""benchmarks/_paired_timing.py: rounds in rotating order, speedups paired by round, and
the median and range over runs."""

import pytest


@pytest.fixture
def timing(repo_script):
    return repo_script("benchmarks/_paired_timing.py")


def test_the_order_rotates_by_one_each_round(timing):
    """Does each round start one model later, so that every model takes every position
    (first, middle, last) in turn?"""
    calls = []
    measurements = {key: (lambda key=key: calls.append(key) or 1.0) for key in "abc"}
    seconds = timing.interleaved_rounds(measurements, rounds=4)
    assert calls == list("abcbcacababc")
    assert seconds == {key: [1.0] * 4 for key in "abc"}


def test_a_drift_shared_by_a_round_cancels_in_the_paired_speedup(timing):
    """Is a model twice as fast in every round measured at 2x, however much the machine's
    speed moves from round to round, and even when one round disturbs only the model?"""
    machine = [1.0, 1.0, 3.0, 2.5, 3.0]  # the machine slows down after two rounds
    baseline = [0.2 * slow for slow in machine]
    model = [0.1 * slow for slow in machine]
    assert timing.paired_speedup(baseline, model) == pytest.approx(2.0)
    model[1] *= 10  # another process took the cores for that one call
    assert timing.paired_speedup(baseline, model) == pytest.approx(2.0)


def test_mismatched_or_empty_rounds_are_refused(timing):
    """Is a speedup refused when the two do not have one time per round each?"""
    with pytest.raises(ValueError, match="one time per round"):
        timing.paired_speedup([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="one time per round"):
        timing.paired_speedup([], [])


def test_runs_are_summarized_by_their_median_and_kept_one_by_one(timing):
    """Are a model's time and speedup the medians over runs of each run's own, with
    every run's value kept in order?"""
    runs = [
        {"dense": [0.2, 0.2, 0.2], "narrow": [0.1, 0.1, 0.1]},  # 2x
        {"dense": [0.3, 0.3, 0.3], "narrow": [0.2, 0.2, 0.2]},  # 1.5x
        {"dense": [0.25, 0.25, 0.5], "narrow": [0.1, 0.1, 0.1]},  # 2.5, 2.5, 5 -> 2.5x
    ]
    summary = timing.summarize_runs(runs, "dense")
    assert summary["narrow"]["speedup_runs"] == pytest.approx([2.0, 1.5, 2.5])
    assert summary["narrow"]["speedup"] == pytest.approx(2.0)
    assert summary["narrow"]["ms_runs"] == pytest.approx([100.0, 200.0, 100.0])
    assert summary["narrow"]["ms"] == pytest.approx(100.0)
    assert summary["dense"]["speedup_runs"] == [1.0, 1.0, 1.0]
    assert summary["dense"]["ms_runs"] == pytest.approx([200.0, 300.0, 250.0])
