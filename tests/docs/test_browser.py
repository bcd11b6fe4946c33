"""Does the chapter on proximal operators show rendered maths and its figures in a browser?

Headless Chromium opens the built page from disk (``file://``), waits for MathJax to
finish, and reports what a reader would see: every maths element typeset as an SVG
with a size, no TeX source left in the text, every figure decoded, and no request to
anything but local files. A screenshot of the page is kept as a test artifact
(``docs/_build/test-artifacts/proximal-operators.png``). The same check run on a copy
of the page without its MathJax script must fail, which shows the check can fail.
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
    copy = page.with_name("proximal-without-mathjax.html")
    copy.write_text(stripped, encoding="utf-8")
    try:
        with chromium_module.Chromium(chromium_path, tmp_path / "profile") as browser:
            facts = _page_facts(browser, copy.as_uri())
    finally:
        copy.unlink()
    assert facts["mathjax"] is None
    assert facts["rendered"] == 0 and facts["maths"] >= 50
    assert facts["rawTex"]
