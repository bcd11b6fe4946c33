"""Are the API and command-line references generated from the package itself?"""

from __future__ import annotations

import html
import importlib
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

import edu
from edu.cli.main import SUBCOMMANDS

API = Path(__file__).resolve().parents[2] / "docs" / "reference" / "api"
PACKAGES = sorted(
    info.name
    for info in pkgutil.iter_modules(edu.__path__)
    if info.ispkg and not info.name.startswith("_") and info.name != "cli"
)
"""The public packages of edu; the command line has its own page (reference/cli)."""


def test_every_public_package_has_an_api_page():
    """Is there a reference page for each public edu package, and for nothing else?"""
    pages = sorted(path.stem.removeprefix("edu.") for path in API.glob("edu.*.rst"))
    assert pages == PACKAGES


@pytest.mark.slow
@pytest.mark.parametrize("package", PACKAGES)
def test_api_page_documents_every_public_name(docs_build, package):
    """Does the page of each edu package hold an entry for every name in its __all__?"""
    module = importlib.import_module(f"edu.{package}")
    page = (docs_build.html / "reference" / "api" / f"edu.{package}.html").read_text()
    anchors = set(re.findall(r'id="(edu\.[\w.]+)"', page))
    missing = [name for name in module.__all__ if f"edu.{package}.{name}" not in anchors]
    assert not missing


def _cli_sections(page: str) -> dict[str, str]:
    """The text of each ``edu <command>`` section of the CLI page."""
    sections = re.split(r'<section id="edu-', page)[1:]
    return {
        section.split('"', 1)[0]: html.unescape(re.sub(r"<[^>]+>", "", section))
        for section in sections
    }


HELP_OF_EVERY_SUBCOMMAND = """
from edu.cli.main import SUBCOMMANDS, main
for name in SUBCOMMANDS:
    print("=== " + name)
    try:
        main([name, "--help"])
    except SystemExit:
        pass
"""
"""Prints what ``edu <command> --help`` prints, for every command, in one process."""


@pytest.mark.slow
def test_cli_page_shows_the_help_of_every_subcommand(docs_build):
    """Does each subcommand's section list exactly the options its real --help lists?"""
    sections = _cli_sections((docs_build.html / "reference" / "cli.html").read_text())
    assert list(sections) == list(SUBCOMMANDS)
    printed = subprocess.run(
        [sys.executable, "-c", HELP_OF_EVERY_SUBCOMMAND], capture_output=True, text=True, check=True
    ).stdout
    helps = dict(part.split("\n", 1) for part in printed.split("=== ")[1:])
    assert list(helps) == list(SUBCOMMANDS)
    for name in SUBCOMMANDS:
        options = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", helps[name]))
        shown = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", sections[name]))
        assert options and options == shown, (name, options ^ shown)
