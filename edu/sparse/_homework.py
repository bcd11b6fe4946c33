"""The runs that make up Lab 1, parts (b)-(f), and two extras beyond the homework.

Declared here once, with the hyperparameters of the course spec, so that the
``edu lab1`` command, the notebooks and the notes all run the same experiments.
"""

from __future__ import annotations

from dataclasses import dataclass

from edu.sparse._solvers import RunResult, run


@dataclass(frozen=True)
class LabPart:
    """One part of Lab 1: a method and the penalty weights it is run with.

    Attributes
    ----------
    name : str
        The part's label: ``"b"`` to ``"f"`` for the homework, ``"extra-..."`` beyond it.
    method : str
        The method passed to :func:`edu.sparse.run`.
    lams : tuple of (float or None)
        One run per value; ``(None,)`` for the methods without a penalty.
    title : str
        A one-line description, used in figure titles and tables.
    beyond_homework : bool
        True for the extras that the homework does not ask for.
    """

    name: str
    method: str
    lams: tuple[float | None, ...]
    title: str
    beyond_homework: bool = False


LAB1_PARTS = (
    LabPart("b", "gd", (None,), "(b) gradient descent"),
    LabPart("c", "projected", (None,), "(c) projected GD onto ||W||_0 <= 2"),
    LabPart("d", "l1", (0.2, 0.5, 1.0, 2.0), "(d) L1 by subgradient descent"),
    LabPart("e", "prox", (0.2, 0.5, 1.0, 2.0), "(e) proximal gradient (ISTA)"),
    LabPart("f", "trimmed", (1.0, 2.0, 5.0, 10.0), "(f) trimmed L1, 2 largest free"),
    LabPart(
        "extra-fista",
        "fista",
        (0.2, 0.5, 1.0, 2.0),
        "extra (beyond the homework): FISTA",
        beyond_homework=True,
    ),
    LabPart(
        "extra-group",
        "group",
        (1.0, 2.0, 5.0, 10.0),
        "extra (beyond the homework): group lasso",
        beyond_homework=True,
    ),
)
"""Parts (b)-(f) of Lab 1 with the spec's hyperparameters, then the two extras.

The thresholds ``lr * lam`` of (e) are {0.004, 0.01, 0.02, 0.04} and those of (f)
{0.02, 0.04, 0.1, 0.2} at the homework's ``lr = 0.02``.
"""


def run_part(part: LabPart, *, steps: int = 200, lr: float = 0.02) -> list[RunResult]:
    """Run every penalty weight of one Lab 1 part from ``W_0 = 0``.

    Parameters
    ----------
    part : LabPart
        The part, usually an element of :data:`LAB1_PARTS`.
    steps : int, default 200
        The number of iterations of every run.
    lr : float, default 0.02
        The step size of every run.

    Returns
    -------
    list of RunResult
        One result per value of ``part.lams``, in that order.

    Notes
    -----
    Every run uses the homework data and ``k = 2`` (the prior ``||W||_0 <= 2``); see
    :func:`edu.sparse.run` for the update of each method (course notes,
    :ref:`ch-lab1`).

    Examples
    --------
    >>> part_d = next(p for p in LAB1_PARTS if p.name == "d")
    >>> [r.lam for r in run_part(part_d, steps=5)]
    [0.2, 0.5, 1.0, 2.0]
    """
    return [run(part.method, lam=lam, steps=steps, lr=lr) for lam in part.lams]
