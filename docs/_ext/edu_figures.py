"""The ``edu-figure`` directive: figures drawn by ``edu`` while the notes are built.

Nothing here is a committed picture: each figure is computed at build time by calling
the package (:mod:`edu.sparse`, :mod:`edu.plots`, :mod:`edu.prune`, :mod:`edu.quant`),
so a change in the code changes the notes. Usage in MyST markdown::

    :::{edu-figure} lab1
    :parts: d e
    :kind: weights
    :lams: 2.0
    :name: fig-d-vs-e

    The caption, in markdown.
    :::

The argument names a maker of :data:`MAKERS` (``figure_makers.py``); ``parts``,
``kind``, ``lams``, ``max-step``, ``xlim`` and ``ylim`` are passed to makers that take
them, the figure options of the standard ``figure`` directive (``name``, ``width``,
``alt``, ...) work as usual. The PNG files are written to ``<doctrees>/edu-figures/``
and copied into ``_images/`` like any image. Every document with a figure depends on
the source files of the ``edu`` packages its maker uses, so an incremental build
redraws it when they change.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import os
from pathlib import Path
from typing import Any, ClassVar

from docutils.nodes import Node
from docutils.parsers.rst import directives
from figure_makers import MAKERS
from matplotlib.figure import Figure as MplFigure
from PIL import Image
from sphinx.application import Sphinx
from sphinx.directives.patches import Figure

OUTPUT_SUBDIR = "edu-figures"
"""Folder under the doctree directory that holds the generated PNG files."""

DPI = 110
"""Resolution of the PNG files: sharp at the theme's content width, small files."""


def _float_pair(text: str) -> tuple[float, float]:
    values = [float(word) for word in text.split()]
    if len(values) != 2:
        raise ValueError(f"expected two numbers 'low high', got {text!r}")
    return values[0], values[1]


def _floats(text: str) -> tuple[float, ...]:
    return tuple(float(word) for word in text.split())


MAKER_OPTIONS = {
    "parts": lambda text: tuple(text.split()),
    "kind": lambda text: directives.choice(text, ("loss", "weights")),
    "lams": _floats,
    "max-step": directives.nonnegative_int,
    "bits": directives.positive_int,
    "xlim": _float_pair,
    "ylim": _float_pair,
}
"""Options passed on to the maker (``max-step`` as ``max_step``), with their parsers."""


def save_stacked(figures: list[MplFigure], path: Path) -> None:
    """Write ``figures`` as one PNG, stacked top to bottom and centred."""
    if len(figures) == 1:
        figures[0].savefig(path, format="png", dpi=DPI)
        return
    images = []
    for figure in figures:
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=DPI)
        buffer.seek(0)
        images.append(Image.open(buffer).convert("RGB"))
    width = max(image.width for image in images)
    stacked = Image.new("RGB", (width, sum(image.height for image in images)), "white")
    top = 0
    for image in images:
        stacked.paste(image, ((width - image.width) // 2, top))
        top += image.height
    stacked.save(path, format="PNG")


class EduFigure(Figure):
    """A ``figure`` whose image is made by calling ``edu`` (see the module docstring)."""

    option_spec: ClassVar[dict[str, Any]] = {**Figure.option_spec, **MAKER_OPTIONS}

    def run(self) -> list[Node]:
        """Draw the figure, write its PNG, then build the figure node as ``figure`` does."""
        name = self.arguments[0]
        if name not in MAKERS:
            raise self.error(f"unknown edu-figure {name!r}; known: {', '.join(sorted(MAKERS))}")
        maker = MAKERS[name]
        kwargs = {
            key.replace("-", "_"): self.options.pop(key)
            for key in list(self.options)
            if key in MAKER_OPTIONS
        }
        unknown = set(kwargs) - set(maker.options)
        if unknown:
            raise self.error(
                f"edu-figure {name!r} takes no option {', '.join(sorted(unknown))}; "
                f"it takes: {', '.join(maker.options) or 'none'}"
            )
        env = self.state.document.settings.env
        try:
            figure = maker.draw(**kwargs)
        except ValueError as error:
            raise self.error(f"edu-figure {name!r}: {error}") from error
        key = json.dumps([name, sorted(kwargs.items())], default=list)
        stem = f"{name}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"
        path = Path(env.doctreedir) / OUTPUT_SUBDIR / f"{stem}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        save_stacked(figure if isinstance(figure, list) else [figure], path)
        for module in maker.modules:
            package = Path(importlib.import_module(module).__file__).parent
            for source in sorted(package.glob("*.py")):
                env.note_dependency(str(source))
        doc_dir = Path(env.doc2path(env.docname)).parent
        self.arguments[0] = Path(os.path.relpath(path, doc_dir)).as_posix()
        self.options.setdefault("alt", maker.alt)
        return super().run()


def setup(app: Sphinx) -> dict[str, object]:
    """Register the ``edu-figure`` directive."""
    app.add_directive("edu-figure", EduFigure)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
