"""nbgrader's ``OverwriteCells`` step, made safe for notebooks with duplicated cells.

nbgrader's ``DeduplicateIds`` (the step before) empties the ``nbgrader`` metadata of
every extra copy of a cell (``{}``); with ``add_missing_cells`` on, which grading needs
so that deleted test cells come back, ``OverwriteCells`` then reads
``metadata["nbgrader"]["grade_id"]`` of those copies and fails with ``KeyError``
(nbgrader 0.9), losing the whole notebook. This subclass drops the emptied metadata
first: the copies become ordinary cells, as ``DeduplicateIds`` meant them to be.
"""

from __future__ import annotations

from nbgrader.preprocessors import OverwriteCells

__all__ = ["OverwriteCellsWithDuplicates"]


class OverwriteCellsWithDuplicates(OverwriteCells):
    """``OverwriteCells`` that ignores the cells ``DeduplicateIds`` stripped."""

    def preprocess(self, nb, resources):
        for cell in nb.cells:
            if cell.metadata.get("nbgrader", None) == {}:
                del cell.metadata["nbgrader"]
        return super().preprocess(nb, resources)
