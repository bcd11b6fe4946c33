"""The process that runs a student's functions, inside the sandbox (run as a script).

Usage (from :mod:`edu.grading._worker_process`, through the launcher)::

    python -I _worker.py REQUEST_FD RESPONSE_FD LIBRARY

It puts ``LIBRARY`` (from :func:`edu.grading._sandbox_edu.build_sandbox_edu`) first on
``sys.path``, so ``import edu`` gives the minimal package in which everything but the
model's building blocks refuses to run, makes torch's routines that compute a taught
function refuse too, imports torch, says it has started (a ``started`` message: the
grader's time limit of a request then counts the request alone, not the start-up),
then answers requests until its input ends.
Each request is one :mod:`edu.grading._protocol` message whose header names an
operation:

- ``exec``: run source code (the imports of the notebook's setup, then each solution
  cell, one per request) in the namespace of the request's notebook (``namespace``):
  each notebook of the submission has its own, where its functions live;
- ``call``: call one of the student's functions on arrays (as numpy arrays, or as
  torch tensors when the header says ``tensors``) and values;
- ``prune_layer``, ``global_prune``, ``finetune``, ``ste``, ``remove_channels``: build
  the torch objects a Lab 2, 3 or 4 function takes (a layer, a small CIFAR ResNet, a
  loader and an optimizer, a tensor that requires grad) from arrays, call the student's
  function and send back what it did to them (and for ``remove_channels``, the weights
  of the model it returned);
- ``load_checkpoint``: read a submitted ``.pt`` with ``torch.load(weights_only=True)``
  and send back its tensors.

The notebooks of a submission share the process, each with its own namespace and its
own process-wide settings (gradient mode, default dtype, numpy's error handling), which
are set back before each of its requests, as they would be in its own kernel.

The answer holds plain arrays and a header: ``status`` (``ok`` or ``error``, with the
exception's type, message and the student's lines of the traceback). What the call
tried to use and was refused reaches the grader on a pipe of its own, written when
the refusal happens (:mod:`edu.grading._sandbox_edu_init`). Nothing is trusted on the
grader's side: it checks every array it gets.
"""

from __future__ import annotations

import contextlib
import importlib.util
import linecache
import os
import re
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np

_MAX_REQUEST = 1 << 30
_MAGIC = re.compile(r"^(\s*)[%!].*$", re.MULTILINE)
_NAMESPACES: dict[str, dict] = {}
_SETTINGS: dict[str, dict] = {}
_FRESH_SETTINGS = {
    "grad_enabled": True,
    "default_dtype": "float32",
    "numpy_errors": {"divide": "warn", "over": "warn", "under": "ignore", "invalid": "warn"},
}
"""What a notebook starts with: the settings of a new Python process."""


def _settings() -> dict:
    """The process-wide settings a notebook's code may change and results depend on."""
    settings = {"numpy_errors": np.geterr()}
    torch = sys.modules.get("torch")
    if torch is not None:
        settings["grad_enabled"] = torch.is_grad_enabled()
        settings["default_dtype"] = str(torch.get_default_dtype()).removeprefix("torch.")
    return settings


def _apply(settings: dict) -> None:
    np.seterr(**settings["numpy_errors"])
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_grad_enabled(settings.get("grad_enabled", True))
        torch.set_default_dtype(getattr(torch, settings.get("default_dtype", "float32")))


def _torch():
    import torch

    torch.set_num_threads(1)
    return torch


def _argument(spec: dict, arrays: dict, torch_tensors: bool = False):
    if "array" in spec:
        array = arrays[spec["array"]]
        return _torch().from_numpy(array.copy()) if torch_tensors else array.copy()
    return spec["value"]


def _plain(value) -> np.ndarray | None:
    """An array for a returned value: ndarrays, tensors, numbers and bools."""
    if value is None:
        return None
    if type(value).__module__.startswith("torch") and hasattr(value, "detach"):
        value = value.detach().cpu()
        if value.dtype.is_floating_point and value.dtype.itemsize < 4:
            value = value.float()
        value = value.numpy()
    array = np.asarray(value)
    if array.dtype == object:
        raise TypeError(f"returned a {type(value).__name__}, not an array or a number")
    return array


def _namespace(header: dict) -> dict:
    """The namespace of the request's notebook (made on first use)."""
    return _NAMESPACES.setdefault(header["namespace"], {"__name__": "__main__"})


def _student_function(header: dict):
    name = header["function"]
    function = _namespace(header).get(name)
    if function is None:
        raise LookupError(f"{name} is not defined after running the notebook's cells")
    return function


