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


@check("test_tf_1_1", points=1)
def test_answer_1_1(part0_true_false):
    """Statement 1.1 (L1 with SGD gives exact zeros) is answered correctly."""
    _check_answer(part0_true_false, "1_1")


@check("test_tf_1_2", points=1)
def test_answer_1_2(part0_true_false):
    """Statement 1.2 (pruning and quantization interfere) is answered correctly."""
    _check_answer(part0_true_false, "1_2")


@check("test_tf_1_3", points=1)
def test_answer_1_3(part0_true_false):
    """Statement 1.3 (where the non-zeros are affects latency) is answered correctly."""
    _check_answer(part0_true_false, "1_3")


@check("test_tf_1_4", points=1)
def test_answer_1_4(part0_true_false):
    """Statement 1.4 (group lasso is L2 of the groups' L1 norms) is answered correctly."""
    _check_answer(part0_true_false, "1_4")


@check("test_tf_1_5", points=1)
def test_answer_1_5(part0_true_false):
    """Statement 1.5 (soft thresholding removes L1's bias) is answered correctly."""
    _check_answer(part0_true_false, "1_5")
