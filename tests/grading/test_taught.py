"""The table of taught functions and of what would do their work."""

from edu.grading._taught import COUNTERPARTS, TAUGHT


def test_is_every_taught_function_listed_with_its_reference():
    """Does every taught function have at least its own reference among its counterparts?"""
    for name, package in TAUGHT.items():
        assert f"{package}.{name}" in COUNTERPARTS[name]


def test_is_every_counterpart_a_real_name_of_edu():
    """Does every counterpart name something that exists in edu (no stale entry)?"""
    import importlib

    for qualified in {q for qs in COUNTERPARTS.values() for q in qs}:
        module, _, name = qualified.rpartition(".")
        assert hasattr(importlib.import_module(module), name), qualified
