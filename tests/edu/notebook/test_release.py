"""Does the release module run nbgrader, and does its check catch every kind of drift?"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from edu.notebook import release

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def course(tmp_path):
    """A copy of the repository's nbgrader course: config, solutions/ and assignments/."""
    for name in ("solutions", "assignments"):
        shutil.copytree(ROOT / name / "homework", tmp_path / name / "homework")
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path)
    return tmp_path


def test_generate_writes_the_release_and_no_gradebook(course):
    """Does generate() replace a release folder and leave no gradebook database behind?"""
    target = course / "assignments" / "homework"
    (target / "stale.txt").write_text("left over")
    assert release.generate(course) == target
    assert not (target / "stale.txt").exists()
    assert sorted(p.name for p in target.iterdir()) == sorted(
        p.name for p in (course / "solutions" / "homework").iterdir()
    )
    assert not list(course.glob("gradebook.db"))


def test_differences_finds_changed_missing_and_extra_files(course):
    """Are a changed, a deleted and an extra release file each reported?"""
    target = course / "assignments" / "homework"
    assert release.differences(course) == []
    changed = target / "lab1_sparse_regression.ipynb"
    changed.write_text(changed.read_text().replace("Lab 1", "Lab one", 1))
    (target / "part0_true_false.ipynb").unlink()
    (target / "notes.txt").write_text("extra")
    problems = release.differences(course)
    assert len(problems) == 3
    assert any("part0_true_false.ipynb" in p and "missing" in p for p in problems)
    assert any("notes.txt" in p and "extra" in p for p in problems)
    assert any("lab1_sparse_regression.ipynb" in p and "differs" in p for p in problems)


def test_a_changed_solution_makes_the_release_stale(course):
    """Does editing a source notebook without regenerating fail the check (exit 1)?"""
    source = course / "solutions" / "homework" / "lab2_pruning.ipynb"
    source.write_text(source.read_text().replace("weights_only=True", "weights_only = True"))
    assert release.main(["--root", str(course), "--check"]) == 1
    assert release.main(["--root", str(course)]) == 0
    assert release.main(["--root", str(course), "--check"]) == 0


def test_missing_config_or_source_is_a_clear_error(tmp_path):
    """Is a folder without nbgrader_config.py or without the source notebooks refused?"""
    with pytest.raises(FileNotFoundError, match=r"nbgrader_config\.py"):
        release.generate(tmp_path)
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n")
    with pytest.raises(FileNotFoundError, match="no source notebooks"):
        release.generate(tmp_path)


def test_nbgrader_failure_is_reported(course):
    """Does a source notebook nbgrader rejects (duplicate grade ids) raise ReleaseError
    with nbgrader's message?"""
    source = course / "solutions" / "homework" / "part0_true_false.ipynb"
    source.write_text(
        source.read_text().replace('"grade_id": "test_tf_1_2"', '"grade_id": "test_tf_1_1"')
    )
    with pytest.raises(release.ReleaseError, match="generate_assignment homework failed"):
        release.generate(course)
