"""nbgrader's ``Execute`` step with an output cap, and a kernel crash that ends one notebook.

Used in place of :class:`nbgrader.preprocessors.Execute` in the ``autograde``
pipeline (``Autograde.autograde_preprocessors``). Two changes:

- **Output cap.** Output past ``output_bytes`` (the notebook's text, images and
  errors together, as the kernel sends them) is dropped and the running cell is
  interrupted, so a cell that prints forever costs neither memory nor the rest of its
  time limit. One notice in the notebook says so.
- **A dead kernel is the end of that notebook, not of the submission.** When the
  kernel dies (``os._exit``, a segfault, a resource limit) or cannot start, the
  remaining code cells get an error output that says why, so nbgrader's
  ``SaveAutoGrades`` scores their tests 0 instead of full marks for empty outputs,
  and grading goes on. Upstream ``Execute`` would raise and nbgrader would drop the
  student's whole autograded assignment.

What happened is written as JSON to ``report_path`` for the grading pipeline.
"""

from __future__ import annotations

import json
import os
import signal

from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Dict, Integer, Unicode

from edu.grading._limits import Limits, describe_exit

__all__ = ["SandboxedExecute", "describe_cell"]


def describe_cell(index: int, cell: dict) -> str:
    """How a message names a notebook's cell so that a student finds it.

    Parameters
    ----------
    index : int
        The cell's position in the notebook, from 0 (markdown cells counted: a student
        counts the cells as they appear).
    cell : dict
        The cell (``source`` and, for nbgrader's cells, ``metadata.nbgrader.grade_id``).

    Returns
    -------
    str
        ``cell N (`name`)``: its position from 1 and its nbgrader id, or else its first
        line (up to 40 characters, backticks dropped); ``cell N`` for an empty cell.

    Examples
    --------
    >>> describe_cell(4, {"source": "g = gradient(X, y, w)\\nassert g.shape == (5,)"})
    'cell 5 (`g = gradient(X, y, w)`)'
    >>> describe_cell(0, {"source": "", "metadata": {"nbgrader": {"grade_id": "test_a"}}})
    'cell 1 (`test_a`)'
    """
    grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
    lines = "".join(cell.get("source", "")).strip().splitlines()
    first = lines[0].replace("`", "") if lines else ""
    name = grade_id or (first[:40] + "..." if len(first) > 40 else first)
    return f"cell {index + 1} (`{name}`)" if name else f"cell {index + 1}"


class SandboxedExecute(Execute):
    """``Execute`` with an output cap and crash handling (see the module docstring)."""

    output_bytes = Integer(
        Limits().output_bytes, help="Most bytes of output one notebook may produce."
    ).tag(config=True)
    limits = Dict(help="The submission's Limits (as a dict), quoted when the kernel dies.").tag(
        config=True
    )
    report_path = Unicode("", help="Where to write what happened (JSON); empty: nowhere.").tag(
        config=True
    )

    def preprocess(self, nb: NotebookNode, resources: dict, km=None):
        self._used = 0
        self._report = {"output_limit": False, "stopped": None}
        self._current = None
        self._interrupted = None
        self._kernel = None
        try:
            nb, resources = super().preprocess(nb, resources, km)
        except Exception as error:  # the kernel died or never started: end this notebook
            reason = self._stop_reason(error)
            self._report["stopped"] = reason
            self._mark_not_run(nb, reason)
        finally:
            if self.report_path:
                with open(self.report_path, "w") as file:
                    json.dump(self._report, file)
        return nb, resources

    def preprocess_cell(self, cell, resources, index):
        self._current = index
        if self._kernel is None:  # kept: nbclient drops it when it cleans up a dead kernel
            self._kernel = getattr(getattr(self.km, "provisioner", None), "process", None)
        return super().preprocess_cell(cell, resources, index)

    def _stop_reason(self, error: Exception) -> str:
        where = (
            describe_cell(self._current, self.nb.cells[self._current])
            if self._current is not None
            else "start-up"
        )
        returncode = self._kernel.poll() if self._kernel is not None else None
        if returncode is not None:
            return describe_exit(returncode, Limits(**self.limits), f"the notebook at {where}")
        return f"the kernel stopped at {where}: {type(error).__name__}: {error}"

    def _mark_not_run(self, nb: NotebookNode, reason: str) -> None:
        start = self._current or 0
        for cell in nb.cells[start:]:
            if cell.cell_type != "code" or cell.get("execution_count") is not None:
                continue
            cell.outputs.append(
                NotebookNode(
                    output_type="error",
                    ename="NotExecuted",
                    evalue=reason,
                    traceback=[f"NotExecuted: this cell did not run: {reason}"],
                )
            )

    def output(self, outs, msg, display_id, cell_index):
        self._used += len(json.dumps(msg.get("content", {}), default=str))
        if self._used <= self.output_bytes:
            return super().output(outs, msg, display_id, cell_index)
        if not self._report["output_limit"]:
            self._report["output_limit"] = True
            outs.append(
                NotebookNode(
                    output_type="stream",
                    name="stderr",
                    text=f"[output limit of {self.output_bytes >> 20} MiB reached: the rest of "
                    "this notebook's output is dropped and cells that print are interrupted]\n",
                )
            )
        if self._interrupted != cell_index:  # once per cell
            self._interrupted = cell_index
            self._interrupt()
        return None

    def _interrupt(self) -> None:
        """SIGINT to the kernel's launcher, which forwards it to the kernel."""
        if self._kernel is not None and self._kernel.poll() is None:
            os.kill(self._kernel.pid, signal.SIGINT)
