"""When a grade is stale: the grader's fingerprint and the cached results."""

import dataclasses

from edu.grading import AssignmentLayout, GradingSettings, SubmissionResult
from edu.grading._regrade import fingerprint, load_result, save_result

_SETTINGS = GradingSettings(AssignmentLayout("homework", ()), b"", "grader")


def _result():
    return SubmissionResult("alice", "homework", "abc", {"t": 1.0}, {"t": 2.0}, (), (), {})


def test_does_a_saved_result_read_back(tmp_path):
    """Is a saved result read back equal, with its fingerprint?"""
    path = tmp_path / "alice.json"
    save_result(path, _result(), "f1")
    assert load_result(path) == ("f1", _result())


def test_is_an_unreadable_cache_entry_a_miss(tmp_path):
    """Do a truncated, an edited and a missing entry read as None (graded again)?"""
    path = tmp_path / "alice.json"
    save_result(path, _result(), "f1")
    text = path.read_text()
    for broken in (text[: len(text) // 2], text.replace('"scores"', '"marks"'), "[]"):
        path.write_text(broken)
        assert load_result(path) is None
    assert load_result(tmp_path / "bob.json") is None


def test_does_the_fingerprint_follow_paths_and_limits(tmp_path):
    """Does moving a check file, or changing a limit, change the fingerprint?"""
    checks = tmp_path / "grader"
    (checks / "a").mkdir(parents=True)
    (checks / "a" / "test_x.py").write_text("x = 1\n")
    first = fingerprint(checks, _SETTINGS)
    assert fingerprint(checks, _SETTINGS) == first
    (checks / "b").mkdir()
    (checks / "a" / "test_x.py").rename(checks / "b" / "test_x.py")
    moved = fingerprint(checks, _SETTINGS)
    assert moved != first
    limits = dataclasses.replace(_SETTINGS.limits, cpu_s=1)
    assert fingerprint(checks, dataclasses.replace(_SETTINGS, limits=limits)) != moved
