"""The order tests/conftest.py gives pytest-xdist's workers (``scripts/dev.py test``)."""

from pathlib import Path
from types import SimpleNamespace


def _item(path: str, name: str, slow: bool = False):
    return SimpleNamespace(
        path=Path(path), name=name, get_closest_marker=lambda mark: slow if mark == "slow" else None
    )


def test_files_with_a_slow_test_come_first_each_kept_whole_and_in_order(repo_script):
    conftest = repo_script("tests/conftest.py")
    items = [
        _item("a.py", "a1"),
        _item("b.py", "b1"),
        _item("b.py", "b2", slow=True),
        _item("c.py", "c1"),
        _item("d.py", "d1", slow=True),
        _item("d.py", "d2"),
    ]
    ordered = [item.name for item in conftest.slow_files_first(items)]
    assert ordered == ["b1", "b2", "d1", "d2", "a1", "c1"]
