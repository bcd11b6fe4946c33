"""Static check of a solution cell: does it hand the work to ``edu``'s reference?

Reads the cell's syntax tree, runs nothing. A cell is flagged when it

- imports a counterpart of a taught function (:data:`edu.grading._taught.COUNTERPARTS`)
  from any module of ``edu``, anything private of ``edu``, or ``*`` from ``edu``;
- names a counterpart as an attribute of an imported ``edu`` module
  (``edu.sparse.soft_threshold``, ``sp.soft_threshold`` after
  ``import edu.sparse as sp``), reaches modules or the import machinery through
  ``sys.modules``, ``sys.meta_path``, ``sys.path_hooks`` or ``sys.path_importer_cache``,
  or the sandbox's registrations in torch (``_TORCH_LIBRARY``);
- names one of torch's routines that is a taught operation
  (:data:`edu.grading._taught.LIBRARY_COUNTERPARTS`: ``softshrink``,
  ``l1_unstructured``, ...) or imports ``torch.nn.utils.prune`` or ``torch.ao``;
- loads or runs code or source at run time: ``exec``, ``eval``, ``compile``,
  ``__import__``, ``open``, by name or as an attribute (``builtins.exec``,
  ``Path(p).open()``, ``os.open``), ``__builtins__``, the modules ``builtins``,
  ``io``, ``importlib``, ``inspect``, ``runpy``, ``linecache``, ``marshal``,
  ``pickle``, ``dill``, ``types``, or the attributes ``read_text``, ``read_bytes``,
  ``__code__``, ``__globals__``, ``__wrapped__``, ``getsource``.

The taught functions need none of these. The check is a courtesy that names the line:
the defence is the sandbox, whose view of the machine holds nothing to read but the
Python environment and whose ``edu`` and torch refuse what does a taught function's
work (see :mod:`edu.grading._sandbox_edu`).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from edu.grading._taught import COUNTERPARTS, LIBRARY_COUNTERPARTS

__all__ = ["Finding", "scan_cell"]

_COUNTERPART_NAMES = frozenset(q.rpartition(".")[2] for qs in COUNTERPARTS.values() for q in qs)
_LIBRARY_NAMES = frozenset(LIBRARY_COUNTERPARTS)
_LIBRARY_MODULES = ("torch.nn.utils.prune", "torch.ao")
_DYNAMIC_CALLS = frozenset({"exec", "eval", "compile", "__import__", "open"})
_DYNAMIC_MODULES = frozenset(
    {
        "builtins",
        "io",
        "importlib",
        "inspect",
        "runpy",
        "linecache",
        "marshal",
        "pickle",
        "dill",
        "types",
    }
)
_IMPORT_MACHINERY = frozenset({"modules", "meta_path", "path_hooks", "path_importer_cache"})
"""Attributes of ``sys`` through which code could undo what the sandbox installed."""

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

    def flag_library(self, node: ast.AST, module: str) -> None:
        if any(module == m or module.startswith(f"{m}.") for m in _LIBRARY_MODULES):
            self.flag(node, f"imports {module}, which prunes or quantizes for you")

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            root = alias.name.partition(".")[0]
            if root in _DYNAMIC_MODULES:
                self.flag(node, f"imports {alias.name}, which loads or inspects code")
            self.flag_library(node, alias.name)
            if _is_edu(alias.name):
                bound = alias.asname or root
                self.edu_aliases[bound] = alias.name if alias.asname else root

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if module.partition(".")[0] in _DYNAMIC_MODULES:
            self.flag(node, f"imports from {module}, which loads or inspects code")
        self.flag_library(node, module)
        for alias in node.names:
            if alias.name in _LIBRARY_NAMES or (alias.name, module) == ("prune", "torch.nn.utils"):
                self.flag(node, f"imports {alias.name} from {module}, which does the work")
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
        if chain[-1] in _IMPORT_MACHINERY and isinstance(base, ast.Name) and base.id == "sys":
            self.flag(node, f"reaches the import machinery through sys.{chain[-1]}")
        if "_TORCH_LIBRARY" in chain:
            self.flag(node, "reaches the grader's registrations in torch")
        for attribute in sorted(set(chain) & _DYNAMIC_ATTRIBUTES):
            self.flag(node, f"uses .{attribute}, which reads code or files")
        for attribute in sorted(set(chain) & _DYNAMIC_CALLS):
            self.flag(node, f"uses .{attribute}, which loads or runs code or files")
        for attribute in sorted(set(chain) & _LIBRARY_NAMES):
            self.flag(node, f"uses torch's {attribute}, which does the work of a taught function")
        if "ao" in chain or {"utils", "prune"} <= set(chain):
            self.flag(node, "uses torch's pruning or quantization modules, which do the work")
        self.visit(base)  # the inner attributes of the chain were handled here

    def visit_Name(self, node: ast.Name) -> None:
        if node.id == "__builtins__":
            self.flag(node, "uses __builtins__, which reaches exec and open")
        elif node.id in _LIBRARY_NAMES:
            self.flag(node, f"uses {node.id}, which does the work of a taught function")

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
    except (RecursionError, MemoryError, ValueError):
        # Nested too deep for the scanner (a sum of 20,000 terms): such a cell could hide
        # anything from it, so it is flagged, not waved through.
        return [Finding(1, "is nested too deeply to be checked: write it plainly")]
    scanner = _Scanner()
    scanner.visit(tree)
    return sorted(set(scanner.findings), key=lambda f: (f.line, f.message))
