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
    by_file: dict[Path, list[pytest.Item]] = {}
    for item in items:
        by_file.setdefault(item.path, []).append(item)
    slow = [f for f, tests in by_file.items() if any(t.get_closest_marker("slow") for t in tests)]
    rest = [f for f in by_file if f not in slow]
    return [item for path in (*slow, *rest) for item in by_file[path]]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In pytest-xdist's workers (``scripts/dev.py test``), send the slow files first."""
    if hasattr(config, "workerinput"):
        items[:] = slow_files_first(items)
