"""The ``edu-api`` directive: one package's reference page, generated from its ``__all__``.

``.. edu-api:: edu.sparse`` (in reStructuredText) expands to the package docstring,
an ``autosummary`` table of its public functions and classes, their full ``autodoc``
entries (numpydoc docstrings through ``sphinx.ext.napoleon``), and its public
constants with the docstrings written under their definitions. The names come from
``__all__`` at build time, so the reference cannot drift from the package and no stub
files are written into the source tree.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from types import ModuleType

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.pycode import ModuleAnalyzer
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

MAX_VALUE_REPR = 100
"""Constants with a longer ``repr`` are shown without their value."""


def _defining_module(package: ModuleType, name: str) -> ModuleType | None:
    """The submodule of ``package`` that assigns ``name`` (for a constant's docstring)."""
    value = getattr(package, name)
    for info in pkgutil.iter_modules(package.__path__, f"{package.__name__}."):
        module = importlib.import_module(info.name)
        if vars(module).get(name) is value:
            return module
    return None


def constant_doc(package: ModuleType, name: str) -> list[str]:
    """The docstring written under the constant ``name``'s assignment, as lines."""
    module = _defining_module(package, name)
    if module is None:
        return []
    docs = ModuleAnalyzer.for_module(module.__name__).find_attr_docs()
    return list(docs.get(("", name), []))


def _is_documented_callable(value: object) -> bool:
    """Classes, functions and autograd-style objects get autodoc entries; the rest is data."""
    return inspect.isclass(value) or inspect.isroutine(value)


def _value_option(value: object) -> list[str]:
    """``:value:`` for constants whose repr is short enough to read."""
    text = repr(value)
    return [] if len(text) > MAX_VALUE_REPR or "\n" in text else [f"   :value: {text}"]


def api_lines(module_name: str) -> list[str]:
    """The reStructuredText that documents ``module_name``'s public names."""
    package = importlib.import_module(module_name)
    names = list(getattr(package, "__all__", []))
    if not names:
        raise ValueError(f"{module_name} has no __all__ to document")
    callables = [n for n in names if _is_documented_callable(getattr(package, n))]
    constants = [n for n in names if n not in callables]
    lines = [f".. automodule:: {module_name}", "", f".. currentmodule:: {module_name}", ""]
    lines += [".. rubric:: Summary", "", ".. autosummary::", "   :nosignatures:", ""]
    lines += [f"   {name}" for name in callables] + [""]
    for name in callables:
        if inspect.isclass(getattr(package, name)):
            lines += [f".. autoclass:: {name}", "   :members:", ""]
        else:
            lines += [f".. autofunction:: {name}", ""]
    if constants:
        lines += [".. rubric:: Constants", ""]
    for name in constants:
        value = getattr(package, name)
        lines += [f".. data:: {name}", *_value_option(value), ""]
        lines += [f"   {line}" for line in constant_doc(package, name)] + [""]
    return lines


class EduApi(SphinxDirective):
    """``edu-api MODULE``: the reference of one ``edu`` package (see the module docstring)."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        """Generate the package's reStructuredText and parse it in place."""
        try:
            lines = api_lines(self.arguments[0])
        except (ImportError, ValueError) as error:
            raise self.error(str(error)) from error
        container = nodes.section()
        container.document = self.state.document
        source = f"<edu-api {self.arguments[0]}>"
        nested_parse_with_titles(self.state, StringList(lines, source), container)
        return container.children


def setup(app: Sphinx) -> dict[str, object]:
    """Register the ``edu-api`` directive."""
    app.add_directive("edu-api", EduApi)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
