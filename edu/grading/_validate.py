"""What a student checks before submitting: ``edu validate FOLDER``.

The submission folder is read as the grader reads it
(:func:`edu.grading.read_submission`), against the released notebooks (the student
release, ``assignments/<assignment>``, whose test cells are the visible ones), and checked
for what would cost points for a reason the student can fix:

1. every notebook is there, is a valid notebook (nbformat 4) and is this assignment's;
2. every solution cell is no longer the starter code, parses, defines its function
   with the release's signature, and neither names nor imports what does its work
   (the grader's static check, :func:`edu.grading.static_findings`);
3. the visible tests pass on the student's functions, run in the grading sandbox
   (:mod:`edu.grading._visible`): the same worker, the same minimal ``edu``;
4. every checkpoint of :data:`edu.notebook.SUBMISSION_CHECKPOINTS` is there, is read
   safely (``torch.load(weights_only=True)`` in the sandbox), fits its model, and has
   the sparsity and the weight levels its part asks for.

Nothing of the hidden checks is used: no hidden input, no hidden test, no accuracy
threshold (accuracy is measured when the submission is graded). A release folder that
still holds solutions or hidden tests (the instructor's ``solutions/``) is refused, so
that nothing hidden is ever run or printed.
"""

from __future__ import annotations

import ast
import tempfile
from dataclasses import dataclass
from pathlib import Path

from edu.grading._assignment import AssignmentLayout, NotebookLayout, SourceCell
from edu.grading._checkpoints import CheckpointSet
from edu.grading._checks import CheckFailed
from edu.grading._context import GradingContext
from edu.grading._limits import Limits
from edu.grading._sandbox import SandboxPolicy, resolve_user
from edu.grading._student import Deadline
from edu.grading._submission import NotebookSubmission, read_submission
from edu.grading._visible import run_visible_tests, without_magics
from edu.notebook import SUBMISSION_CHECKPOINTS, SubmissionCheckpoint

__all__ = ["SPARSITY_TOLERANCE", "Finding", "Validation", "release_layout", "validate"]

SPARSITY_TOLERANCE = 0.01
"""How far a checkpoint's fraction of zeros may be from its part's (the visible tests'
0.69 to 0.71 for 70 %)."""

_HIDDEN_MARKERS = ("BEGIN HIDDEN TESTS", "BEGIN SOLUTION")


@dataclass(frozen=True)
class Finding:
    """One thing checked: where (a file, and a cell or function), whether it is fine, and
    what to do about it when it is not."""

    where: str
    ok: bool
    message: str


@dataclass(frozen=True)
class Validation:
    """Everything ``edu validate`` found, in the order it checked."""

    folder: str
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        """Whether nothing needs fixing."""
        return all(f.ok for f in self.findings)

    def report(self) -> str:
        """The findings as text: one line each, ``ok`` or ``FIX``, and a verdict."""
        lines = [f"{'ok ' if f.ok else 'FIX'}  {f.where}: {f.message}" for f in self.findings]
        fixes = sum(not f.ok for f in self.findings)
        if fixes:
            lines.append(f"{fixes} thing{'s' * (fixes > 1)} to fix before you submit {self.folder}")
        else:
            lines.append(
                f"{self.folder} is ready to submit (accuracy and the hidden tests are checked "
                "when it is graded)"
            )
        return "\n".join(lines)


def release_layout(release: str | Path) -> AssignmentLayout:
    """The assignment as released to students, from the notebooks in ``release``.

    Raises
    ------
    ValueError
        If a notebook there holds solutions or hidden tests (the instructor's source).
    """
    layout = AssignmentLayout.from_notebooks(release)
    for notebook in layout.notebooks:
        for cell in notebook.cells:
            if any(marker in cell.source for marker in _HIDDEN_MARKERS):
                raise ValueError(
                    f"{Path(release) / notebook.name}.ipynb holds solutions or hidden tests: "
                    "validate against the student release (assignments/<assignment>), not the "
                    "instructor's notebooks"
                )
    return layout


def _parse(source: str) -> ast.Module:
    return ast.parse(without_magics(source))


def _defined(tree: ast.Module) -> ast.FunctionDef | ast.ClassDef | None:
    """The first function or class a cell defines (what a taught cell is about)."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            return node
    return None


def _signatures(node: ast.FunctionDef | ast.ClassDef) -> dict[str, str]:
    """``{name: parameters}`` of a function, or of each method of a class."""
    if isinstance(node, ast.FunctionDef):
        return {node.name: ast.unparse(node.args)}
    return {
        f"{node.name}.{item.name}": ast.unparse(item.args)
        for item in node.body
        if isinstance(item, ast.FunctionDef)
    }


def _solution_finding(stub: SourceCell, source: str, where: str) -> Finding:
    """Whether one solution cell is written, parses and keeps the release's signature."""
    released = _parse(stub.source)
    expected = _defined(released)
    name = expected.name if expected else stub.grade_id
    try:
        tree = _parse(source)
    except SyntaxError as error:
        return Finding(where, False, f"{name}: line {error.lineno} does not parse ({error.msg})")
    except (RecursionError, MemoryError, ValueError):
        return Finding(where, False, f"{name} is nested too deeply to be read: write it plainly")
    if ast.dump(tree) == ast.dump(released):
        todo = "write it" if expected else "answer it"
        return Finding(where, False, f"{name} is still the starter code: {todo}")
    if expected is None:
        return Finding(where, True, f"{name} is answered")
    found = next(
        (n for n in tree.body if isinstance(n, type(expected)) and n.name == expected.name),
        None,
    )
    if found is None:
        return Finding(where, False, f"the cell {stub.grade_id!r} no longer defines {name}")
    wanted, got = _signatures(expected), _signatures(found)
    for function, parameters in wanted.items():
        if got.get(function) != parameters:
            have = f"({got[function]})" if function in got else " is missing"
            return Finding(
                where,
                False,
                f"{function}{have}: the grader calls it as {function}({parameters}), "
                "as the release defines it",
            )
    return Finding(where, True, f"{name} is defined with the release's signature")


