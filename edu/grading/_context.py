"""The fixtures the hidden checks take, for one submission.

The grading pipeline and ``pytest grader/ --submission DIR`` both build a
:class:`GradingContext` and hand its fixtures to the same check functions:

- one fixture per notebook, named after it (``lab1_sparse_regression``, ...): a
  :class:`edu.grading._student.StudentCode` running that notebook's solution cells in
  the submission's sandboxed worker (one process for all its notebooks, each in a
  namespace of its own); requesting it for a missing or rejected notebook fails the
  check with the reason;
- ``checkpoints``: the :class:`edu.grading._checkpoints.CheckpointSet`, read in a
  sandboxed process of its own that runs none of the student's code;
- ``submission``: the :class:`edu.grading.Submission` itself.

Everything that runs code of the student's is started lazily and stopped by
:meth:`GradingContext.close`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from pathlib import Path

from edu.grading._assignment import AssignmentLayout
from edu.grading._checkpoints import CheckpointSet
from edu.grading._checks import CheckFailed
from edu.grading._copies import References
from edu.grading._sandbox import SandboxPolicy
from edu.grading._sandbox_edu import build_sandbox_edu
from edu.grading._static import scan_cell
from edu.grading._student import Deadline, SolutionCell, StudentCode
from edu.grading._submission import Submission, import_statements
from edu.grading._worker_process import WorkerProcess

__all__ = ["GradingContext", "static_findings"]


def static_findings(submission: Submission) -> dict[str, str]:
    """The static check's verdict on every solution cell that hands work to ``edu``.

    Returns
    -------
    dict of str to str
        ``{grade_id: message}`` for the flagged cells; the message says which line
        does what, and that the function earns nothing for it.
    """
    flags = {}
    for notebook in submission.notebooks.values():
        for grade_id, source in notebook.solutions.items():
            findings = scan_cell(source)
            if findings:
                what = "; ".join(f"line {f.line} {f.message}" for f in findings)
                flags[grade_id] = (
                    f"the cell {grade_id!r} {what}. A function that calls, imports or loads "
                    "its counterpart in edu earns nothing for it"
                )
    return flags


class GradingContext:
    """Fixtures of the hidden checks for one submission.

    Parameters
    ----------
    submission : Submission
        What is graded.
    layout : AssignmentLayout
        The assignment as released (setup cells are taken from it, not from the
        student's copy).
    policy : SandboxPolicy
        Limits and isolation of the processes that run the student's code. What
        they may read is set here: the minimal ``edu`` and the worker's scripts
        (:func:`build_sandbox_edu`), and for the checkpoint reader the submitted
        files; ``policy.readable`` (the kernels') is not used.
    folder : Path
        A fresh folder for this submission's sandboxes.
    deadline : Deadline
        The submission's time.
    data_root : str or None
        Where CIFAR-10 is, for accuracy checks.
    references : References, optional
        Reference checkpoints a submitted one must not copy (:class:`CheckpointSet`).
    shared : mapping of str to str, optional
        Checkpoints refused as a classmate's copy, with the message.
    """

    def __init__(
        self,
        submission: Submission,
        layout: AssignmentLayout,
        policy: SandboxPolicy,
        folder: Path,
        deadline: Deadline,
        data_root: str | None = None,
        references: References | None = None,
        shared: Mapping[str, str] | None = None,
    ) -> None:
        self.submission = submission
        self.layout = layout
        self.folder = Path(folder)
        self.deadline = deadline
        self.flags = static_findings(submission)
        self.code = self.folder / "sandbox-edu"
        self.files = files = self.folder / "checkpoint-files"
        code = (str(self.code / "lib"), str(self.code / "worker"))
        self.policy = SandboxPolicy(policy.limits, policy.user, policy.namespaces, code)
        self.reader_policy = SandboxPolicy(
            policy.limits, policy.user, policy.namespaces, (*code, str(files))
        )
        self.checkpoints = CheckpointSet(
            submission.files,
            lambda: StudentCode("checkpoint-reader", [], [], self._reader),
            files,
            data_root,
            policy.limits.checkpoint_bytes,
            references=references,
            shared=shared,
        )

    @functools.cached_property
    def _sandbox_edu(self) -> tuple[Path, Path]:
        """The minimal ``edu`` and the worker's scripts, written once per submission."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.folder.chmod(0o711)
        self.files.mkdir(exist_ok=True)
        self.files.chmod(0o755)
        return build_sandbox_edu(self.code)

    @functools.cached_property
    def _worker(self) -> WorkerProcess:
        """The sandboxed worker of the student's functions, with every readable notebook.

        All of them are added before it first starts, so each is loaded into a fresh
        process: no cell is loaded into a process that earlier calls have used.
        """
        worker = WorkerProcess(
            self.policy, *self._sandbox_edu, self.folder / "worker", self.deadline
        )
        for name, (cells, prelude) in self._sources.items():
            worker.add_notebook(name, cells, prelude)
        return worker

    @functools.cached_property
    def _reader(self) -> WorkerProcess:
        """The sandboxed process that reads checkpoints: it runs no code of the student's,
        so what it sends back is what the submitted files hold."""
        return WorkerProcess(
            self.reader_policy, *self._sandbox_edu, self.folder / "reader", self.deadline
        )

    @functools.cached_property
    def _sources(self) -> dict[str, tuple[list[SolutionCell], list[str]]]:
        """``{notebook: (solution cells, imports)}`` of every readable notebook, in order.

        The imports are the setup cell's of the released notebook, then the student's own.
        """
        sources = {}
        for layout in self.layout.notebooks:
            notebook = self.submission.notebooks[layout.name]
            if notebook.status != "ok":
                continue
            setup = [
                statement for cell in layout.setup for statement in import_statements(cell.source)
            ]
            cells = [SolutionCell(gid, source) for gid, source in notebook.solutions.items()]
            sources[layout.name] = (cells, [*setup, *notebook.imports])
        return sources

    @functools.cache  # noqa: B019 - one handle per notebook for this context's life
    def notebook(self, name: str) -> StudentCode:
        """The sandboxed functions of notebook ``name`` (the worker starts on first use).

        Raises
        ------
        CheckFailed
            If the notebook is missing or was rejected.
        """
        notebook = self.submission.notebooks[name]
        if notebook.status != "ok":
            raise CheckFailed(notebook.message)
        cells, prelude = self._sources[name]
        return StudentCode(name, cells, prelude, self._worker, self.flags)

    def fixtures(self) -> dict[str, Callable[[], object]]:
        """Fixture name -> zero-argument callable that makes it."""
        fixtures: dict[str, Callable[[], object]] = {
            "submission": lambda: self.submission,
            "checkpoints": lambda: self.checkpoints,
        }
        for notebook in self.layout.notebooks:
            fixtures[notebook.name] = functools.partial(self.notebook, notebook.name)
        return fixtures

    def close(self) -> None:
        """Stop the sandboxed processes that were started."""
        for started in ("_worker", "_reader"):
            if started in self.__dict__:
                self.__dict__[started].close()
