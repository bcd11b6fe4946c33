"""The notes' HTML build that pytest-xdist's workers share (``build_once`` of conftest)."""

import subprocess
import threading
import time


def _fake_build(calls: list[str], returncode: int):
    """A stand-in for ``sphinx_build`` that takes a moment, counts its calls and writes
    one page, so that a second caller arrives while the first is still building."""

    def build(builder, out, doctrees, source=None):
        calls.append(builder)
        time.sleep(0.3)
        out.mkdir(parents=True)
        (out / "index.html").write_text("<html></html>")
        return subprocess.CompletedProcess([], returncode, stdout="built\n", stderr="")

    return build


def test_concurrent_callers_share_one_build(shared_build, tmp_path):
    """Do two workers asking at once get one build, both its result and its pages?"""
    calls: list[str] = []
    build = _fake_build(calls, returncode=0)
    results = []
    workers = [
        threading.Thread(target=lambda: results.append(shared_build(tmp_path / "docs", build)))
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert calls == ["html"]
    assert results == [(0, "built\n"), (0, "built\n")]
    assert (tmp_path / "docs" / "html" / "index.html").is_file()


def test_a_failed_build_is_reported_to_every_caller_not_rebuilt(shared_build, tmp_path):
    """Does a later caller get the first build's failure and output, without building?"""
    calls: list[str] = []
    build = _fake_build(calls, returncode=2)
    first = shared_build(tmp_path / "docs", build)
    second = shared_build(tmp_path / "docs", build)
    assert calls == ["html"]
    assert first == second == (2, "built\n")
