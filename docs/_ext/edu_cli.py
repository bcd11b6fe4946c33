"""The ``edu-cli`` directive: the command-line reference, generated from the parser itself.

``.. edu-cli::`` (in reStructuredText) calls :func:`edu.cli.main.build_parser` and
renders the ``--help`` text of ``edu`` and of every subcommand, in the order of
:data:`edu.cli.main.SUBCOMMANDS`, one section each. The text is exactly what the
terminal shows (options, defaults, descriptions), formatted at a fixed width so that
the build does not depend on the terminal it runs in.
"""

from __future__ import annotations

import argparse
import functools

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

from edu.cli.main import SUBCOMMANDS, build_parser

HELP_WIDTH = 88
"""Columns of the rendered help text."""


def help_text(parser: argparse.ArgumentParser) -> str:
    """``parser.format_help()`` at :data:`HELP_WIDTH` columns, whatever the terminal."""
    formatter = parser.formatter_class
    parser.formatter_class = functools.partial(formatter, width=HELP_WIDTH)
    try:
        return parser.format_help()
    finally:
        parser.formatter_class = formatter


def subcommand_parsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The subcommands' parsers of ``parser``, by name, in :data:`SUBCOMMANDS` order."""
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if len(actions) != 1:
        raise ValueError("the edu parser should have exactly one group of subcommands")
    choices = actions[0].choices
    return {name: choices[name] for name in SUBCOMMANDS}


def cli_lines() -> list[str]:
    """The reStructuredText of the whole reference: ``edu --help``, then each subcommand."""
    parser = build_parser()

    def block(text: str) -> list[str]:
        return [".. code-block:: text", "", *(f"   {line}" for line in text.splitlines()), ""]

    lines = block(help_text(parser))
    for name, subparser in subcommand_parsers(parser).items():
        title = f"``edu {name}``"
        lines += [title, "-" * len(title), "", *block(help_text(subparser))]
    return lines


class EduCli(SphinxDirective):
    """``edu-cli``: the help of ``edu`` and of each of its subcommands."""

    def run(self) -> list[nodes.Node]:
        """Format every parser's help and parse the sections in place."""
        container = nodes.section()
        container.document = self.state.document
        nested_parse_with_titles(self.state, StringList(cli_lines(), "<edu-cli>"), container)
        return container.children


def setup(app: Sphinx) -> dict[str, object]:
    """Register the ``edu-cli`` directive."""
    app.add_directive("edu-cli", EduCli)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
