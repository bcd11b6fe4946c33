"""Tests of the declared Lab 1 parts: the spec's hyperparameters, run as declared."""

import numpy as np
import pytest

from edu.sparse import LAB1_PARTS, run, run_part


def test_homework_parts_have_the_spec_hyperparameters():
    """Are parts (b)-(f) the spec's methods and lambdas, with the extras flagged as such?"""
    declared = {p.name: (p.method, p.lams, p.beyond_homework) for p in LAB1_PARTS}
    assert declared["b"] == ("gd", (None,), False)
    assert declared["c"] == ("projected", (None,), False)
    assert declared["d"] == ("l1", (0.2, 0.5, 1.0, 2.0), False)
    assert declared["e"] == ("prox", (0.2, 0.5, 1.0, 2.0), False)
    assert declared["f"] == ("trimmed", (1.0, 2.0, 5.0, 10.0), False)
    extras = [name for name, (_, _, beyond) in declared.items() if beyond]
    assert sorted(extras) == ["extra-fista", "extra-group"]


@pytest.mark.parametrize(
    ("name", "thresholds"),
    [("e", (0.004, 0.01, 0.02, 0.04)), ("f", (0.02, 0.04, 0.1, 0.2))],
)
def test_proximal_parts_use_the_spec_thresholds(name, thresholds):
    """At lr = 0.02, are the thresholds of (e) and (f) those listed in the spec?"""
    part = next(p for p in LAB1_PARTS if p.name == name)
    results = run_part(part, steps=1)
    np.testing.assert_allclose([r.threshold for r in results], thresholds, rtol=1e-12)


def test_run_part_runs_each_lambda_as_run_would():
    """Does run_part give, lambda by lambda, what run gives with the same settings?"""
    part = next(p for p in LAB1_PARTS if p.name == "f")
    for result, lam in zip(run_part(part, steps=30, lr=0.01), part.lams, strict=True):
        direct = run("trimmed", lam=lam, k=2, steps=30, lr=0.01)
        np.testing.assert_array_equal(result.weights, direct.weights)
