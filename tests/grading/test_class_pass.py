"""The class pass pairs students from the moves their gradings measured, and only those.

``_copy_jobs`` is given every student's last result (what is reported) and the gradings
that ran to the end under this version of the grader (what is compared): a grading
that failed on the grader's side, or a damaged record, must not give a pair's points
back, nor take any away.
"""

import dataclasses

from edu.grading._output_similarity import PROBE_IMAGES
from edu.grading._pipeline import SubmissionResult
from edu.grading._runner import _copy_jobs, _recorded_moves

MOVE = [float(i % 7) for i in range(PROBE_IMAGES * 10)]
OTHER = [float(i % 5) for i in range(PROBE_IMAGES * 10)]


def _result(student: str, digest: str = "d", **fields) -> SubmissionResult:
    return SubmissionResult(student, "homework", digest, {}, {}, (), (), {}, **fields)


def _jobs(results, measured):
    submissions = {student: f"/submitted/{student}" for student in results}
    return {job.student: job.shared for job in _copy_jobs(results, measured, submissions, None)}


def test_is_a_new_pair_graded_again_and_a_kept_one_left_alone():
    """Two identical moves: both students are graded again with the file refused; once
    their results say so, nobody is; a third, independent student never is."""
    fresh = {
        "a": _result("a", moves={"lab2_finetune_70": MOVE}),
        "b": _result("b", moves={"lab2_finetune_70": MOVE}),
        "c": _result("c", moves={"lab2_finetune_70": OTHER}),
    }
    jobs = _jobs(fresh, fresh)
    assert sorted(jobs) == ["a", "b"]
    assert all("nearly identical" in shared["lab2_finetune_70"] for shared in jobs.values())
    paired = {s: dataclasses.replace(r, shared=jobs.get(s, {})) for s, r in fresh.items()}
    assert _jobs(paired, paired) == {}


def test_does_a_failed_grading_keep_the_pair_as_it_was():
    """Student a's new grading failed on the grader's side (no digest, no moves): b keeps
    the pair its last grading recorded, and a is not graded again in the same run."""
    fresh = {s: _result(s, moves={"lab2_finetune_70": MOVE}) for s in ("a", "b")}
    paired = {s: dataclasses.replace(r, shared=_jobs(fresh, fresh)[s]) for s, r in fresh.items()}
    results = dict(paired, a=_result("a", digest=""))
    assert _jobs(results, paired) == {}
    assert sorted(_jobs(results, {"b": paired["b"]})) == ["b"]  # had a's moves been lost


def test_is_a_damaged_record_compared_with_nobody():
    """Moves that are not a list of numbers (a damaged cache file) are left out, and the
    class pass goes on."""
    damaged = [
        _result("a", moves={"lab2_finetune_70": [None] * len(MOVE)}),
        _result("b", moves=5),
        _result("c", moves={"lab2_finetune_70": [[1.0]] * len(MOVE)}),
        _result("d", moves={"lab2_finetune_70": MOVE}),
    ]
    assert list(_recorded_moves(damaged)) == ["d"]
    results = {result.student: result for result in damaged}
    assert _jobs(results, results) == {}
