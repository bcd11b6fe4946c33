"""``edu`` as the student's code sees it while it is graded (copied as ``edu/__init__.py``).

:func:`edu.grading._sandbox_edu.build_sandbox_edu` puts this file at the top of a
minimal ``edu`` package in the sandbox. Of the real package, only what builds the
objects a taught function receives runs there (the CIFAR ResNet, its layers, the list
of prunable layers); every other name of every public subpackage, whatever it is, is
a :class:`Refused` stand-in. The setup cells' imports therefore succeed (``from
edu.train import evaluate``), but calling anything of ``edu`` that is not part of that
small core raises :class:`TaughtFunctionRefused`: no list of forbidden names to keep
up to date, and nothing that computes a taught function's result by another route
(``group_soft_threshold`` with one-element groups, ``train_one_epoch`` with masks).

Library routines that *are* a taught operation are refused the same way, at torch's
dispatcher, whatever path reaches them (``torch.nn.functional.softshrink``,
``torch.ops.aten.softshrink``, the ``Tensor`` method): soft thresholding, fake
quantization and ``torch.nn.utils.prune`` / ``torch.ao.pruning``, which prune by
magnitude (``grader/README.md`` states this rule).

A refusal is reported to the grader on the pipe whose descriptor is in
``$EDU_REFUSALS_FD``, before the exception is raised: the grader reads that pipe, so
nothing the student's code does afterwards (catching the exception, clearing a list)
takes the report back. A report that cannot be written ends the process. Hiding a
refusal would gain nothing anyway: a refused call computes nothing.
"""

import importlib
import importlib.abc
import importlib.util
import os
import sys
import warnings

_CHANNEL = int(os.environ.get("EDU_REFUSALS_FD", "-1"))
_UNREPORTED = 86
"""Exit status of a process whose refusal could not be reported."""

_TORCH_OPERATIONS = (
    "softshrink",
    "softshrink.out",
    "fake_quantize_per_tensor_affine",
    "fake_quantize_per_tensor_affine.tensor_qparams",
    "fake_quantize_per_tensor_affine_cachemask",
    "_fake_quantize_per_tensor_affine_cachemask_tensor_qparams",
    "fake_quantize_per_channel_affine",
    "fake_quantize_per_channel_affine_cachemask",
    "_fake_quantize_learnable_per_tensor_affine",
    "_fake_quantize_learnable_per_channel_affine",
    "quantize_per_tensor",
    "quantize_per_channel",
)
"""torch's operators that compute a taught function (soft thresholding, fake
quantization), refused for every device by a kernel registered over torch's own."""

_TORCH_MODULES = ("torch.nn.utils.prune", "torch.ao.pruning")
"""torch's pruning modules: every public name refuses."""


class TaughtFunctionRefused(RuntimeError):
    """Raised by what in ``edu`` (or torch) would do a taught function's work."""


def _refuse(name: str) -> None:
    """Report ``name`` to the grader, then raise :class:`TaughtFunctionRefused`."""
    try:
        os.write(_CHANNEL, f"{name}\n".encode())
    except OSError:
        os._exit(_UNREPORTED)
    raise TaughtFunctionRefused(
        f"{name} does the work of a function you write; it does not run while grading"
    )


class Refused:
    """A stand-in for ``name``: any attribute is another stand-in, any call refuses."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __call__(self, *args, **kwargs):
        _refuse(self._name)

    def __getattr__(self, attribute: str):
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        return Refused(f"{self._name}.{attribute}")

    def __repr__(self) -> str:
        return f"<{self._name}, refused while grading>"


def refusing_getattr(module: str):
    """A module ``__getattr__``: every name not defined there is a :class:`Refused`."""

    def __getattr__(name: str):
        if name.startswith("__"):
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        return Refused(f"{module}.{name}")

    return __getattr__


__getattr__ = refusing_getattr("edu")


def _refusing_kernel(name: str):
    def kernel(*args, **kwargs):
        _refuse(f"torch.{name.partition('.')[0]}")

    return kernel


class _WhenTorchIsImported(importlib.abc.MetaPathFinder):
    """Runs :func:`refuse_library_routines` as soon as ``import torch`` has finished.

    Importing torch takes seconds; a notebook that does not use it does not pay for it.
    The refusals act at torch's dispatcher, so a reference to a routine taken before
    they are installed refuses too; and code that takes this hook out of
    ``sys.meta_path`` gains nothing, since the worker installs them before every request
    (:func:`refuse_library_routines_once_imported`).
    """

    def find_spec(self, name, path=None, target=None):
        if name != "torch":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        load = spec.loader.exec_module

        def exec_module(module):
            load(module)
            refuse_library_routines()

        spec.loader.exec_module = exec_module
        return spec


def refuse_library_routines_once_imported() -> None:
    """Make torch's taught routines refuse now, or as soon as torch is imported.

    Called by the grading worker before any of the student's code runs, and again
    before every request: code that took the import hook out of ``sys.meta_path`` and
    imported torch unpatched finds torch's routines refusing before its function is
    called.
    """
    if "torch" in sys.modules:
        refuse_library_routines()
    elif not any(isinstance(finder, _WhenTorchIsImported) for finder in sys.meta_path):
        sys.meta_path.insert(0, _WhenTorchIsImported())


def refuse_library_routines() -> None:
    """Make torch's routines that compute a taught function refuse (module docstring).

    Once per process: the registrations live as long as ``_TORCH_LIBRARY`` does, and a
    second library would replace (and so end) the first.
    """
    if "_TORCH_LIBRARY" in globals():
        return
    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns that a kernel is overridden
        library = torch.library.Library("aten", "IMPL")
        for operation in _TORCH_OPERATIONS:
            for key in ("CPU", "CUDA", "Meta"):
                try:
                    library.impl(operation, _refusing_kernel(operation), key)
                except RuntimeError:
                    continue  # an operator this torch does not have for that device
    sys.modules[__name__]._TORCH_LIBRARY = library  # registrations live as long as it does
    for name in _TORCH_MODULES:
        module = importlib.import_module(name)
        for attribute in [a for a in vars(module) if not a.startswith("_")]:
            if not isinstance(getattr(module, attribute), type(sys)):
                setattr(module, attribute, Refused(f"{name}.{attribute}"))