def op_exec(header: dict, arrays: dict) -> tuple[dict, dict]:
    """Run one cell's source in its notebook's namespace."""
    filename = f"<cell {header['cell']}>"
    source = _MAGIC.sub(r"\1pass", header["source"])
    lines = source.splitlines(keepends=True)
    linecache.cache[filename] = (len(source), None, lines, filename)
    namespace = _namespace(header)
    exec(compile(source, filename, "exec"), namespace)
    return {"defined": sorted(k for k in namespace if not k.startswith("__"))}, {}


def op_call(header: dict, arrays: dict) -> tuple[dict, dict]:
    """Call a function on arrays; send back the result and the arguments afterwards."""
    function = _student_function(header)
    tensors = bool(header.get("tensors", False))
    args = [_argument(spec, arrays, tensors) for spec in header["args"]]
    result = function(*args)
    out = {
        f"arg{i}": _plain(a)
        for i, (spec, a) in enumerate(zip(header["args"], args, strict=True))
        if "array" in spec
    }
    plain = _plain(result)
    if plain is not None:
        out["result"] = plain
    return {"returned": type(result).__name__}, out


def _layer(kind: str, weight: np.ndarray):
    torch = _torch()
    if kind == "linear":
        layer = torch.nn.Linear(weight.shape[1], weight.shape[0])
    else:
        out_ch, in_ch, k, _ = weight.shape
        layer = torch.nn.Conv2d(in_ch, out_ch, k, padding=k // 2)
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(weight))
    return layer


def op_value(header: dict, arrays: dict) -> tuple[dict, dict]:
    """A variable of the student's namespace (a Part 0 answer), as an array."""
    namespace = _namespace(header)
    if header["name"] not in namespace:
        raise LookupError(f"{header['name']} is not defined after running the notebook's cells")
    value = namespace[header["name"]]
    plain = _plain(value) if isinstance(value, bool | int | float) else None
    return {"type": type(value).__name__}, {} if plain is None else {"value": plain}


def op_prune_layer(header: dict, arrays: dict) -> tuple[dict, dict]:
    """``prune_by_percentage(layer, q)`` on a Linear or Conv2d layer with given weights."""
    layer = _layer(header["kind"], arrays["weight"])
    returned = _student_function(header)(layer, header["q"])
    out = {"weight": _plain(layer.weight)}
    mask = _plain(returned)
    if mask is not None:
        out["returned"] = mask
    return {"returned": type(returned).__name__}, out


def _resnet(num_layers: int, arrays: dict, prefix: str = "state/"):
    torch = _torch()
    from edu.models import ResNetCIFAR

    net = ResNetCIFAR(num_layers=num_layers)
    state = {
        k[len(prefix) :]: torch.from_numpy(v) for k, v in arrays.items() if k.startswith(prefix)
    }
    net.load_state_dict(state)
    return net


def _state_arrays(net) -> dict:
    return {f"state/{k}": _plain(v) for k, v in net.state_dict().items()}


def op_global_prune(header: dict, arrays: dict) -> tuple[dict, dict]:
    """``global_prune_by_percentage(net, q)`` on a small CIFAR ResNet with given weights."""
    net = _resnet(header["num_layers"], arrays)
    returned = _student_function(header)(net, header["q"])
    out = _state_arrays(net)
    if isinstance(returned, int | float) or hasattr(returned, "item"):
        out["returned"] = _plain(float(returned))
    return {"returned": type(returned).__name__}, out


def op_finetune(header: dict, arrays: dict) -> tuple[dict, dict]:
    """One epoch of ``finetune_after_prune`` on a small ResNet, fixed batches, plain SGD."""
    torch = _torch()
    torch.manual_seed(header.get("seed", 0))
    net = _resnet(header["num_layers"], arrays)
    x, y = torch.from_numpy(arrays["x"]), torch.from_numpy(arrays["y"])
    size = header["batch_size"]
    loader = [(x[i : i + size], y[i : i + size]) for i in range(0, len(y), size)]
    optimizer = torch.optim.SGD(
        net.parameters(),
        lr=header["lr"],
        momentum=header["momentum"],
        weight_decay=header["weight_decay"],
    )
    criterion = torch.nn.CrossEntropyLoss()
    function = _student_function(header)
    returned = function(net, loader, criterion, optimizer, prune=header["prune"])
    return {"returned": type(returned).__name__}, _state_arrays(net)


def op_remove_channels(header: dict, arrays: dict) -> tuple[dict, dict]:
    """``remove_inner_channels(net, keep)`` on a CIFAR ResNet with given weights.

    Sends back the returned model's weights (``state/``) and those of the model passed
    in afterwards (``input/``), to check that it was left unchanged.
    """
    from edu.models import ResNetCIFAR

    net = _resnet(header["num_layers"], arrays)
    net.train(header.get("training", False))
    returned = _student_function(header)(net, header["keep"])
    if not hasattr(returned, "state_dict"):
        raise TypeError(f"returned a {type(returned).__name__}, not a model")
    out = {f"input/{k}": _plain(v) for k, v in net.state_dict().items()}
    out.update({f"state/{k}": _plain(v) for k, v in returned.state_dict().items()})
    reply = {"returned": type(returned).__name__, "resnet": isinstance(returned, ResNetCIFAR)}
    return reply, out


