"""The autograde process: nbgrader's ``autograde`` of one scratch course.

:func:`main` is the body of the process :func:`edu.grading._autograde.autograde`
starts for each submission, from a forkserver that imported this module once (its
imports are the point: nbgrader, nbconvert, traitlets and the replacement steps are in
memory before the process starts). It makes the process a session of its own, gives it
the environment, folder and log it would have had as a fresh ``python`` command, and
runs nbgrader's ``autograde`` one notebook at a time (:func:`run`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader.apps.api import NbGraderAPI
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    ClearOutput,
    DeduplicateIds,
    IgnorePattern,
    LimitOutput,
    OverwriteKernelspec,
    SaveAutoGrades,
)
from traitlets.config import Config

from edu.grading._execute import SandboxedExecute
from edu.grading._limits import Limits
from edu.grading._overwrite import OverwriteCellsWithDuplicates

__all__ = ["OUTCOME", "main", "run"]

OUTCOME = "autograde-outcome.json"
"""The file, in ``spec["reports"]``, where :func:`run` writes each notebook's outcome."""

_LOG_TAIL = 2000


def main(spec: dict, env: dict[str, str], cwd: str, log: str) -> None:
    """Run :func:`run` as a process of its own: session, environment, folder, log.

    Parameters
    ----------
    spec : dict
        What to autograde (:func:`run`).
    env : dict of str to str
        The whole environment (the forkserver's is the one it started with).
        jupyter_core reads ``JUPYTER_PATH``, ``JUPYTER_RUNTIME_DIR`` and
        ``JUPYTER_CONFIG_DIR`` when nbgrader asks for them; only its system-wide
        fallback folders are fixed at import by ``JUPYTER_PLATFORM_DIRS``, and the
        kernelspec is found in ``JUPYTER_PATH`` before them.
    cwd : str
        The working folder.
    log : str
        The file that gets file descriptors 1 and 2: the process's warnings and
        errors, and whatever a library writes there from C.
    """
    os.setsid()  # first: the deadline's os.killpg then takes nbgrader and its session
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    output = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    os.dup2(output, 1)
    os.dup2(output, 2)
    os.close(output)
    run(spec)


def run(spec: dict) -> None:
    """nbgrader ``autograde``, one notebook at a time; each outcome is written to :data:`OUTCOME`.

    A notebook nbgrader cannot process costs only itself. ``spec`` holds ``course``,
    ``assignment``, ``student``, ``notebooks``, ``limits`` (a :class:`Limits` as a
    dict), ``transport`` (``"ipc"`` or ``"tcp"``), ``runtime`` (the kernel's
    connection folder) and ``reports`` (where :data:`OUTCOME` and the steps' reports go).
    """
    limits = Limits(**spec["limits"])
    outcome = {}
    for name in spec["notebooks"]:
        report = Path(spec["reports"]) / f"execute-{name}.json"
        config = Config()
        config.CourseDirectory.root = spec["course"]
        config.CourseDirectory.notebook_id = name
        config.Autograde.sanitize_preprocessors = [
            ClearOutput,
            DeduplicateIds,
            OverwriteKernelspec,
            OverwriteCellsWithDuplicates,  # in place of OverwriteCells: duplicated cells
            CheckCellMetadata,
        ]
        config.Autograde.autograde_preprocessors = [
            SandboxedExecute,  # in place of Execute: output cap, a dead kernel ends the notebook
            IgnorePattern,
            ClearMetadataPreprocessor,
            LimitOutput,
            SaveAutoGrades,
            AssignLatePenalties,
            CheckCellMetadata,
        ]
        config.OverwriteCellsWithDuplicates.add_missing_cells = True
        config.SandboxedExecute.timeout = limits.cell_timeout_s
        config.SandboxedExecute.output_bytes = limits.output_bytes
        config.SandboxedExecute.limits = spec["limits"]
        config.SandboxedExecute.report_path = str(report)
        config.KernelManager.transport = spec["transport"]
        config.KernelManager.connection_file = str(Path(spec["runtime"]) / "kernel.json")
        if spec["transport"] == "ipc":
            config.KernelManager.ip = str(Path(spec["runtime"]) / "kernel")
        api = NbGraderAPI(config=config)
        result = api.autograde(spec["assignment"], spec["student"], force=True, create=True)
        entry = {"success": bool(result["success"]), "log": ""}
        if not result["success"]:
            text = (result.get("error") or "") + "\n" + (result.get("log") or "")
            entry["log"] = _nbgrader_reason(text)
        if report.exists():
            entry.update(json.loads(report.read_text()))
        outcome[name] = entry
        (Path(spec["reports"]) / OUTCOME).write_text(json.dumps(outcome))


def _nbgrader_reason(text: str) -> str:
    """The line of nbgrader's log that says why a notebook failed, or its tail."""
    for marker in (
        "Notebook failed to validate",
        "ValidationError",
        "does not exist in the database",
    ):
        for line in text.splitlines():
            if marker in line:
                return line.strip()[-_LOG_TAIL:]
    return text.strip()[-_LOG_TAIL:]
