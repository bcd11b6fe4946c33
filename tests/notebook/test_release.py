"""Is the committed student release exactly what nbgrader generates from solutions/?"""

from __future__ import annotations

import filecmp
from pathlib import Path

from edu.notebook import release

ROOT = Path(__file__).resolve().parents[2]


def test_committed_release_matches_a_fresh_nbgrader_run(tmp_path):
    """Does `nbgrader generate_assignment` on solutions/ reproduce assignments/ byte for byte?"""
    fresh = release.generate(ROOT, "homework", tmp_path)
    committed = ROOT / "assignments" / "homework"
    names = sorted(p.name for p in fresh.iterdir())
    assert names == sorted(p.name for p in committed.iterdir())
    for name in names:
        assert filecmp.cmp(fresh / name, committed / name, shallow=False), (
            f"assignments/homework/{name} is out of date: run python -m edu.notebook.release"
        )


def test_check_reports_up_to_date(capsys):
    """Does `python -m edu.notebook.release --check` accept the committed release?"""
    assert release.main(["--root", str(ROOT), "--check"]) == 0
    assert "up to date" in capsys.readouterr().out
