"""The notes' HTML build that pytest-xdist's workers share (``build_once`` of conftest)."""

import subprocess
import threading


class _FakeBuild:
    """A stand-in for ``sphinx_build`` that counts its calls, writes one page, and holds
    the first call until released, so that a second caller can be made to arrive while
    the first is still building."""

    def __init__(self, returncode: int):
        self.returncode = returncode
        self.calls = 0
        self.building = threading.Event()
        self.release = threading.Event()

    def __call__(self, builder, out, doctrees, source=None):
        self.calls += 1
        self.building.set()
        self.release.wait(timeout=30)
        out.mkdir(parents=True)
        (out / "index.html").write_text("<html></html>")
        return subprocess.CompletedProcess([], self.returncode, stdout="built\n", stderr="")


def test_a_caller_arriving_during_the_build_waits_for_it_and_shares_it(shared_build, tmp_path):
    """Does a second worker asking mid-build wait, then get the one build's result?"""
    build = _FakeBuild(returncode=0)
    results = []

    def ask():
        results.append(shared_build(tmp_path / "docs", build))

    first = threading.Thread(target=ask)
    first.start()
    assert build.building.wait(timeout=30)
    second = threading.Thread(target=ask)
    second.start()
    second.join(timeout=0.5)
    assert second.is_alive(), "the second caller did not wait for the build in progress"
    build.release.set()
    first.join()
    second.join()
    assert build.calls == 1
    assert results == [(0, "built\n"), (0, "built\n")]
    assert (tmp_path / "docs" / "html" / "index.html").is_file()


def test_a_failed_build_is_reported_to_every_caller_not_rebuilt(shared_build, tmp_path):
    """Does a later caller get the first build's failure and output, without building?"""
    build = _FakeBuild(returncode=2)
    build.release.set()
    first = shared_build(tmp_path / "docs", build)
    second = shared_build(tmp_path / "docs", build)
    assert build.calls == 1
    assert first == second == (2, "built\n")
