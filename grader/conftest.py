"""Run the hidden checks on one submission folder with pytest, for an instructor.

Usage, from the repository root::

    pytest grader/ --submission submitted/alice/homework
    pytest grader/ --submission submitted/alice/lab4

The assignment's source notebooks are ``solutions/<the submission folder's name>``
(``--source`` says otherwise); only the check modules of its test cells run, the others
are skipped (:func:`edu.grading.select_checks`). The fixtures are those
:func:`edu.grading.grade_course` gives the same check functions
(:class:`edu.grading.GradingContext`): the student's functions run in the sandbox, the
checkpoints are read in it; every failure message is the one the student's feedback
shows. Without ``--submission`` every check is skipped. Accuracy checks are skipped
when CIFAR-10 is not found (``--data-root`` or ``$EDU_DATA_ROOT``).
"""

import sys
import tempfile
from pathlib import Path

import pytest

from edu.grading import (
    AssignmentLayout,
    Deadline,
    GradingContext,
    Limits,
    SandboxPolicy,
    find_cifar10,
    read_submission,
    resolve_user,
)

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))  # the checks' shared helpers (_common.py)


def pytest_addoption(parser):
    group = parser.getgroup("hidden checks")
    group.addoption("--submission", default=None, help="a submission folder to check")
    group.addoption(
        "--source",
        default=None,
        help="the assignment's source notebooks (default: solutions/<the submission "
        "folder's name>, else solutions/homework)",
    )
    group.addoption("--data-root", default=None, help="folder holding CIFAR-10")


def _data_root(config) -> str | None:
    return find_cifar10(config.getoption("--data-root"))


def _source(config) -> Path:
    """The source notebooks of the submission's assignment."""
    if config.getoption("--source"):
        return Path(config.getoption("--source"))
    submission = config.getoption("--submission")
    named = HERE.parent / "solutions" / Path(submission).resolve().name if submission else None
    return named if named is not None and named.is_dir() else HERE.parent / "solutions" / "homework"


def pytest_collection_modifyitems(config, items):
    submission = config.getoption("--submission")
    data = _data_root(config)
    checks = [item for item in items if hasattr(getattr(item, "function", None), "grade_id")]
    modules = set()
    if submission is not None:  # the modules that grade this assignment's test cells
        graded = set(AssignmentLayout.from_notebooks(_source(config)).autograded)
        modules = {item.path for item in checks if item.function.grade_id in graded}
    for item in checks:
        if submission is None:
            item.add_marker(pytest.mark.skip(reason="no --submission DIR given"))
        elif item.path not in modules:
            item.add_marker(pytest.mark.skip(reason="a check of another assignment"))
        elif item.function.needs_data and data is None:
            item.add_marker(pytest.mark.skip(reason="CIFAR-10 not found (--data-root)"))


@pytest.fixture(scope="session")
def grading_context(request):
    folder = Path(request.config.getoption("--submission")).resolve()
    layout = AssignmentLayout.from_notebooks(_source(request.config))
    limits = Limits()
    submission = read_submission(folder, folder.parent.name, layout, limits)
    policy = SandboxPolicy(limits, resolve_user("nobody"), True)  # reads only its own code
    with tempfile.TemporaryDirectory(prefix="edu-grader-") as scratch:
        context = GradingContext(
            submission,
            layout,
            policy,
            Path(scratch),
            Deadline(limits.submission_timeout_s),
            _data_root(request.config),
        )
        yield context
        context.close()


def _context_fixture(name: str):
    """A session fixture ``name`` that the grading context makes for the checks."""

    def fixture(grading_context):
        return grading_context.fixtures()[name]()

    fixture.__doc__ = f"The grading context's {name!r} for the submission under test."
    return pytest.fixture(scope="session", name=name)(fixture)


for _name in (
    "submission",
    "checkpoints",
    "part0_true_false",
    "lab1_sparse_regression",
    "lab2_pruning",
    "lab3_quantization",
    "lab4_compression",
):
    globals()[_name] = _context_fixture(_name)
