"""Whether the notebook's long cells (CIFAR-10 evaluation and training) should run.

nbgrader sets ``NBGRADER_EXECUTION`` (to ``"autograde"`` or ``"validate"``) in the
environment of the kernels it starts, so a notebook can tell a student's own run from
a grading run. The grade for trained models comes from the checkpoints the student
submits, never from training during grading.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

__all__ = ["SKIP_TRAINING_ENV", "training_enabled"]

SKIP_TRAINING_ENV = "EDU_SKIP_TRAINING"
"""The environment variable that turns training off outside nbgrader (``1`` to skip)."""

_NBGRADER_ENV = "NBGRADER_EXECUTION"
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})


def training_enabled(environ: Mapping[str, str] | None = None) -> bool:
    """Return whether the cells that load CIFAR-10, evaluate and train should run.

    Parameters
    ----------
    environ : mapping of str to str, optional
        The environment to read; default :data:`os.environ`.

    Returns
    -------
    bool
        ``False`` when ``NBGRADER_EXECUTION`` is set to anything non-empty (nbgrader
        is autograding or validating the notebook) or when ``EDU_SKIP_TRAINING`` is
        true (``1``, ``true``, ``yes`` or ``on``, any case); ``True`` otherwise.

    Raises
    ------
    ValueError
        If ``EDU_SKIP_TRAINING`` holds something that is neither true nor false
        (``0``, ``false``, ``no``, ``off`` or empty), so that a typo does not
        silently start an hour of training.

    Notes
    -----
    Training cells are written as ``if training_enabled(): ...``. During grading they
    are skipped, and the checkpoints they would have saved
    (:data:`edu.notebook.SUBMISSION_CHECKPOINTS`) are read from the submission
    instead. ``EDU_SKIP_TRAINING=1`` gives the same behaviour outside nbgrader, e.g.
    to run a notebook's tests quickly.

    Examples
    --------
    >>> training_enabled({})
    True
    >>> training_enabled({"NBGRADER_EXECUTION": "autograde"})
    False
    >>> training_enabled({"EDU_SKIP_TRAINING": "1"})
    False
    """
    environ = os.environ if environ is None else environ
    if environ.get(_NBGRADER_ENV, ""):
        return False
    skip = environ.get(SKIP_TRAINING_ENV, "").strip().lower()
    if skip in _TRUE:
        return False
    if skip in _FALSE:
        return True
    raise ValueError(
        f"{SKIP_TRAINING_ENV} must be 1 (skip training) or 0 (train), got "
        f"{environ[SKIP_TRAINING_ENV]!r}"
    )
