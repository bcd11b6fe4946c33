"""Set up the project's virtual environment on demand, then run the demo or the tests.

Usage (from anywhere; paths are resolved from this file)::

    python3 scripts/dev.py run    # the course demo: grade a sample class (edu demo)
    python3 scripts/dev.py test   # the whole test suite (lint included), in parallel

Only the Python standard library is used here, so a fresh machine with Python 3.11+
and access to the package registries is enough. The environment lives in ``.venv/`` in
the repository and is reinstalled only when ``pyproject.toml`` changes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
STAMP = VENV / "edu-install-stamp"
PARALLEL = ("-n", "auto", "--maxprocesses", "4", "--dist", "loadfile", "--no-loadscope-reorder")
"""pytest-xdist's options for ``test``: one worker per core, at most 4, each test file on one
worker (its module fixtures are made once), files in the order tests/conftest.py gives
(``-n 0`` after ``test`` runs the suite in one process)."""


def _venv_python() -> Path:
    return VENV / "bin" / "python"


def _has_pip() -> bool:
    """Whether ``.venv`` exists and its pip works (a failed first set-up leaves neither)."""
    if not _venv_python().exists():
        return False
    check = [str(_venv_python()), "-m", "pip", "--version"]
    return subprocess.run(check, capture_output=True, check=False).returncode == 0


def _project_digest() -> str:
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()


def ensure_environment() -> Path:
    """Create ``.venv`` and install the package with its extras unless already current."""
    if sys.version_info < (3, 11):  # noqa: UP036 - run by whatever python3 the user has
        sys.exit(f"Python 3.11 or newer is needed; this is {sys.version.split()[0]}.")
    if not _has_pip():
        print(f"[dev] creating virtual environment in {VENV}", flush=True)
        try:
            venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
        except subprocess.CalledProcessError:
            shutil.rmtree(VENV, ignore_errors=True)
            sys.exit(
                "[dev] could not create a virtual environment with pip; on Debian or Ubuntu "
                "install the venv module first: sudo apt-get install python3-venv"
            )
    if STAMP.exists() and STAMP.read_text() == _project_digest():
        return _venv_python()
    print("[dev] installing the package (editable) with its test and docs extras", flush=True)
    pip = [str(_venv_python()), "-m", "pip", "install", "--disable-pip-version-check"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-e", f"{ROOT}[test,docs]"], check=True)
    STAMP.write_text(_project_digest())
    return _venv_python()


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"run", "test"}:
        print(__doc__)
        return 2
    python = ensure_environment()
    os.chdir(ROOT)
    if argv[0] == "run":
        out = ROOT / "outputs" / "demo"
        command = [str(python), "-m", "edu", "demo", "--out", str(out), "--download", *argv[1:]]
    else:
        command = [str(python), "-m", "pytest", *PARALLEL, *argv[1:]]
    print("[dev] $ " + " ".join(command), flush=True)
    return subprocess.call(command)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
