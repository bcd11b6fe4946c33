"""nbgrader ``autograde`` of one submission, in a scratch course, with a sandboxed kernel.

Each submission is autograded on its own, so that submissions can be graded in
parallel and none can touch another's files or the course's gradebook:

1. a scratch course folder gets a copy of the template gradebook (the course's,
   without students: :meth:`edu.grading.Course.template_gradebook`) and of the
   submission's readable notebooks and files;
2. a private Jupyter path holds a kernelspec named ``python3`` (the one the
   notebooks ask for) whose command is the sandbox launcher wrapping
   ``ipykernel``: the kernel runs under the submission's limits, as the sandbox
   user, without network (it talks to nbgrader over Unix sockets then), seeing only
   the Python environment, ``edu`` and its own folders (the course, the instructor's
   notebooks, the hidden checks and the other submissions are not in its view);
3. a process runs nbgrader's own ``autograde`` for one notebook at a time (a
   notebook nbgrader cannot process costs only itself; :mod:`edu.grading._nbgrader_run`),
   with :class:`edu.grading._execute.SandboxedExecute` in place of ``Execute``,
   ``OverwriteCells.add_missing_cells`` on (deleted test cells come back) and the
   per-cell timeout, and :class:`edu.grading._overwrite.OverwriteCellsWithDuplicates`
   in place of ``OverwriteCells`` (nbgrader's fails on duplicated cells); the
   process is killed at the submission's deadline;
4. the scores nbgrader computed, its comments and the autograded notebooks are read
   back from the scratch folder.

That process is forked by a ``multiprocessing`` forkserver which imported
:mod:`edu.grading._nbgrader_run` (nbgrader, nbconvert, traitlets, ``edu.grading``)
once: a new interpreter spends about 4 s on these imports (``time python -c "import
edu.grading._nbgrader_run"``, 4.3 to 4.5 s on the 2-core machine of the grading
benchmark), which stock ``nbgrader autograde`` pays once per class and a command per
submission would pay per submission. The process is otherwise the command it
replaces: it leads a session of its own, so the deadline's ``os.killpg`` takes
nbgrader and whatever it started in it (the sandbox launcher, in a session of its
own, stops the kernel when nbgrader is gone); it gets the environment of a command,
the Jupyter paths of step 2 included (jupyter_core reads them when nbgrader looks
for the kernel, not at import); it works in the scratch folder, and its file
descriptors 1 and 2 go to ``nbgrader.log``. There is one forkserver per grading
process (the main one, or each worker of ``--jobs N``), and it ends with that
process. As for any process started by ``spawn`` or ``forkserver``, a script that
grades must keep its top level under ``if __name__ == "__main__":``, which the
child imports.

The scores of the test cells are replaced later by the hidden checks' scores; what
nbgrader gives here is the executed notebook (for feedback and manual grading), the
manually graded cells, and its own auto scores for any cell no check covers.
"""

from __future__ import annotations

import functools
import json
import multiprocessing
import os
import signal
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import edu
from edu.grading import _nbgrader_run
from edu.grading._execute import describe_cell
from edu.grading._sandbox import SandboxPolicy
from edu.grading._student import Deadline
from edu.grading._submission import Submission

__all__ = ["NotebookAutograde", "autograde"]

_KERNEL_NAME = "python3"
_GRADER_EDU = Path(edu.__file__).resolve().parent
"""The ``edu`` package the grader runs (in the sandbox's view: ``GradingSettings.readable``).
The kernel imports it through a folder holding only a link to it, first on its path, so
that the notebooks import the grader's ``edu`` also where the installed one (an editable
install's finder) points elsewhere, and nothing else beside it becomes importable."""
_START = threading.Lock()


@dataclass(frozen=True)
class NotebookAutograde:
    """What nbgrader made of one notebook.

    Attributes
    ----------
    name : str
        The notebook's name.
    status : str
        ``"autograded"``, ``"failed"`` (nbgrader could not process it),
        ``"not-run"`` (missing, rejected, or the submission ran out of time).
    message : str
        Why it failed or did not run, or what stopped it (a dead kernel, the
        output limit); empty when all went well.
    notebook : str or None
        The autograded notebook (JSON text).
    grades : dict
        ``{grade_id: {"auto_score", "max_score", "needs_manual_grade"}}``.
    comments : dict
        ``{grade_id: auto_comment}`` of the solution cells.
    """

    name: str
    status: str
    message: str = ""
    notebook: str | None = None
    grades: dict = field(default_factory=dict)
    comments: dict = field(default_factory=dict)


