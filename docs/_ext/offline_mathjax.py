"""Render the notes' maths offline: MathJax 3 from a Python package, copied into the build.

Sphinx's ``sphinx.ext.mathjax`` loads MathJax from a CDN by default, which needs the
network whenever a page is viewed. This extension points ``mathjax_path`` at a local
copy of MathJax 3's ``tex-svg-full.js`` instead and copies that one file into
``_static/mathjax/`` of every HTML build. The file comes from the pip package
``django-static-mathjax`` (an unmodified MathJax 3.2.2 release; Django itself is not
needed) and is self-contained: all TeX extensions and the SVG glyphs are in it, so
the browser loads no fonts and no further scripts, from a web server or from
``file://`` alike.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ConfigError
from sphinx.util.fileutil import copy_asset_file

MATHJAX_PACKAGE = "mathjax"
"""The import name of ``django-static-mathjax``."""

MATHJAX_FILE = "tex-svg-full.js"
"""The combined MathJax component: TeX input (every extension) and SVG output."""

STATIC_SUBDIR = "mathjax"
"""Where the file lands under the build's ``_static/``."""


def mathjax_source() -> Path:
    """Return the path of ``tex-svg-full.js`` in the installed MathJax package.

    Raises
    ------
    ConfigError
        If ``django-static-mathjax`` is not installed or lacks the file; the docs
        extra of ``pyproject.toml`` installs it.
    """
    spec = importlib.util.find_spec(MATHJAX_PACKAGE)
    if spec is None or spec.origin is None:
        raise ConfigError(
            "offline maths needs MathJax from the 'django-static-mathjax' package; "
            "install the docs extra: pip install -e '.[docs]'"
        )
    path = Path(spec.origin).parent / "static" / "mathjax" / "es5" / MATHJAX_FILE
    if not path.is_file():
        raise ConfigError(f"MathJax file not found: {path} (reinstall django-static-mathjax)")
    return path


def _use_local_mathjax(app: Sphinx, config: Config) -> None:
    """Point ``mathjax_path`` at the local copy (relative to ``_static``)."""
    mathjax_source()  # fail at start-up, not after the whole build
    config.mathjax_path = f"{STATIC_SUBDIR}/{MATHJAX_FILE}"


def _copy_mathjax(app: Sphinx, exception: Exception | None) -> None:
    """Copy MathJax into ``_static/mathjax/`` of a finished HTML build."""
    if exception is None and app.builder.format == "html":
        target = Path(app.outdir) / "_static" / STATIC_SUBDIR / MATHJAX_FILE
        target.parent.mkdir(parents=True, exist_ok=True)
        copy_asset_file(mathjax_source(), target, force=True)


def setup(app: Sphinx) -> dict[str, object]:
    """Register the extension (it needs ``sphinx.ext.mathjax``)."""
    app.setup_extension("sphinx.ext.mathjax")
    app.connect("config-inited", _use_local_mathjax)
    app.connect("build-finished", _copy_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
