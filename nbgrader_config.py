"""nbgrader configuration of the course (read by nbgrader from the repository root).

The instructor's source notebooks live in ``solutions/<assignment>/`` and the student
release that ``nbgrader generate_assignment`` makes of them in
``assignments/<assignment>/`` (``python -m edu.notebook.release`` runs it). The
course has two assignments, ``homework`` and the bonus ``lab4``, each with its own due
date and points. ``nbgrader export`` writes
``nbgrader_export.csv``: its default, ``grades.csv``, is the table ``edu grade`` writes.
"""

c = get_config()  # noqa: F821 - provided by traitlets when it loads this file

c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "assignments"
c.CsvExportPlugin.to = "nbgrader_export.csv"
# Files an instructor's run of a solution notebook leaves beside it stay out of the
# release: the personal seed (each student must draw their own) and the checkpoints.
c.CourseDirectory.ignore = [
    ".ipynb_checkpoints",
    "*.pyc",
    "__pycache__",
    "feedback",
    "edu_seed.txt",
    "*.pt",
]