def _write_kernelspec(
    scratch: Path,
    policy: SandboxPolicy,
    autograded: Path,
    runtime: Path,
    python_path: Path | None = None,
) -> None:
    command = policy.command(
        scratch / "kernel",
        [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        env={
            "OMP_NUM_THREADS": "1",
            "MPLBACKEND": "module://matplotlib_inline.backend_inline",
            **({"PYTHONPATH": str(python_path)} if python_path is not None else {}),
        },
        keep_env=("NBGRADER_EXECUTION",),
        writable=(str(runtime), str(runtime / "kernel.json")),
        name="kernel",
        cwd=str(autograded),
    )
    spec = {"argv": command, "display_name": "Python 3 (sandboxed)", "language": "python"}
    folder = scratch / "jupyter" / "kernels" / _KERNEL_NAME
    folder.mkdir(parents=True)
    (folder / "kernel.json").write_text(json.dumps(spec, indent=1))


def _prepare(
    scratch: Path, submission: Submission, template_db: bytes, notebooks: list[str]
) -> Path:
    """The scratch course: gradebook, empty source folder, the submitted files."""
    course = scratch / "course"
    submitted = course / "submitted" / submission.student / submission.assignment
    submitted.mkdir(parents=True)
    (course / "source" / submission.assignment).mkdir(parents=True)
    (course / "gradebook.db").write_bytes(template_db)
    (course / "gradebook.db").chmod(0o600)
    wanted = {f"{name}.ipynb" for name in notebooks}
    for relative, data in submission.files.items():
        if relative.endswith(".ipynb") and relative not in wanted:
            continue  # missing, rejected: nbgrader scores them 0
        path = submitted / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        path.chmod(0o644)
    return course


def autograde(
    submission: Submission,
    template_db: bytes,
    scratch: Path,
    policy: SandboxPolicy,
    deadline: Deadline,
    network_namespace: bool,
) -> dict[str, NotebookAutograde]:
    """Autograde every readable notebook of ``submission`` with nbgrader (module docstring).

    Parameters
    ----------
    submission : Submission
        Its ``ok`` notebooks are autograded; the others are reported ``not-run``.
    template_db : bytes
        The course's gradebook without students.
    scratch : Path
        An empty folder for this submission (mode 0711 when the sandbox user differs).
    policy : SandboxPolicy
        The kernel's sandbox; it may also read the autograded folder (its working
        folder) and write its runtime folder (connection file, sockets).
    deadline : Deadline
        nbgrader is stopped when it runs out.
    network_namespace : bool
        Whether the sandbox gets its own network namespace; the kernel then talks to
        nbgrader over Unix sockets (``ipc``) instead of TCP.

    Returns
    -------
    dict of str to NotebookAutograde
        For every notebook of the submission.
    """
    ready = [n for n, nb in submission.notebooks.items() if nb.status == "ok"]
    results = {
        name: NotebookAutograde(name, "not-run", nb.message)
        for name, nb in submission.notebooks.items()
        if nb.status != "ok"
    }
    if not ready:
        return results
    course = _prepare(scratch, submission, template_db, ready)
    autograded = course / "autograded" / submission.student / submission.assignment
    autograded.mkdir(parents=True)  # the kernel's working folder, made visible to it
    runtime = scratch / "runtime"
    runtime.mkdir()
    imports = scratch / "imports"  # the kernel's PYTHONPATH: the grader's edu alone
    imports.mkdir()
    (imports / "edu").symlink_to(_GRADER_EDU, target_is_directory=True)
    kernel_policy = SandboxPolicy(
        policy.limits,
        policy.user,
        policy.namespaces,
        (*policy.readable, str(autograded), str(imports)),
    )
    _write_kernelspec(scratch, kernel_policy, autograded, runtime, imports)
    spec = {
        "course": str(course),
        "assignment": submission.assignment,
        "student": submission.student,
        "notebooks": ready,
        "limits": vars(policy.limits),
        "transport": "ipc" if network_namespace else "tcp",
        "runtime": str(runtime),
        "reports": str(scratch),
    }
    env = {
        **os.environ,
        "JUPYTER_PATH": str(scratch / "jupyter"),
        "JUPYTER_RUNTIME_DIR": str(runtime),
        "JUPYTER_CONFIG_DIR": str(scratch / "jupyter-config"),
        "JUPYTER_PLATFORM_DIRS": "1",
    }
    process = _forkserver().Process(
        target=_nbgrader_run.main,
        args=(spec, env, str(scratch), str(scratch / "nbgrader.log")),
        name=f"autograde-{submission.student}",
        daemon=False,  # not inherited from a daemonic parent: it is always joined or killed
    )
    _start(process)
    try:
        process.join(deadline.remaining())
        timed_out = process.exitcode is None
    finally:
        if process.exitcode is None:  # the deadline, or the caller was interrupted
            _kill_session(process.pid)
            process.join()
        process.close()
    outcome = _read_outcome(scratch)
    grades = _read_grades(course, submission)
    for name in ready:
        results[name] = _notebook_result(
            name, autograded, outcome.get(name), grades.get(name, ({}, {})), timed_out, deadline
        )
    return results


@functools.cache
def _forkserver() -> multiprocessing.context.BaseContext:
    """This process's forkserver context, with :mod:`edu.grading._nbgrader_run` preloaded."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([_nbgrader_run.__name__])
    return context


def _start(process: multiprocessing.process.BaseProcess) -> None:
    """Start ``process``, also from a daemonic process (a Dask worker by default).

    multiprocessing refuses children to daemonic processes because they may be
    terminated without joining them; :func:`autograde` always joins or kills its child
    before it returns. The flag is lifted for the start only, under a lock, so that
    threads starting children at the same time restore it right.
    """
    current = multiprocessing.current_process()
    with _START:
        daemon = current.daemon
        if daemon:
            current.daemon = False
        try:
            process.start()
        finally:
            if daemon:
                current.daemon = True


def _kill_session(pid: int) -> None:
    """Kill the autograde process ``pid`` and everything in its session.

    The kernel is in a session of its own, the sandbox launcher's, which stops it when
    its parent, nbgrader, is gone.
    """
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:  # not its own session yet, so nothing of it runs yet
        os.kill(pid, signal.SIGKILL)


def _read_outcome(scratch: Path) -> dict:
    path = scratch / _nbgrader_run.OUTCOME
    return json.loads(path.read_text()) if path.exists() else {}


def _read_grades(course: Path, submission: Submission) -> dict[str, tuple[dict, dict]]:
    """``{notebook: (grades, comments)}`` from the scratch gradebook."""
    from nbgrader.api import Gradebook, MissingEntry

    found = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        try:
            record = gradebook.find_submission(submission.assignment, submission.student)
        except MissingEntry:
            return found
        for notebook in record.notebooks:
            grades = {
                grade.name: {
                    "auto_score": grade.auto_score,
                    "max_score": grade.max_score,
                    "needs_manual_grade": bool(grade.needs_manual_grade),
                }
                for grade in notebook.grades
            }
            comments = {comment.name: comment.auto_comment for comment in notebook.comments}
            found[notebook.name] = (grades, comments)
    return found


def _notebook_result(
    name: str,
    autograded: Path,
    outcome: dict | None,
    grades: tuple[dict, dict],
    timed_out: bool,
    deadline: Deadline,
) -> NotebookAutograde:
    path = autograded / f"{name}.ipynb"
    if outcome is None or not path.exists():
        if timed_out:
            message = (
                f"not autograded: the submission's time limit of {deadline.seconds:g} s was reached"
            )
        else:
            message = "nbgrader could not autograde it: " + ((outcome or {}).get("log") or "")
        return NotebookAutograde(name, "failed", message.strip())
    text = path.read_text()
    notes = [f"{cell} ran past the cell time limit" for cell in _timed_out_cells(text)]
    if outcome.get("stopped"):
        notes.append(outcome["stopped"])
    if outcome.get("output_limit"):
        notes.append("its output went past the output limit; the rest was dropped")
    return NotebookAutograde(name, "autograded", "; ".join(notes), text, grades[0], grades[1])


def _timed_out_cells(text: str) -> list[str]:
    """The cells whose execution nbgrader stopped at the cell time limit (as
    :func:`describe_cell` names them)."""
    cells = json.loads(text).get("cells", [])
    return [
        describe_cell(index, cell)
        for index, cell in enumerate(cells)
        if any(o.get("ename") == "CellTimeoutError" for o in cell.get("outputs", []))
    ]
