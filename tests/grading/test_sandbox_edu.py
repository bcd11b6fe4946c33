"""The minimal edu of the sandbox: what runs, what refuses, and how a refusal is reported.

Each test runs a fresh interpreter with the sandbox's ``edu`` first on ``sys.path`` and
a pipe for the refusals, as the grading worker has them.
"""

import os
import subprocess
import sys

import pytest

from edu.grading._sandbox_edu import SUBPACKAGES, build_sandbox_edu


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    return build_sandbox_edu(tmp_path_factory.mktemp("sandbox-edu"))[0]


def _run(library, code: str, *, install: bool = False) -> tuple[int, str, list[str]]:
    """Run ``code``; return its exit status, stdout and the refusals it reported."""
    read, write = os.pipe()
    setup = "import edu; edu.refuse_library_routines_once_imported()\n" if install else ""
    script = f"import sys\nsys.path.insert(0, {str(library)!r})\n{setup}{code}"
    env = {**os.environ, "EDU_REFUSALS_FD": str(write)}
    completed = subprocess.run(
        [sys.executable, "-I", "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        pass_fds=(write,),
        env=env,
    )
    os.close(write)
    with os.fdopen(read) as refusals:
        return completed.returncode, completed.stdout + completed.stderr, refusals.read().split()


def test_do_the_setup_imports_succeed_and_every_call_refuse(library):
    """Are the notebooks' scaffolding names importable, and is each call refused, reported?"""
    code = (
        "from edu.train import train_one_epoch, evaluate\n"
        "from edu.sparse import group_soft_threshold, soft_threshold\n"
        "from edu.prune import apply_masks, masks_from_nonzeros\n"
        "import edu.experiments\n"
        "for f in (train_one_epoch, group_soft_threshold, soft_threshold, apply_masks,\n"
        "          masks_from_nonzeros, edu.experiments.finetune):\n"
        "    try:\n"
        "        f(None)\n"
        "    except edu.TaughtFunctionRefused:\n"
        "        print('refused')\n"
    )
    status, out, refusals = _run(library, code)
    assert status == 0, out
    assert out.split() == ["refused"] * 6
    assert refusals == [
        "edu.train.train_one_epoch",
        "edu.sparse.group_soft_threshold",
        "edu.sparse.soft_threshold",
        "edu.prune.apply_masks",
        "edu.prune.masks_from_nonzeros",
        "edu.experiments.finetune",
    ]


def test_does_the_models_core_still_work(library):
    """Do ResNetCIFAR and prunable_layers work, while a quantized forward refuses?"""
    code = (
        "import torch\n"
        "from edu.models import ResNetCIFAR\n"
        "from edu.prune import prunable_layers\n"
        "net = ResNetCIFAR(num_layers=8)\n"
        "print(len(prunable_layers(net)), net(torch.zeros(1, 3, 32, 32)).shape[1])\n"
        "try:\n"
        "    ResNetCIFAR(num_layers=8, Nbits=4)(torch.zeros(1, 3, 32, 32))\n"
        "except Exception as error:\n"
        "    print(type(error).__name__)\n"
    )
    status, out, refusals = _run(library, code)
    assert status == 0, out
    assert out.split() == ["8", "10", "TaughtFunctionRefused"]
    assert refusals == ["edu.quant.STE.apply"]


def test_is_no_other_source_of_edu_in_the_package(library):
    """Does the package hold only the subpackages' stand-ins and the model's files?"""
    files = sorted(p.relative_to(library).as_posix() for p in library.rglob("*.py"))
    expected = {"edu/__init__.py", *(f"edu/{name}/__init__.py" for name in SUBPACKAGES)}
    expected |= {"edu/models/_resnet.py", "edu/quant/_layers.py", "edu/quant/_ste.py"}
    expected |= {"edu/prune/_layers.py"}
    assert set(files) == expected


@pytest.mark.parametrize(
    "call",
    [
        "torch.nn.functional.softshrink(x, 0.1)",
        "torch.ops.aten.softshrink(x, 0.1)",
        "torch.nn.Softshrink(0.1)(x.requires_grad_())",
        "torch.fake_quantize_per_tensor_affine(x, 0.1, 0, 0, 15)",
        "torch.nn.utils.prune.l1_unstructured(torch.nn.Linear(3, 3), 'weight', 0.5)",
        "torch.nn.utils.prune.global_unstructured([], None)",
    ],
)
def test_do_torchs_own_taught_operations_refuse(library, call):
    """Does each route to torch's soft threshold, fake quantization or pruning refuse?"""
    code = (
        "import torch, torch.nn.utils.prune\n"
        "x = torch.randn(4)\n"
        "try:\n"
        f"    {call}\n"
        "except Exception as error:\n"
        "    print(type(error).__name__)\n"
    )
    status, out, refusals = _run(library, code, install=True)
    assert status == 0, out
    assert "TaughtFunctionRefused" in out
    assert refusals and refusals[0].startswith("torch.")


def test_does_a_refusal_that_cannot_be_reported_end_the_process(library):
    """If the student's code closes the refusals' pipe, does a refused call end it?"""
    code = (
        "import os, edu\n"
        "os.close(edu._CHANNEL)\n"
        "try:\n"
        "    edu.sparse.soft_threshold(1, 0)\n"
        "except Exception:\n"
        "    print('survived')\n"
    )
    status, out, _ = _run(library, code)
    assert status == 86
    assert "survived" not in out


def test_is_torch_patched_before_a_request_even_with_the_import_hook_removed(library):
    """If the student's code takes the hook out of sys.meta_path and imports torch
    unpatched, does the check the worker runs before each request make softshrink refuse,
    and does running it twice keep the first registrations alive?"""
    code = (
        "import sys\n"
        "sys.meta_path[:] = [f for f in sys.meta_path if 'WhenTorch' not in type(f).__name__]\n"
        "import torch\n"
        "x = torch.randn(4)\n"
        "print(torch.nn.functional.softshrink(x, 0.1).shape[0])\n"  # unpatched: it runs
        "edu.refuse_library_routines_once_imported()\n"  # what the worker does per request
        "edu.refuse_library_routines_once_imported()\n"
        "import gc; gc.collect()\n"
        "try:\n"
        "    torch.nn.functional.softshrink(x, 0.1)\n"
        "except Exception as error:\n"
        "    print(type(error).__name__)\n"
    )
    status, out, refusals = _run(library, code, install=True)
    assert status == 0, out
    assert out.split() == ["4", "TaughtFunctionRefused"]
    assert refusals == ["torch.softshrink"]
