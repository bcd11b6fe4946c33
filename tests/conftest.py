"""Fixtures shared by every test folder."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_script() -> Callable[[str], ModuleType]:
    """Import a file of the repository that is not in a package (a script under
    ``scripts/``, a benchmark under ``benchmarks/``) by its path from the root, as a
    fresh module named after the file."""

    def load(relative_path: str) -> ModuleType:
        path = REPO / relative_path
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load


def slow_files_first(items: list[pytest.Item]) -> list[pytest.Item]:
    """``items`` with the files that hold a ``slow`` test first, each file's tests kept
    together and in order: under ``--dist loadfile`` a long file started last would
    leave the other workers idle while it finishes."""
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    return sorted(items, key=lambda item: item.path not in slow_files)  # stable: order kept


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In pytest-xdist's workers (``scripts/dev.py test``), send the slow files first.

    pytest calls this hook once with every collected item, the doctests of ``edu/`` too."""
    if hasattr(config, "workerinput"):
        items[:] = slow_files_first(items)
