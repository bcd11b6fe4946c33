"""The course demo: a small class of sample submissions, autograded end to end.

:func:`run_demo` builds a course folder in nbgrader's layout from the repository's two
assignments, the homework and the bonus Lab 4 (:func:`build_course`: the instructor's
notebooks, nbgrader's student release, the hidden checks), adds the sample class of
:data:`SAMPLE_SUBMISSIONS` and :data:`LAB4_SAMPLE_SUBMISSIONS` (a full solution, with
the reference checkpoints for the homework, the untouched stub, a partly wrong and a
hostile submission), grades each assignment with :func:`edu.grading.grade_course` and
checks what the demo promises: the full solutions get every autograded point, the
stubs none. ``edu demo --out DIR`` runs it from the command line.
"""

from edu.demo._course import ASSIGNMENT, ASSIGNMENTS, COURSE_ID, build_course, course_repository
from edu.demo._run import AssignmentGrades, DemoOutcome, prepare_demo_folder, run_demo
from edu.demo._samples import (
    LAB4_SAMPLE_SUBMISSIONS,
    SAMPLE_SUBMISSIONS,
    SampleSubmission,
    solved,
)

__all__ = [
    "ASSIGNMENT",
    "ASSIGNMENTS",
    "COURSE_ID",
    "LAB4_SAMPLE_SUBMISSIONS",
    "SAMPLE_SUBMISSIONS",
    "AssignmentGrades",
    "DemoOutcome",
    "SampleSubmission",
    "build_course",
    "course_repository",
    "prepare_demo_folder",
    "run_demo",
    "solved",
]
