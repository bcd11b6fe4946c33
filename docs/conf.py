"""Sphinx configuration of the course notes (MyST markdown, furo theme).

Build (warnings are errors; nothing is fetched from the network)::

    .venv/bin/sphinx-build -W --keep-going -b html docs docs/_build/html

The local extensions in ``_ext/`` make the figures by calling ``edu`` at build time
(``edu_figures``), render the lab result tables and the size-accuracy frontier from
``results/`` (``edu_results``, ``edu_frontier``) and the channel-pruning benchmark from
``benchmarks/results/`` (``edu_latency``), collapse the exercises' solutions
(``edu_solution``) and serve MathJax from the build itself (``offline_mathjax``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import edu

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_ext"))

project = "DNN compression: pruning and fixed-point quantization"
author = "the course authors"
copyright = "the course authors"
release = version = edu.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.doctest",
    "offline_mathjax",
    "edu_api",
    "edu_cli",
    "edu_figures",
    "edu_frontier",
    "edu_latency",
    "edu_results",
    "edu_solution",
    "lab1_table",
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}

exclude_patterns = ["_build", "README.md", "results/**"]
numfig = True  # "Fig. N" for {numref}
templates_path: list[str] = []

# MyST: $...$ and $$...$$ maths, amsmath environments, ::: fences, labelled equations.
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_dmath_double_inline = True
myst_heading_anchors = 3

# Maths: MathJax 3 from the build's own _static/ (offline_mathjax), SVG output.
mathjax3_config = {
    "tex": {"macros": {"prox": r"\operatorname{prox}", "sign": r"\operatorname{sign}"}},
    "svg": {"fontCache": "global"},
}

# API reference (edu_api): numpydoc docstrings, no stub files written into the source tree.
autodoc_member_order = "bysource"
autodoc_inherit_docstrings = False  # torch's docstrings of forward() etc. are not ours
autodoc_typehints = "signature"
autosummary_generate = False
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False

# Code in the notes runs as doctests (sphinx-build -b doctest, see tests/docs): the
# {doctest} blocks of the chapters. Docstring examples shown by autodoc are plain
# doctest blocks, left out here because pytest --doctest-modules runs them in their
# modules.
doctest_global_setup = "import numpy as np"
doctest_test_doctest_blocks = ""

# Lab result tables: docs/results/<lab>/{results.json,results.md,command.txt}.
edu_results_dir = "results"

html_theme = "furo"
html_title = "DNN compression: course notes"
html_static_path: list[str] = []
html_show_sourcelink = False
