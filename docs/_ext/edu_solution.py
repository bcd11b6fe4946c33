"""The ``solution`` directive: a worked solution, collapsed until the reader opens it.

Exercises are plain text; each one's solution follows it in a ``solution`` block,
which the HTML builder writes as ``<details><summary>Solution</summary>...</details>``
so that the reader tries first and opens it after. The content is ordinary MyST, so
a ``{doctest}`` block inside a solution runs with the doctest build like any other.
Usage::

    :::{solution}
    The derivation, and code if any.
    :::

An optional argument replaces the word "Solution" in the summary line.
"""

from __future__ import annotations

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective


class solution_node(nodes.General, nodes.Element):
    """A collapsible block; ``summary`` holds the text of its always-visible line."""


def _visit_html(self, node: solution_node) -> None:
    self.body.append('<details class="solution">')
    self.body.append(f"<summary>{self.encode(node['summary'])}</summary>")


def _depart_html(self, node: solution_node) -> None:
    self.body.append("</details>\n")


def _visit_plain(self, node: solution_node) -> None:
    """Other builders show the solution as ordinary text, without collapsing it."""


def _depart_plain(self, node: solution_node) -> None:
    """Nothing to close outside HTML."""


class Solution(SphinxDirective):
    """``solution [SUMMARY]``: the content, collapsed under a summary line."""

    optional_arguments = 1
    final_argument_whitespace = True
    has_content = True

    def run(self) -> list[nodes.Node]:
        """Parse the content as the body of a collapsed block."""
        node = solution_node(summary=self.arguments[0] if self.arguments else "Solution")
        self.set_source_info(node)
        node += self.parse_content_to_nodes(allow_section_headings=False)
        return [node]


def setup(app: Sphinx) -> dict[str, object]:
    """Register the ``solution`` directive and its node."""
    plain = (_visit_plain, _depart_plain)
    app.add_node(
        solution_node, html=(_visit_html, _depart_html), latex=plain, text=plain, man=plain
    )
    app.add_directive("solution", Solution)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
