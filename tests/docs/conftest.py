"""Fixtures of the course-notes tests: one HTML build per session, and a headless browser.

The HTML build runs ``sphinx-build -W --keep-going`` in a subprocess, as CI and the
README do, into a temporary folder; the tests that need it share it. The browser is
Debian's ``chromium`` driven over the DevTools protocol on a pipe (``chromium.py``),
so nothing beyond the standard library is needed on the Python side.
"""

from __future__ import annotations

import fcntl
import html
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
"""Executable names searched for, Debian's package first."""


def _load(name: str, path: Path):
    """Import ``path`` as module ``name`` (the tests use the import-mode 'importlib')."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class DocsBuild:
    """A finished build: the HTML folder, the doctree cache and the build's output."""

    html: Path
    doctrees: Path
    output: str


def sphinx_build(builder: str, out: Path, doctrees: Path, source: Path = DOCS):
    """Run ``sphinx-build -W --keep-going -b BUILDER`` as a subprocess and return it."""
    command = [
        sys.executable,
        "-m",
        "sphinx",
        "-W",
        "--keep-going",
        "-b",
        builder,
        "-d",
        str(doctrees),
        str(source),
        str(out),
    ]
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run(command, capture_output=True, text=True, env=env, check=False)


@pytest.fixture(scope="session")
def run_sphinx():
    """:func:`sphinx_build`, for tests that build something of their own."""
    return sphinx_build


def build_index(project: Path) -> str:
    """Build a one-page project ``project`` (warnings as errors, none printed) and return
    its ``index.html``."""
    result = sphinx_build("html", project / "_build", project / "_doctrees", source=project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stderr
    return (project / "_build" / "index.html").read_text(encoding="utf-8")


def table_rows(page: str) -> list[list[str]]:
    """Every table row of an HTML page as its cells' plain text."""
    return [
        [
            html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.DOTALL)
        ]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", page, flags=re.DOTALL)
    ]


@pytest.fixture(scope="session")
def build_page():
    """:func:`build_index`, for tests of one directive on a one-page project."""
    return build_index


@pytest.fixture(scope="session")
def page_rows():
    """:func:`table_rows`, to read the tables of such a page."""
    return table_rows


def build_once(base: Path, build=sphinx_build) -> tuple[int, str]:
    """Build the notes into ``base/html`` with ``build`` (:func:`sphinx_build`) unless a
    build there has already finished, and return that build's exit status and output.

    An exclusive lock on ``base/lock`` makes concurrent callers (pytest-xdist's workers,
    which share ``base``) wait for the first one's build and read its result
    (``base/result.json``) instead of building again.
    """
    base.mkdir(parents=True, exist_ok=True)
    record = base / "result.json"
    with (base / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not record.exists():
            result = build("html", base / "html", base / "doctrees")
            output = result.stdout + result.stderr
            partial = base / "result.json.partial"  # renamed whole: never read half-written
            partial.write_text(json.dumps({"returncode": result.returncode, "output": output}))
            os.replace(partial, record)
    finished = json.loads(record.read_text())
    return finished["returncode"], finished["output"]


@pytest.fixture(scope="session")
def shared_build():
    """:func:`build_once`, for the tests of the build that workers share."""
    return build_once


@pytest.fixture(scope="session")
def docs_build(tmp_path_factory) -> DocsBuild:
    """The notes built to HTML once per test run, warnings as errors.

    Under pytest-xdist the workers share it (the tests only read it): it goes beside
    their temporary folders, in a folder named after the run's id, so that no other run
    can find it.
    """
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if os.environ.get("PYTEST_XDIST_WORKER") and run:
        base = tmp_path_factory.getbasetemp().parent / f"docs-{run}"
    else:
        base = tmp_path_factory.mktemp("docs")
    returncode, output = build_once(base)
    assert returncode == 0, f"sphinx-build -W failed:\n{output[-6000:]}"
    return DocsBuild(base / "html", base / "doctrees", output)


@pytest.fixture(scope="session")
def docs_ext():
    """The notes' Sphinx extensions (``docs/_ext``) importable as modules."""
    path = str(DOCS / "_ext")
    sys.path.insert(0, path)
    yield DOCS / "_ext"
    sys.path.remove(path)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """The headless browser's executable, or a skip saying that none is installed."""
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    pytest.skip(
        f"no headless browser found (looked for {', '.join(BROWSERS)}); "
        "install Debian's 'chromium' package (.ci/run does)"
    )


@pytest.fixture(scope="session")
def chromium_module():
    """The DevTools-over-pipe client of ``tests/docs/chromium.py``."""
    return _load("docs_tests_chromium", Path(__file__).with_name("chromium.py"))


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where test artifacts (the screenshot) are kept: ``docs/_build/test-artifacts``.

    Inside ``docs/_build/``, which git ignores, so a person can look at the picture of
    the last run; ``EDU_TEST_ARTIFACTS`` overrides the folder.
    """
    folder = Path(os.environ.get("EDU_TEST_ARTIFACTS", DOCS / "_build" / "test-artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder
