"""The minimal ``edu`` package that the student's code imports while it is graded.

A student's function must do the work itself. Instead of a copy of ``edu`` with a list
of refused functions (a list that misses whatever computes the same thing by another
route), the sandbox gets a package that holds only what builds the objects a taught
function receives, :data:`WORKING`; every other name of every public subpackage is a
stand-in that refuses when called and reports the call to the grader
(:mod:`edu.grading._sandbox_edu_init`, its ``__init__``). The real package's source is
not in the sandbox's view.

The grading worker's own scripts go beside the package, not in it (``worker/``), so
that the student's ``import edu`` finds nothing of the grader.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import edu

__all__ = ["SUBPACKAGES", "WORKING", "build_sandbox_edu"]

WORKING: dict[str, dict[str, tuple[str, ...]]] = {
    "edu.models": {"_resnet": ("BasicBlock", "ResNetCIFAR")},
    "edu.quant": {"_layers": ("QuantConv2d", "QuantLinear")},
    "edu.prune": {"_layers": ("prunable_layers",)},
}
"""What runs in the sandbox: subpackage -> {private module: names}, copied from ``edu``.

The ResNet and its layers are what the checks hand to the Lab 2, 3 and 4 functions, and
what Lab 4's ``remove_inner_channels`` builds, narrower (``inner_channels``);
``prunable_layers`` says which layers a pruning function acts on. A quantized layer's
forward pass uses ``edu.quant.STE``, which refuses: a model quantizes only through the
student's own quantizer."""

SUBPACKAGES = (
    "compress",
    "data",
    "experiments",
    "models",
    "notebook",
    "plots",
    "prune",
    "quant",
    "sparse",
    "train",
)
"""The public subpackages whose names the notebooks may import (all refusing but
:data:`WORKING`)."""

_STAND_INS = '''"""{module} while grading: what is imported here runs, every other name refuses."""

from edu import refusing_getattr

{imports}
__getattr__ = refusing_getattr({module!r})
'''

_STE = '''"""The reference STE refuses while grading: a quantized layer needs the student's."""

from edu import Refused

STE = Refused("edu.quant.STE")
quantize_weights = Refused("edu.quant.quantize_weights")
'''

_WORKER_FILES = ("_worker.py", "_protocol.py")


def build_sandbox_edu(destination: Path) -> tuple[Path, Path]:
    """Write the sandbox's ``edu`` and the worker's scripts under ``destination``.

    Parameters
    ----------
    destination : Path
        An empty or missing folder.

    Returns
    -------
    Path, Path
        The folder to put first on the sandbox's ``sys.path`` (it holds ``edu/``),
        and the folder of the worker's scripts (``_worker.py``, ``_protocol.py``).
    """
    source = Path(edu.__file__).parent
    library, worker = Path(destination) / "lib", Path(destination) / "worker"
    if Path(destination).exists():
        shutil.rmtree(destination)
    package = library / "edu"
    package.mkdir(parents=True)
    worker.mkdir()
    for name in _WORKER_FILES:
        shutil.copyfile(source / "grading" / name, worker / name)
    shutil.copyfile(source / "grading" / "_sandbox_edu_init.py", package / "__init__.py")
    for subpackage in SUBPACKAGES:
        folder = package / subpackage
        folder.mkdir()
        module = f"edu.{subpackage}"
        working = WORKING.get(module, {})
        for private in working:
            shutil.copyfile(source / subpackage / f"{private}.py", folder / f"{private}.py")
        imports = "".join(
            f"from {module}.{private} import {', '.join(names)}\n"
            for private, names in working.items()
        )
        (folder / "__init__.py").write_text(_STAND_INS.format(module=module, imports=imports))
    (package / "quant" / "_ste.py").write_text(_STE)
    return library, worker
