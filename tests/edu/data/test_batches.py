"""Are the pickled CIFAR-10 batches read with an unpickler that runs no code from the file?

The genuine ``cifar-10-batches-py`` files are Python 2 (cPickle, protocol 2) pickles of
dicts holding strings, lists of ints and a uint8 numpy array. Python 3 cannot write
that format (its protocol 2 pickles bytes through ``_codecs.encode``, as the
conftest's fake does), so :func:`_py2_pickle` writes it opcode by opcode, the way
Python 2's numpy pickled its arrays.
"""

import io
import os
import pickle
import pickletools
import struct
import warnings
from collections import OrderedDict

import numpy as np
import pytest
import torch

from edu.data import CIFAR10_CLASSES, DataFormatError, load_cifar10

pytestmark = pytest.mark.usefixtures("isolated_env")

BATCHES = ("batches.meta", *(f"data_batch_{i}" for i in range(1, 6)), "test_batch")


def _py2_str(text: str) -> bytes:
    """A Python 2 ``str`` (bytes, read back as latin-1): SHORT_BINSTRING or BINSTRING."""
    data = text.encode("latin1")
    if len(data) < 256:
        return b"U" + bytes([len(data)]) + data
    return b"T" + struct.pack("<i", len(data)) + data


def _py2_int(value: int) -> bytes:
    return b"K" + bytes([value]) if 0 <= value < 256 else b"J" + struct.pack("<i", value)


def _py2_uint8_array(array: np.ndarray) -> bytes:
    """A C-contiguous uint8 array as Python 2's numpy pickled it (protocol 2)."""
    new_array = (  # _reconstruct(ndarray, (0,), "b"): GLOBAL x2, TUPLE1, TUPLE3, REDUCE
        b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\n"
        + (_py2_int(0) + b"\x85")
        + (_py2_str("b") + b"\x87R")
    )
    shape = b"(" + b"".join(_py2_int(n) for n in array.shape) + b"t"  # MARK ... TUPLE
    dtype = (  # dtype("u1", 0, 1), then BUILD with (3, "|", None, None, None, -1, -1, 0)
        b"cnumpy\ndtype\n"
        + (_py2_str("u1") + _py2_int(0) + _py2_int(1) + b"\x87R")
        + (b"(" + _py2_int(3) + _py2_str("|") + b"NNN" + _py2_int(-1) * 2 + _py2_int(0) + b"tb")
    )
    raw = _py2_str(array.tobytes().decode("latin1"))
    # BUILD with (version 1, shape, dtype, NEWFALSE: not Fortran order, raw data).
    return new_array + b"(" + _py2_int(1) + shape + dtype + b"\x89" + raw + b"tb"


def _py2_value(value) -> bytes:
    if isinstance(value, str):
        return _py2_str(value)
    if isinstance(value, int):
        return _py2_int(value)
    if isinstance(value, list):
        return b"](" + b"".join(_py2_value(item) for item in value) + b"e"
    if isinstance(value, np.ndarray):
        return _py2_uint8_array(value)
    raise TypeError(type(value))


def _py2_pickle(batch: dict) -> bytes:
    """``cPickle.dumps(batch, 2)`` as Python 2 wrote the genuine files (memo left out)."""
    items = b"".join(_py2_str(key) + _py2_value(value) for key, value in batch.items())
    return b"\x80\x02}(" + items + b"u."


def _write_py2_batches(fake, root):
    """The fake CIFAR-10 as genuine-format batches, in the fixture's own order."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    meta = {"num_cases_per_batch": 10000, "label_names": list(CIFAR10_CLASSES), "num_vis": 3072}
    (folder / "batches.meta").write_bytes(_py2_pickle(meta))
    parts = {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]}
    for split, names in parts.items():
        chunks = np.array_split(np.arange(len(fake.labels[split])), len(names))
        for name, chunk in zip(names, chunks, strict=True):
            batch = {
                "batch_label": f"{name} of 6",
                "labels": fake.labels[split][chunk].tolist(),
                "data": np.ascontiguousarray(fake.images[split][chunk].reshape(len(chunk), -1)),
                "filenames": [f"image_{i}.png" for i in chunk],
            }
            (folder / name).write_bytes(_py2_pickle(batch))
    return root


def test_the_python2_writer_writes_what_genuine_files_hold(fake, tmp_path):
    """Does the hand-written pickle name exactly the globals of the genuine files?"""
    array = fake.images["test"][:2].reshape(2, -1).numpy()
    data = _py2_pickle({"data": array, "labels": [1, 2]})
    pickletools.dis(data, out=io.StringIO())  # raises if the opcodes are malformed
    names = {arg for op, arg, _ in pickletools.genops(data) if op.name == "GLOBAL"}
    assert names == {"numpy.core.multiarray _reconstruct", "numpy ndarray", "numpy dtype"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # numpy >= 2: numpy.core moved
        plain = pickle.loads(data, encoding="latin1")  # the unrestricted reader
    assert np.array_equal(plain["data"], array) and plain["data"].dtype == np.uint8
    assert plain["labels"] == [1, 2]


@pytest.mark.parametrize("split", ["train", "test"])
def test_genuine_python2_batches_still_load(fake, tmp_path, split):
    """Do Python 2 batches (as distributed) load to exactly the fake's tensors?"""
    loaded = load_cifar10(split, _write_py2_batches(fake, tmp_path))
    assert torch.equal(loaded.images, fake.images[split])
    assert torch.equal(loaded.labels, fake.labels[split])


