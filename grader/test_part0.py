"""Hidden checks of Part 0: the five true/false answers (1 point each).

The justifications are graded by hand in nbgrader's formgrader; only the booleans are
checked here. The answer key is the course spec's (COURSE-SPEC, Part 0).
"""

from edu.grading import CheckFailed, check

ANSWERS = {"1_1": False, "1_2": False, "1_3": True, "1_4": False, "1_5": False}


def _check_answer(part0_true_false, statement: str) -> None:
    name = f"answer_{statement}"
    value, kind = part0_true_false.value(name)
    if kind != "bool":
        raise CheckFailed(f"{name} must be True or False, got a {kind} ({value!r})")
    if value is not ANSWERS[statement]:
        raise CheckFailed(f"{name} = {value} is not the right answer to statement {statement}")


STATEMENTS = {
    "1_1": "L1 with SGD gives exact zeros",
    "1_2": "pruning and quantization interfere",
    "1_3": "where the non-zeros are affects latency",
    "1_4": "group lasso is L2 of the groups' L1 norms",
    "1_5": "soft thresholding removes L1's bias",
}


def _answer_check(statement: str, topic: str):
    """The 1-point check ``test_answer_<statement>`` of grade cell ``test_tf_<statement>``."""

    def test_answer(part0_true_false):
        _check_answer(part0_true_false, statement)

    test_answer.__name__ = test_answer.__qualname__ = f"test_answer_{statement}"
    number = statement.replace("_", ".")
    test_answer.__doc__ = f"Statement {number} ({topic}) is answered correctly."
    return check(f"test_tf_{statement}", points=1)(test_answer)


for _statement, _topic in STATEMENTS.items():
    globals()[f"test_answer_{_statement}"] = _answer_check(_statement, _topic)