def _notebook_findings(
    layout: NotebookLayout, notebook: NotebookSubmission, flags: dict[str, str]
) -> list[Finding]:
    where = f"{layout.name}.ipynb"
    if notebook.status != "ok":
        return [Finding(where, False, notebook.message)]
    findings = [Finding(where, True, "a valid notebook of this assignment")]
    findings += [Finding(where, True, f"note: {note}") for note in notebook.notes]
    for cell in layout.cells:
        if not (cell.solution and cell.cell_type == "code"):
            continue
        if cell.grade_id not in notebook.solutions:
            findings.append(Finding(where, False, f"the cell {cell.grade_id!r} is missing"))
            continue
        findings.append(_solution_finding(cell, notebook.solutions[cell.grade_id], where))
        if cell.grade_id in flags:
            findings.append(Finding(where, False, flags[cell.grade_id]))
    return findings


def _checkpoint_finding(checkpoints: CheckpointSet, spec: SubmissionCheckpoint) -> Finding:
    """Whether one checkpoint loads safely into its model, with its sparsity and levels."""
    name = spec.name
    try:
        checkpoints.model(name)
        said = [f"loads safely (weights_only) into a ResNet-{spec.num_layers}"]
        if spec.sparsity_scope == "layer":
            sparsity = checkpoints.layer_sparsity(name)
            off = {k: v for k, v in sparsity.items() if abs(v - spec.sparsity) > SPARSITY_TOLERANCE}
            if off:
                layer, value = next(iter(off.items()))
                raise CheckFailed(
                    f"{len(off)} of {len(sparsity)} prunable layers are not {spec.sparsity:.0%} "
                    f"zeros ({layer}: {value:.1%}); every layer should be"
                )
            said.append(f"{spec.sparsity:.0%} zeros in every prunable layer")
        elif spec.sparsity_scope == "global":
            total = checkpoints.total_sparsity(name)
            if abs(total - spec.sparsity) > SPARSITY_TOLERANCE:
                raise CheckFailed(
                    f"{total:.1%} of all prunable weights are zeros, not {spec.sparsity:.0%}"
                )
            said.append(f"{total:.1%} zeros over all prunable layers")
        if spec.nbits is not None:
            levels, budget = checkpoints.weight_levels(name)
            over = {k: v for k, v in levels.items() if v > budget}
            if over:
                layer, count = next(iter(over.items()))
                raise CheckFailed(
                    f"{len(over)} quantized layers use more than {budget} weight values at "
                    f"{spec.nbits} bits ({layer}: {count})"
                )
            said.append(f"at most {budget} weight values per layer")
    except CheckFailed as error:
        return Finding(spec.filename, False, str(error))
    return Finding(spec.filename, True, ", ".join(said))


def validate(
    folder: str | Path,
    release: str | Path,
    limits: Limits | None = None,
    scratch_root: str | Path | None = None,
) -> Validation:
    """Check a submission folder before it is submitted (see the module docstring).

    Parameters
    ----------
    folder : str or Path
        The folder to submit: the notebooks and the checkpoints beside them.
    release : str or Path
        The student release of the assignment (its notebooks).
    limits : Limits, optional
        The sandbox's limits; default the grader's.
    scratch_root : str or Path, optional
        Where the sandboxes' scratch folder is made (removed afterwards); default the
        system's temporary folder.

    Returns
    -------
    Validation
        Every finding; ``.ok`` when nothing needs fixing.
    """
    limits = limits or Limits()
    layout = release_layout(release)
    submission = read_submission(Path(folder), "validate", layout, limits)
    findings = [Finding(Path(folder).name, False, problem) for problem in submission.problems]
    policy = SandboxPolicy(limits, resolve_user("nobody"), True)
    with tempfile.TemporaryDirectory(prefix="edu-validate-", dir=scratch_root) as scratch:
        Path(scratch).chmod(0o711)
        deadline = Deadline(limits.submission_timeout_s)
        context = GradingContext(submission, layout, policy, Path(scratch) / "checks", deadline)
        try:
            for notebook in layout.notebooks:
                state = submission.notebooks[notebook.name]
                findings += _notebook_findings(notebook, state, context.flags)
                if state.status != "ok":
                    continue
                code = context.notebook(notebook.name)
                outcomes = run_visible_tests(code, notebook)
                where = f"{notebook.name}.ipynb"
                for grade_id, error in sorted(code.cell_errors.items()):
                    findings.append(Finding(where, False, f"the cell {grade_id!r}: {error}"))
                for outcome in outcomes:
                    message = outcome.message or "passes"
                    findings.append(
                        Finding(
                            where, outcome.passed, f"visible test {outcome.grade_id}: {message}"
                        )
                    )
            released = {f"{n.name}.ipynb" for n in layout.notebooks}
            for spec in SUBMISSION_CHECKPOINTS.values():
                if spec.notebook in released:
                    findings.append(_checkpoint_finding(context.checkpoints, spec))
        finally:
            context.close()
    return Validation(str(folder), tuple(findings))