@pytest.mark.parametrize("split", ["train", "test"])
def test_python3_protocol2_batches_still_load(fake, tmp_path, split):
    """Do batches re-pickled by Python 3 (protocol 2, via _codecs.encode) load unchanged?"""
    loaded = load_cifar10(split, fake.write_batches(tmp_path))
    assert torch.equal(loaded.images, fake.images[split])
    assert torch.equal(loaded.labels, fake.labels[split])


class _Exploit:
    """Unpickling this calls ``function(*args)``: the loader must refuse it."""

    def __init__(self, function, *args):
        self.function, self.args = function, args

    def __reduce__(self):
        return self.function, self.args


@pytest.mark.parametrize("victim", BATCHES)
@pytest.mark.parametrize("protocol", [2, pickle.HIGHEST_PROTOCOL])
def test_a_batch_that_calls_print_is_refused_and_nothing_runs(
    fake, tmp_path, capsys, victim, protocol
):
    """Is a batch file whose pickle calls print refused, naming the file, with no output?"""
    root = fake.write_batches(tmp_path)
    path = root / "cifar-10-batches-py" / victim
    payload = {"data": _Exploit(print, "pwned"), "labels": [], "label_names": _Exploit(print)}
    path.write_bytes(pickle.dumps(payload, protocol=protocol))
    split = "test" if victim == "test_batch" else "train"
    refused = rf"{victim} is not a CIFAR-10 batch.*(__builtin__|builtins)\.print"
    with pytest.raises(DataFormatError, match=refused):
        load_cifar10(split, root)
    assert "pwned" not in capsys.readouterr().out


def test_a_batch_that_calls_os_system_is_refused_and_nothing_runs(fake, tmp_path):
    """Is a pickle referring to os.system refused, naming it, and is the command never run?"""
    root = fake.write_batches(tmp_path / "data")
    marker = tmp_path / "marker"
    path = root / "cifar-10-batches-py" / "data_batch_2"
    path.write_bytes(pickle.dumps({"data": _Exploit(os.system, f"echo pwned > '{marker}'")}, 2))
    module = os.system.__module__  # "posix" or "nt": how the pickle spells os.system
    with pytest.raises(DataFormatError, match=rf"data_batch_2 .*{module}\.system"):
        load_cifar10("train", root)
    assert not marker.exists()


def test_only_listed_globals_are_resolved(fake, tmp_path):
    """Is a harmless global that no batch needs (OrderedDict) refused too: a list, not a ban?"""
    root = fake.write_batches(tmp_path)
    path = root / "cifar-10-batches-py" / "batches.meta"
    path.write_bytes(pickle.dumps(OrderedDict(label_names=list(CIFAR10_CLASSES)), protocol=2))
    with pytest.raises(DataFormatError, match=r"batches\.meta .*collections\.OrderedDict"):
        load_cifar10("test", root)


def test_codecs_encode_is_allowed_for_latin1_only(fake, tmp_path):
    """Is _codecs.encode, allowed for protocol-2 bytes, refused with any other codec?"""
    root = fake.write_batches(tmp_path)
    path = root / "cifar-10-batches-py" / "test_batch"
    path.write_bytes(b"\x80\x02c_codecs\nencode\nX\x03\x00\x00\x00abcX\x05\x00\x00\x00rot13\x86R.")
    with pytest.raises(DataFormatError, match=r"test_batch is not a readable .*latin1"):
        load_cifar10("test", root)


@pytest.mark.parametrize("content", [b"", b"\x80\x02}(U\x04data", b"not a pickle at all"])
def test_truncated_or_garbage_batch_is_a_data_format_error(fake, tmp_path, content):
    """Is a truncated or non-pickle batch file a DataFormatError that names it?"""
    root = fake.write_batches(tmp_path)
    (root / "cifar-10-batches-py" / "data_batch_4").write_bytes(content)
    with pytest.raises(DataFormatError, match=r"data_batch_4 is not a readable CIFAR-10 batch"):
        load_cifar10("train", root)
