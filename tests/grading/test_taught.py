"""The table of taught functions and of what would do their work."""

import importlib

from edu.grading._taught import COUNTERPARTS, TAUGHT


def test_is_every_taught_function_listed_with_its_reference():
    """Is every taught function's reference in edu first among its counterparts, in the
    package the table names, and under the function's own name where edu has one?"""
    for name, package in TAUGHT.items():
        reference = COUNTERPARTS[name][0]
        assert reference.rpartition(".")[0] == package, name
        if hasattr(importlib.import_module(package), name):
            assert reference == f"{package}.{name}", name


def test_is_every_counterpart_a_real_name_of_edu():
    """Does every counterpart name something that exists in edu (no stale entry)?"""
    for qualified in {q for qs in COUNTERPARTS.values() for q in qs}:
        module, _, name = qualified.rpartition(".")
        assert hasattr(importlib.import_module(module), name), qualified


def test_are_lab4s_references_counterparts():
    """Are the references of the bonus Lab 4 (channel pruning, k-means sharing) and the
    routes to them counterparts of the functions students write?"""
    assert COUNTERPARTS["channel_importance"] == ("edu.prune.channel_importance",)
    assert "edu.prune.remove_channels" in COUNTERPARTS["remove_inner_channels"]
    for route in ("kmeans_quantize", "kmeans_quantizer", "share_weights"):
        assert f"edu.compress.{route}" in COUNTERPARTS["kmeans_quantize"]