def op_ste(header: dict, arrays: dict) -> tuple[dict, dict]:
    """``STE.apply(w, bit, symmetric)``, and the gradient it lets through when asked."""
    torch = _torch()
    ste = _student_function(header)
    w = torch.from_numpy(arrays["w"].copy()).requires_grad_(header["backward"])
    output = ste.apply(w, header["bit"], header["symmetric"])
    out = {"output": _plain(output)}
    if header["backward"]:
        output.backward(torch.from_numpy(arrays["grad"]))
        if w.grad is not None:
            out["grad"] = _plain(w.grad)
    return {"returned": type(output).__name__}, out


def op_load_checkpoint(header: dict, arrays: dict) -> tuple[dict, dict]:
    """Read a ``.pt`` with ``weights_only=True``; send its tensors back by key."""
    torch = _torch()
    contents = torch.load(header["path"], map_location="cpu", weights_only=True)
    if not isinstance(contents, dict):
        raise TypeError(f"the file holds a {type(contents).__name__}, not a state dict")
    out, kinds = {}, {}
    for key, value in contents.items():
        if not isinstance(value, torch.Tensor):
            raise TypeError(
                f"the value under {str(key)[:80]!r} is a {type(value).__name__}, not a tensor"
            )
        kinds[str(key)] = str(value.dtype).removeprefix("torch.")
        out[f"state/{key}"] = _plain(value)
    return {"dtypes": kinds}, out


OPERATIONS = {
    "exec": op_exec,
    "call": op_call,
    "value": op_value,
    "prune_layer": op_prune_layer,
    "global_prune": op_global_prune,
    "finetune": op_finetune,
    "ste": op_ste,
    "remove_channels": op_remove_channels,
    "load_checkpoint": op_load_checkpoint,
}


def _student_traceback(error: BaseException) -> list[str]:
    """The traceback lines in the student's cells, newest last."""
    frames = [
        f for f in traceback.extract_tb(error.__traceback__) if f.filename.startswith("<cell")
    ]
    return [f"{f.filename[1:-1]}, line {f.lineno}: {(f.line or '').strip()}" for f in frames[-5:]]


def serve(
    requests, responses, protocol: ModuleType, before_request: Callable[[], None] = lambda: None
) -> None:
    """Answer requests until the input ends (``protocol``: :mod:`edu.grading._protocol`).

    ``before_request`` runs before each request (the sandbox ``edu``'s check that
    torch's taught routines refuse, whatever the student's code did since).
    """
    while True:
        try:
            header, arrays = protocol.decode(protocol.read_message(requests, _MAX_REQUEST))
        except EOFError:
            return
        namespace = header.get("namespace")
        try:
            before_request()
            if namespace is not None:  # each notebook keeps its own settings, as in its kernel
                _apply(_SETTINGS.get(namespace, _FRESH_SETTINGS))
            extra, out = OPERATIONS[header["op"]](header, arrays)
            reply = {"status": "ok", **extra}
        except BaseException as error:  # the student's error, reported, never fatal here
            reply = {
                "status": "error",
                "type": type(error).__name__,
                "message": str(error)[:2000],
                "errno": getattr(error, "errno", None),
                "traceback": _student_traceback(error),
            }
            out = {}
        if namespace is not None:
            with contextlib.suppress(Exception):  # a patched numpy or torch: nothing kept
                _SETTINGS[namespace] = _settings()
        protocol.write_message(responses, protocol.encode(reply, out))


def _load_protocol() -> ModuleType:
    """:mod:`edu.grading._protocol`, loaded from its file beside this script.

    Importing it as ``edu.grading._protocol`` would run ``edu.grading``'s own imports
    (nbgrader among them) in the sandbox; the protocol needs numpy only.
    """
    spec = importlib.util.spec_from_file_location(
        "_grading_protocol", Path(__file__).with_name("_protocol.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str]) -> None:
    """``REQUEST_FD RESPONSE_FD LIBRARY``: serve on those pipes."""
    request_fd, response_fd, library = int(argv[0]), int(argv[1]), argv[2]
    protocol = _load_protocol()
    sys.path.insert(0, library)
    import edu

    edu.refuse_library_routines_once_imported()
    _torch()  # imported before the first request, whose time limit is the student's
    with os.fdopen(request_fd, "rb") as requests, os.fdopen(response_fd, "wb") as responses:
        protocol.write_message(responses, protocol.encode({"status": "started"}, {}))
        serve(requests, responses, protocol, edu.refuse_library_routines_once_imported)


if __name__ == "__main__":
    main(sys.argv[1:])
