"""The course notes build with warnings as errors, offline, with their figures and doctests."""

from __future__ import annotations

import pickle
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

CHAPTERS = ("sparsity", "proximal", "group_lasso", "pruning", "quantization", "lab1", "compression")
REMOTE = re.compile(r"^(https?:)?//", re.IGNORECASE)

DOCS = Path(__file__).resolve().parents[2] / "docs"

pytestmark = pytest.mark.slow


class _Assets(HTMLParser):
    """Collects the scripts, stylesheets and images a page loads."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.stylesheets: list[str] = []
        self.images: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script" and values.get("src"):
            self.scripts.append(values["src"])
        elif tag == "link" and "stylesheet" in (values.get("rel") or ""):
            self.stylesheets.append(values["href"])
        elif tag == "img":
            self.images.append(values["src"])


def _assets(page: Path) -> _Assets:
    parser = _Assets()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def test_build_succeeds_without_warnings(docs_build):
    """Does `sphinx-build -W --keep-going` finish with no warning at all?"""
    assert "build succeeded" in docs_build.output
    assert "WARNING" not in docs_build.output


def test_every_chapter_and_reference_page_is_built(docs_build):
    """Are the six chapters, the glossary, the CLI and the API pages all in the HTML?"""
    pages = [f"chapters/{name}.html" for name in CHAPTERS]
    pages += ["reference/glossary.html", "reference/cli.html", "reference/api/edu.sparse.html"]
    missing = [page for page in pages if not (docs_build.html / page).is_file()]
    assert not missing


def test_no_page_loads_scripts_or_styles_from_the_network(docs_build):
    """Is every script and stylesheet of every page a local file of the build?"""
    pages = sorted(docs_build.html.rglob("*.html"))
    assert len(pages) > 10
    for page in pages:
        assets = _assets(page)
        for url in assets.scripts + assets.stylesheets:
            assert not REMOTE.match(url), f"{page.name} loads {url} from the network"
            local = (page.parent / url.split("?")[0]).resolve()
            assert local.is_file(), f"{page.name} refers to a missing {url}"


def test_maths_pages_load_the_local_mathjax(docs_build):
    """Do the chapters load MathJax 3 from the build's own _static folder?"""
    mathjax = docs_build.html / "_static" / "mathjax" / "tex-svg-full.js"
    assert mathjax.stat().st_size > 1_000_000
    assert b'VERSION="3.2.2"' in mathjax.read_bytes()
    for name in CHAPTERS:
        scripts = _assets(docs_build.html / "chapters" / f"{name}.html").scripts
        assert "../_static/mathjax/tex-svg-full.js" in scripts, name


def test_figures_exist_and_are_images(docs_build):
    """Does every edu-figure of every chapter, and the shipped frontier's plot where a
    chapter shows it, end up as a readable PNG in its page?"""
    frontier_shipped = (DOCS / "results" / "frontier" / "frontier.png").is_file()
    for name in CHAPTERS:
        source = (DOCS / "chapters" / f"{name}.md").read_text(encoding="utf-8")
        page = docs_build.html / "chapters" / f"{name}.html"
        images = _assets(page).images
        figures = source.count("{edu-figure}")
        plots = source.count("{frontier-results}") if frontier_shipped else 0
        assert len(images) == figures + plots and figures >= 1, name
        for src in images:
            with Image.open(page.parent / src) as image:
                assert image.format == "PNG"
                assert image.width > 300 and image.height > 200


def test_figure_pages_depend_on_the_code_that_draws_them(docs_build):
    """Would an incremental build redraw a chapter after edu.sparse changes?"""
    with (docs_build.doctrees / "environment.pickle").open("rb") as file:
        env = pickle.load(file)
    dependencies = {Path(path).name for path in env.dependencies["chapters/proximal"]}
    assert {"_prox.py", "_solvers.py", "_lab1.py"} <= dependencies


def test_doctests_in_the_notes_pass(docs_build, tmp_path, run_sphinx):
    """Do the code blocks of the chapters run and print what the text says?"""
    doctrees = tmp_path / "doctrees"  # a copy: the builder may write to it
    shutil.copytree(docs_build.doctrees, doctrees)
    result = run_sphinx("doctest", tmp_path / "doctest", doctrees)
    report = (tmp_path / "doctest" / "output.txt").read_text()
    assert result.returncode == 0, report[-4000:]
    tested = int(re.search(r"^\s*(\d+) tests$", report, re.MULTILINE).group(1))
    assert tested >= 90, report[-2000:]
    assert "0 failures in tests" in report
    for name in CHAPTERS:
        assert f"Document: chapters/{name}" in report, f"no doctest ran in {name}"


def test_lab_tables_show_results_or_say_they_are_missing(docs_build):
    """Does each lab chapter show its reproduced table, or say plainly that there is none?"""
    for chapter in ("pruning", "quantization"):
        text = (docs_build.html / "chapters" / f"{chapter}.html").read_text(encoding="utf-8")
        assert "has not been reproduced yet" in text or "Made by" in text


def test_every_chapter_ends_with_a_summary_and_exercises_with_solutions():
    """Does each chapter have a summary, 4+ exercises with solutions, 2+ of them with code?"""
    for name in CHAPTERS:
        source = (DOCS / "chapters" / f"{name}.md").read_text(encoding="utf-8")
        assert "## Summary" in source and "## Exercises" in source, name
        exercises = source.split("## Exercises", 1)[1]
        solutions = exercises.split(":::{solution}")[1:]
        assert len(re.findall(r"^\*\*\d+\. ", exercises, re.MULTILINE)) >= 4, name
        assert len(solutions) >= 4, name
        assert sum("```{doctest}" in part.split("\n:::", 1)[0] for part in solutions) >= 2, name
        assert name == "lab1" or "<bib-" in source, f"{name} cites no work of the bibliography"
