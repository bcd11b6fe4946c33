"""The copy of edu in which the reference versions of the taught functions refuse to run."""

import subprocess
import sys

import pytest

from edu.grading._taught import COUNTERPARTS, TAUGHT, build_refusing_copy


@pytest.fixture(scope="module")
def copy(tmp_path_factory):
    return build_refusing_copy(tmp_path_factory.mktemp("refusing"))


def _run(copy, code: str) -> str:
    """Run ``code`` with the copy first on sys.path (a fresh interpreter)."""
    script = f"import sys\nsys.path.insert(0, {str(copy)!r})\n{code}"
    completed = subprocess.run(
        [sys.executable, "-I", "-c", script], capture_output=True, text=True, timeout=120
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def test_is_every_taught_function_listed_with_its_reference():
    """Does every taught function have at least its own reference among its counterparts?"""
    for name, package in TAUGHT.items():
        assert f"{package}.{name}" in COUNTERPARTS[name]


def test_does_every_counterpart_refuse_and_record_the_call(copy):
    """Does calling any counterpart raise TaughtFunctionRefused and record its name?"""
    names = sorted({q for qs in COUNTERPARTS.values() for q in qs})
    code = (
        "import importlib, edu\n"
        f"for qualified in {names!r}:\n"
        "    module, _, name = qualified.rpartition('.')\n"
        "    target = getattr(importlib.import_module(module), name)\n"
        "    call = target.apply if hasattr(target, 'apply') else target\n"
        "    try:\n"
        "        call(None, None, None) if hasattr(target, 'apply') else call(*[None] * "
        "target.__code__.co_argcount)\n"
        "    except edu.TaughtFunctionRefused:\n"
        "        print('refused', qualified)\n"
        "print(len(edu._REFUSED_CALLS))\n"
    )
    out = _run(copy, code).split()
    assert [w for w in out if w != "refused"][:-1] == names
    assert int(out[-1]) == len(names)


def test_do_the_other_functions_still_work(copy):
    """Are the scaffolding functions (models, masks, data helpers) untouched?"""
    code = (
        "import torch\n"
        "from edu.models import ResNetCIFAR\n"
        "from edu.prune import prunable_layers, masks_from_nonzeros\n"
        "net = ResNetCIFAR(num_layers=8)\n"
        "print(len(prunable_layers(net)), len(masks_from_nonzeros(net)))\n"
    )
    assert _run(copy, code).split() == ["8", "8"]


def test_does_reloading_bring_back_the_refusing_version(copy):
    """Does importlib.reload of the module give the refusing function again?"""
    code = (
        "import importlib, edu, edu.sparse._prox as prox\n"
        "prox = importlib.reload(prox)\n"
        "try:\n"
        "    prox.soft_threshold([1.0], 0.1)\n"
        "except edu.TaughtFunctionRefused:\n"
        "    print('refused')\n"
    )
    assert _run(copy, code).strip() == "refused"
