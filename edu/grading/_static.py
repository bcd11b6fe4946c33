"""Static check of a solution cell: does it hand the work to ``edu``'s reference?

Reads the cell's syntax tree, runs nothing. A cell is flagged when it

- imports a counterpart of a taught function (:data:`edu.grading._taught.COUNTERPARTS`)
  from any module of ``edu``, anything private of ``edu``, or ``*`` from ``edu``;
- names a counterpart as an attribute of an imported ``edu`` module
  (``edu.sparse.soft_threshold``, ``sp.soft_threshold`` after
  ``import edu.sparse as sp``) or reaches modules through ``sys.modules``;
- loads or runs code or source at run time: ``exec``, ``eval``, ``compile``,
  ``__import__``, ``open``, the modules ``importlib``, ``inspect``, ``runpy``,
  ``linecache``, ``marshal``, ``pickle``, ``dill``, ``types``, or the
  attributes ``read_text``, ``read_bytes``, ``__code__``, ``__globals__``,
  ``__wrapped__``, ``getsource``.

The taught functions need none of these; the sandbox catches at run time what a
static reading cannot see (see :mod:`edu.grading._taught`).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from edu.grading._taught import COUNTERPARTS

__all__ = ["Finding", "scan_cell"]

_COUNTERPART_NAMES = frozenset(q.rpartition(".")[2] for qs in COUNTERPARTS.values() for q in qs)
_DYNAMIC_CALLS = frozenset({"exec", "eval", "compile", "__import__", "open"})
_DYNAMIC_MODULES = frozenset(
    {"importlib", "inspect", "runpy", "linecache", "marshal", "pickle", "dill", "types"}
)
_DYNAMIC_ATTRIBUTES = frozenset(
    {"read_text", "read_bytes", "__code__", "__globals__", "__wrapped__", "getsource"}
)


@dataclass(frozen=True)
class Finding:
    """One flagged line of a solution cell."""

    line: int
    message: str


def _is_edu(module: str | None) -> bool:
    return bool(module) and (module == "edu" or module.startswith("edu."))


class _Scanner(ast.NodeVisitor):
    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self.edu_aliases: dict[str, str] = {}

    def flag(self, node: ast.AST, message: str) -> None:
        self.findings.append(Finding(getattr(node, "lineno", 0), message))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            root = alias.name.partition(".")[0]
            if root in _DYNAMIC_MODULES:
                self.flag(node, f"imports {alias.name}, which loads or inspects code")
            if _is_edu(alias.name):
                bound = alias.asname or root
                self.edu_aliases[bound] = alias.name if alias.asname else root

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if module.partition(".")[0] in _DYNAMIC_MODULES:
            self.flag(node, f"imports from {module}, which loads or inspects code")
        if not _is_edu(module):
            return
        for alias in node.names:
            if alias.name == "*":
                self.flag(node, f"imports * from {module}, which brings in the reference")
            elif alias.name in _COUNTERPART_NAMES:
                self.flag(node, f"imports {alias.name} from {module}: that is the reference")
            elif alias.name.startswith("_"):
                self.flag(node, f"imports the private {alias.name} from {module}")
            else:
                self.edu_aliases[alias.asname or alias.name] = f"{module}.{alias.name}"

    def visit_Attribute(self, node: ast.Attribute) -> None:
        chain, base = [node.attr], node.value
        while isinstance(base, ast.Attribute):
            chain.append(base.attr)
            base = base.value
        if isinstance(base, ast.Name) and base.id in self.edu_aliases:
            dotted = ".".join([self.edu_aliases[base.id], *reversed(chain)])
            names = set(chain)
            if names & _COUNTERPART_NAMES or any(part.startswith("_") for part in chain):
                self.flag(node, f"uses {dotted}: that is (part of) the reference")
        if chain[-1] == "modules" and isinstance(base, ast.Name) and base.id == "sys":
            self.flag(node, "reaches modules through sys.modules")
        for attribute in sorted(set(chain) & _DYNAMIC_ATTRIBUTES):
            self.flag(node, f"uses .{attribute}, which reads code or files")
        self.visit(base)  # the inner attributes of the chain were handled here

    def visit_Call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Name) and node.func.id in _DYNAMIC_CALLS:
            self.flag(node, f"calls {node.func.id}(), which loads or runs code or files")
        self.generic_visit(node)


def scan_cell(source: str) -> list[Finding]:
    """Findings of the static check in one solution cell's source (empty if clean).

    A cell that does not parse has no findings: it fails when it is run, with the
    syntax error as its message.

    Examples
    --------
    >>> scan_cell("import numpy as np\\ndef f(v):\\n    return np.sign(v)")
    []
    >>> [f.message for f in scan_cell("from edu.sparse import soft_threshold")]
    ['imports soft_threshold from edu.sparse: that is the reference']
    >>> [f.line for f in scan_cell("import edu.sparse as sp\\nx = sp.soft_threshold")]
    [2]
    """
    lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return []
    scanner = _Scanner()
    scanner.visit(tree)
    return sorted(set(scanner.findings), key=lambda f: (f.line, f.message))
