"""Does training_enabled() follow nbgrader's NBGRADER_EXECUTION and EDU_SKIP_TRAINING?"""

import pytest

from edu.notebook import training_enabled


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, True),
        ({"NBGRADER_EXECUTION": "autograde"}, False),
        ({"NBGRADER_EXECUTION": "validate"}, False),
        ({"NBGRADER_EXECUTION": ""}, True),
        ({"EDU_SKIP_TRAINING": "1"}, False),
        ({"EDU_SKIP_TRAINING": " TRUE "}, False),
        ({"EDU_SKIP_TRAINING": "yes"}, False),
        ({"EDU_SKIP_TRAINING": "0"}, True),
        ({"EDU_SKIP_TRAINING": "off"}, True),
        ({"EDU_SKIP_TRAINING": ""}, True),
        ({"EDU_SKIP_TRAINING": "0", "NBGRADER_EXECUTION": "autograde"}, False),
    ],
)
def test_environment_decides(environ, expected):
    """Is training off exactly under nbgrader or when EDU_SKIP_TRAINING is true?"""
    assert training_enabled(environ) is expected


def test_reads_the_process_environment(monkeypatch):
    """Without an argument, is os.environ read at call time?"""
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.delenv("EDU_SKIP_TRAINING", raising=False)
    assert training_enabled() is True
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert training_enabled() is False


def test_unclear_skip_value_is_an_error():
    """Is a value of EDU_SKIP_TRAINING that is neither true nor false refused, not guessed?"""
    with pytest.raises(ValueError, match="EDU_SKIP_TRAINING must be 1"):
        training_enabled({"EDU_SKIP_TRAINING": "maybe"})
