"""Do the chapters show rendered maths, figures, exercises and tables in a browser?

Headless Chromium opens the built page from disk (``file://``), waits for MathJax to
finish, and reports what a reader would see: every maths element typeset as an SVG
with a size, no TeX source left in the text, every figure decoded, and no request to
anything but local files. A screenshot of the page is kept as a test artifact
(``docs/_build/test-artifacts/proximal-operators.png``). The same check run on a copy
of the page without its MathJax script must fail, which shows the check can fail. On
the pruning chapter, the solutions of the exercises start folded and open on a click,
and every table fits the width of the text; a second screenshot shows its exercises
with one solution open (``pruning-exercises.png``).
"""

from __future__ import annotations

import re

import pytest
from PIL import Image

pytestmark = pytest.mark.slow

FACTS = r"""
(async () => {
  const mathjax = window.MathJax && window.MathJax.startup ? window.MathJax : null;
  if (mathjax) { await mathjax.startup.promise; }
  const maths = [...document.querySelectorAll("span.math, div.math")];
  const sized = (element) => {
    const svg = element.querySelector("mjx-container svg");
    if (!svg) { return false; }
    const box = svg.getBoundingClientRect();
    return box.width > 0 && box.height > 0;
  };
  return {
    mathjax: mathjax ? mathjax.version : null,
    maths: maths.length,
    rendered: maths.filter(sized).length,
    errors: document.querySelectorAll("mjx-merror, [data-mjx-error]").length,
    rawTex: /\\[(\[]|\\frac|\\lVert/.test(document.body.innerText),
    images: [...document.images].map((image) => ({
      src: image.getAttribute("src"), width: image.naturalWidth, height: image.naturalHeight,
    })),
  };
})()
"""
"""JavaScript run in the page once it has loaded; returns what the page shows."""

LOCAL_SCHEMES = ("file:", "data:", "about:", "blob:")


def _page_facts(browser, url):
    browser.open(url)
    return browser.evaluate(FACTS)


def test_proximal_chapter_renders_maths_and_figures_offline(
    chromium_path, chromium_module, docs_build, artifacts_dir, tmp_path
):
    """Is every formula typeset and every figure shown, with nothing fetched from outside?"""
    page = docs_build.html / "chapters" / "proximal.html"
    with chromium_module.Chromium(chromium_path, tmp_path / "profile") as browser:
        facts = _page_facts(browser, page.as_uri())
        screenshot = browser.screenshot(artifacts_dir / "proximal-operators.png")
        remote = [url for url in browser.requested if not url.startswith(LOCAL_SCHEMES)]

    assert facts["mathjax"] is not None and facts["mathjax"].startswith("3."), facts
    assert facts["maths"] >= 50, facts["maths"]
    assert facts["rendered"] == facts["maths"], facts
    assert facts["errors"] == 0
    assert not facts["rawTex"]
    assert len(facts["images"]) >= 3
    for image in facts["images"]:
        assert image["width"] > 300 and image["height"] > 200, image
    assert not remote, remote
    with Image.open(screenshot) as picture:
        assert picture.width >= 1000 and picture.height > 2000


def test_the_maths_check_fails_without_mathjax(
    chromium_path, chromium_module, docs_build, tmp_path
):
    """Without its MathJax script, does the same page count as raw TeX, not rendered?"""
    page = docs_build.html / "chapters" / "proximal.html"
    html = page.read_text(encoding="utf-8")
    stripped, removed = re.subn(r"<script[^>]*tex-svg-full\.js[^>]*></script>", "", html)
    assert removed == 1
    # The copy lives outside the shared build; its <base> resolves the page's relative
    # links (styles, figures) against the build's chapter folder, as for the original.
    stripped, heads = re.subn(
        r"<head>", f'<head><base href="{page.parent.as_uri()}/">', stripped, count=1
    )
    assert heads == 1
    copy = tmp_path / "proximal-without-mathjax.html"
    copy.write_text(stripped, encoding="utf-8")
    with chromium_module.Chromium(chromium_path, tmp_path / "profile") as browser:
        facts = _page_facts(browser, copy.as_uri())
    assert facts["mathjax"] is None
    assert facts["rendered"] == 0 and facts["maths"] >= 50
    assert facts["rawTex"]


EXERCISES = r"""
(async () => {
  const mathjax = window.MathJax && window.MathJax.startup ? window.MathJax : null;
  if (mathjax) { await mathjax.startup.promise; }
  const article = document.querySelector("article");
  const right = article.getBoundingClientRect().right;
  const solutions = [...document.querySelectorAll("details.solution")];
  const closed = solutions.filter((d) => !d.open).length;
  const first = solutions[0];
  first.querySelector("summary").click();
  await new Promise((resolve) => setTimeout(resolve, 100));
  const section = document.getElementById("pruning-exercises");
  return {
    solutions: solutions.length,
    closed: closed,
    opened: first.open && first.getBoundingClientRect().height > 60,
    exercisesTop: section ? section.getBoundingClientRect().top + window.scrollY : null,
    tables: [...article.querySelectorAll("table")].map((table) => {
      const box = table.closest(".table-wrapper") || table.parentElement;
      return {rows: table.rows.length, overflow: box.scrollWidth - box.clientWidth,
              beyond: Math.round(table.getBoundingClientRect().right - right)};
    }),
  };
})()
"""
"""JavaScript: the solutions' state before and after a click, and how wide each table is."""


def test_pruning_exercises_fold_and_its_tables_fit_the_page(
    chromium_path, chromium_module, docs_build, artifacts_dir, tmp_path
):
    """Are the solutions folded until clicked, and does every table fit the text's width?"""
    page = docs_build.html / "chapters" / "pruning.html"
    with chromium_module.Chromium(chromium_path, tmp_path / "profile") as browser:
        browser.open(page.as_uri())
        facts = browser.evaluate(EXERCISES)
        top = max(0.0, facts["exercisesTop"] - 20)
        screenshot = browser.screenshot(artifacts_dir / "pruning-exercises.png", 3000, top)

    assert facts["solutions"] >= 4 and facts["closed"] == facts["solutions"], facts
    assert facts["opened"], facts
    assert len(facts["tables"]) >= 4, "the Lab 2 tables and the per-layer sparsity"
    assert max(table["rows"] for table in facts["tables"]) >= 21, "a table of every layer"
    # no table scrolls sideways, nor reaches past the text by more than its frame
    assert all(table["overflow"] <= 0 for table in facts["tables"]), facts["tables"]
    assert all(table["beyond"] <= 8 for table in facts["tables"]), facts["tables"]
    with Image.open(screenshot) as picture:
        assert picture.width >= 1000 and picture.height > 800
