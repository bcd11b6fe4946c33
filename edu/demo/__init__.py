"""The course demo: a small class of sample submissions, autograded end to end.

:func:`run_demo` builds a course folder in nbgrader's layout from the repository's
homework (:func:`build_course`: the instructor's notebooks, nbgrader's student release,
the hidden checks), adds the sample class of :data:`SAMPLE_SUBMISSIONS` (a full
solution with the reference checkpoints, the untouched stub, a partly wrong and a
hostile submission), grades it with :func:`edu.grading.grade_course` and checks what
the demo promises: the full solution gets every autograded point, the stub none.
``edu demo --out DIR`` runs it from the command line.
"""

from edu.demo._course import ASSIGNMENT, COURSE_ID, build_course, course_repository
from edu.demo._run import DemoOutcome, prepare_demo_folder, run_demo
from edu.demo._samples import SAMPLE_SUBMISSIONS, SampleSubmission, solved

__all__ = [
    "ASSIGNMENT",
    "COURSE_ID",
    "SAMPLE_SUBMISSIONS",
    "DemoOutcome",
    "SampleSubmission",
    "build_course",
    "course_repository",
    "prepare_demo_folder",
    "run_demo",
    "solved",
]
