"""Docutils table and paragraph nodes from plain cells and text, shared by the directives
that render results."""

from __future__ import annotations

from collections.abc import Sequence

from docutils import nodes


def table_node(header: Sequence[str], rows: Sequence[Sequence[str]], css_class: str) -> nodes.table:
    """A table with one header row and ``rows`` of plain-text cells.

    Raises
    ------
    ValueError
        If a row has not as many cells as ``header``.
    """
    for cells in rows:
        if len(cells) != len(header):
            raise ValueError(f"row {list(cells)} has {len(cells)} cells, expected {len(header)}")
    table = nodes.table(classes=[css_class, "colwidths-auto"])  # widths from the content
    group = nodes.tgroup(cols=len(header))
    table += group
    group.extend(nodes.colspec(colwidth=1) for _ in header)
    head, body = nodes.thead(), nodes.tbody()
    for parent, lines in ((head, [header]), (body, rows)):
        for cells in lines:
            row = nodes.row()
            for cell in cells:
                entry = nodes.entry()
                entry += nodes.paragraph(text=cell)
                row += entry
            parent += row
    group += [head, body]
    return table


def paragraph_node(*parts: nodes.Node | str) -> nodes.paragraph:
    """A paragraph of ``parts``: strings become text, nodes (a literal) stay as they are."""
    paragraph = nodes.paragraph()
    for part in parts:
        paragraph += nodes.Text(part) if isinstance(part, str) else part
    return paragraph
