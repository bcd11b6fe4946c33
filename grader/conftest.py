"""Run the hidden checks on one submission folder with pytest, for an instructor.

Usage, from the repository root::

    pytest grader/ --submission submitted/alice/homework

The fixtures are those :func:`edu.grading.grade_course` gives the same check functions
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
        default=str(HERE.parent / "solutions" / "homework"),
        help="the assignment's source notebooks (default: solutions/homework)",
    )
    group.addoption("--data-root", default=None, help="folder holding CIFAR-10")


def _data_root(config) -> str | None:
    return find_cifar10(config.getoption("--data-root"))


def pytest_collection_modifyitems(config, items):
    submission = config.getoption("--submission")
    data = _data_root(config)
    for item in items:
        function = getattr(item, "function", None)
        if not hasattr(function, "grade_id"):
            continue
        if submission is None:
            item.add_marker(pytest.mark.skip(reason="no --submission DIR given"))
        elif function.needs_data and data is None:
            item.add_marker(pytest.mark.skip(reason="CIFAR-10 not found (--data-root)"))


@pytest.fixture(scope="session")
def grading_context(request):
    folder = Path(request.config.getoption("--submission")).resolve()
    layout = AssignmentLayout.from_notebooks(request.config.getoption("--source"))
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
):
    globals()[_name] = _context_fixture(_name)
