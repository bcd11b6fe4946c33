"""Do the package's docstrings point to sections of the notes that exist?"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LABEL = re.compile(r"^\(([\w-]+)\)=$", re.MULTILINE)
REF = re.compile(r":ref:`(?:[^`<]*<)?([\w-]+)>?`")
PACKAGES = ("sparse", "quant", "prune")
"""The packages whose docstrings cite the notes (the numerical core)."""


def _labels() -> set[str]:
    return {
        label
        for page in (ROOT / "docs").rglob("*.md")
        if "_build" not in page.parts
        for label in LABEL.findall(page.read_text(encoding="utf-8"))
    }


def _sources() -> list[Path]:
    return sorted(path for name in PACKAGES for path in (ROOT / "edu" / name).glob("*.py"))


def test_every_mention_of_the_notes_links_a_section():
    """Is each 'course notes' in a docstring followed by a :ref: to a section?"""
    unlinked = []
    for path in _sources():
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"[Cc]ourse\s+notes", text):
            if not REF.search(text[match.end() : match.end() + 80]):
                line = text.count("\n", 0, match.start()) + 1
                unlinked.append(f"{path.relative_to(ROOT)}:{line}")
    assert not unlinked


def test_every_section_a_docstring_links_exists():
    """Does every :ref: of the package's docstrings name a label of the notes?"""
    labels = _labels()
    assert {"trimmed-l1", "fista", "masks", "ste"} <= labels
    missing = [
        f"{path.relative_to(ROOT)}: {label}"
        for path in _sources()
        for label in REF.findall(path.read_text(encoding="utf-8"))
        if label not in labels
    ]
    assert not missing


def test_every_notebook_introduction_links_a_chapter_that_exists():
    """Does each homework notebook's first cell link chapters of the notes that exist?"""
    import json

    for folder in ("solutions", "assignments"):
        notebooks = sorted((ROOT / folder / "homework").glob("*.ipynb"))
        assert len(notebooks) == 4
        for notebook in notebooks:
            intro = "".join(json.loads(notebook.read_text())["cells"][0]["source"])
            links = re.findall(r"\]\((\.\./\.\./docs/chapters/\w+\.md)\)", intro)
            assert links, notebook.name
            assert all((notebook.parent / link).resolve().is_file() for link in links)
