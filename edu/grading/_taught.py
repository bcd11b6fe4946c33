"""The functions students write, and a copy of ``edu`` in which they refuse to run.

A student's function must do the work itself: one that calls or imports its
counterpart in ``edu`` earns nothing for it. Two defences use the table below:

- the static check (:mod:`edu.grading._static`) flags a solution cell that imports
  or names a counterpart;
- the sandbox runs the student's code against :func:`build_refusing_copy`, a copy
  of the ``edu`` package whose counterparts (and the internal helpers that compute
  the same thing) raise :class:`TaughtFunctionRefused` and record the call, so a
  call that slips past the static check (``getattr``, ``__import__`` with a computed
  name, ``importlib.reload``) is caught when it happens. The bodies are replaced in
  the source, so reloading a module brings back the refusing version, and the real
  source is not in the sandbox's file-system view.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import shutil
from pathlib import Path

import edu

__all__ = ["COUNTERPARTS", "TAUGHT", "build_refusing_copy"]

TAUGHT: dict[str, str] = {
    "gradient": "edu.sparse",
    "hard_threshold": "edu.sparse",
    "l1_subgradient": "edu.sparse",
    "soft_threshold": "edu.sparse",
    "trimmed_soft_threshold": "edu.sparse",
    "prune_by_percentage": "edu.prune",
    "global_prune_by_percentage": "edu.prune",
    "finetune_after_prune": "edu.train",
    "STE": "edu.quant",
}
"""Each function students write -> the public package of its reference in ``edu``."""

COUNTERPARTS: dict[str, tuple[str, ...]] = {
    "gradient": ("edu.sparse.gradient",),
    "hard_threshold": ("edu.sparse.hard_threshold", "edu.sparse._prox._largest_magnitudes"),
    "l1_subgradient": ("edu.sparse.l1_subgradient",),
    "soft_threshold": ("edu.sparse.soft_threshold",),
    "trimmed_soft_threshold": (
        "edu.sparse.trimmed_soft_threshold",
        "edu.sparse._prox._largest_magnitudes",
    ),
    "prune_by_percentage": (
        "edu.prune.prune_by_percentage",
        "edu.prune.prune_model",
        "edu.prune._magnitude._keep",
    ),
    "global_prune_by_percentage": (
        "edu.prune.global_prune_by_percentage",
        "edu.prune.prune_model",
        "edu.prune._magnitude._keep",
    ),
    "finetune_after_prune": ("edu.train.finetune_after_prune",),
    "STE": ("edu.quant.STE", "edu.quant.quantize_weights"),
}
"""What in ``edu`` does each taught function's work: the reference itself, and the
functions that compute the same result (``prune_model`` prunes as both pruning
functions do, ``quantize_weights`` is the STE's forward pass). The sandbox makes all
of them refuse to run; the static check flags names and imports of any of them."""

_REFUSAL = '''

class TaughtFunctionRefused(RuntimeError):
    """Raised by a reference function that students must write themselves."""


_REFUSED_CALLS = []


def _refuse(name):
    _REFUSED_CALLS.append(name)
    raise TaughtFunctionRefused(
        f"{name} is the reference of a function you write; it does not run while grading"
    )
'''


def _locate(qualified: str) -> tuple[Path, str]:
    """The source file and top-level name that define ``qualified``."""
    module_name, _, name = qualified.rpartition(".")
    obj = getattr(importlib.import_module(module_name), name)
    return Path(inspect.getsourcefile(obj)), getattr(obj, "__name__", name)


def _refusing_body(qualified: str) -> list[ast.stmt]:
    return ast.parse(f"import edu\nedu._refuse({qualified!r})").body


class _Refuser(ast.NodeTransformer):
    """Replace the bodies of the named top-level functions (and of a class's methods)."""

    def __init__(self, names: dict[str, str]) -> None:
        self.names = names

    def visit_Module(self, node: ast.Module) -> ast.Module:
        for statement in node.body:
            qualified = self.names.get(getattr(statement, "name", None))
            if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef) and qualified:
                statement.body = _refusing_body(qualified)
            elif isinstance(statement, ast.ClassDef) and qualified:
                for member in statement.body:
                    if isinstance(member, ast.FunctionDef):
                        member.body = _refusing_body(qualified)
        return node


def build_refusing_copy(destination: Path) -> Path:
    """Copy the ``edu`` package to ``destination/edu`` with the counterparts refusing.

    Parameters
    ----------
    destination : Path
        A folder to put on the sandbox's ``sys.path``; created if missing.

    Returns
    -------
    Path
        ``destination``.

    Notes
    -----
    Every function named in :data:`COUNTERPARTS` keeps its signature but its body
    becomes ``edu._refuse(name)``, which records the call in ``edu._REFUSED_CALLS``
    and raises ``edu.TaughtFunctionRefused``; a class (``STE``) has every method
    replaced. The shipped weights (``edu/models/weights``) are left out.
    """
    source_root = Path(edu.__file__).parent
    target_root = Path(destination) / "edu"
    if target_root.exists():
        shutil.rmtree(target_root)
    shutil.copytree(
        source_root, target_root, ignore=shutil.ignore_patterns("__pycache__", "weights")
    )
    by_file: dict[Path, dict[str, str]] = {}
    for qualified in sorted({name for names in COUNTERPARTS.values() for name in names}):
        path, name = _locate(qualified)
        by_file.setdefault(path, {})[name] = qualified
    for path, names in by_file.items():
        tree = _Refuser(names).visit(ast.parse(path.read_text()))
        target = target_root / path.relative_to(source_root)
        target.write_text(ast.unparse(ast.fix_missing_locations(tree)) + "\n")
    init = target_root / "__init__.py"
    init.write_text(init.read_text() + _REFUSAL)
    return Path(destination)
