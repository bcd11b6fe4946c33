"""Save a pruned and quantized CIFAR ResNet in few bytes, and load it back exactly.

The body of the file (inside :mod:`edu.compress._container`) is the model's class name,
the number of tensors, and one record per state-dict entry
(:mod:`edu.compress._records`): each quantized layer as its grid, the positions of its
non-zero weights and their codes, packed or Huffman-coded, every other tensor (first
convolution, final linear layer, BatchNorm, biases) as float32, sparse when that is
smaller. Nothing is unpickled: the reader parses fixed fields and checks each against
what is left of the file, and the weights against the architecture before building
the model.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch

from edu.compress._container import HEADER, MAGIC, MAX_BODY_BYTES, pack_file, unpack_file
from edu.compress._grid import Grid
from edu.compress._records import LayerSize, read_record, write_float, write_quantized
from edu.compress._stream import CompressedFileError, Reader, Writer
from edu.models import ResNetCIFAR, infer_inner_channels, infer_num_layers
from edu.quant import QuantConv2d, QuantLinear, quantized_layers

__all__ = [
    "MAX_WEIGHTS",
    "CompressionReport",
    "is_compressed_file",
    "load_compressed",
    "model_from_bytes",
    "save_compressed",
    "stored_weights",
]

MAX_WEIGHTS = 2**25
"""The most entries a file may declare in all (ResNet-1202 has 19.4 M), so that a
hostile header cannot make the reader allocate more than 128 MiB of weights."""
MAX_TENSORS = 2**14
"""The most tensors a file may hold (ResNet-1202 has 7,220), which bounds the depth the
reader builds its shape check for."""
_ARCHITECTURE = "ResNetCIFAR"


@dataclass(frozen=True)
class CompressionReport:
    """What :func:`save_compressed` wrote.

    Attributes
    ----------
    layers : list of LayerSize
        One entry per state-dict tensor, in order, with its bytes in the body.
    body_bytes : int
        Bytes of the body before the optional lzma stage.
    file_bytes : int
        Bytes of the file, header included.
    entropy_coded : bool
        Whether the body was compressed with lzma.
    float32_bytes : int
        Bytes of the model's tensors as a float32 state dict (``numel * itemsize``).
    """

    layers: list[LayerSize]
    body_bytes: int
    file_bytes: int
    entropy_coded: bool
    float32_bytes: int

    @property
    def ratio(self) -> float:
        """``float32_bytes / file_bytes``: how many times smaller the file is."""
        return self.float32_bytes / self.file_bytes


def stored_weights(weight: torch.Tensor, bit: int | None, symmetric: bool) -> torch.Tensor:
    """The quantizer of a loaded model: its weights are already on their grid.

    ``(w, bit, symmetric) -> w``, so that the layers keep their ``nbits`` (and
    :func:`edu.quant.count_weight_levels` counts their levels) while the forward pass
    uses the stored weights unchanged. Finetuning such a model would move the weights
    off their grid; load the weights into a :class:`~edu.models.ResNetCIFAR` with
    ``Nbits`` for that.
    """
    return weight


def save_compressed(
    net: ResNetCIFAR,
    path: str | os.PathLike,
    *,
    huffman: bool | None = None,
    entropy_coding: bool | None = None,
) -> CompressionReport:
    """Write ``net`` as a compressed model file, its weights as its forward pass sees them.

    Parameters
    ----------
    net : ResNetCIFAR
        A float or quantized CIFAR ResNet. Each layer of
        :func:`edu.quant.quantized_layers` is stored as ``layer.quantized_weight()``
        (grid, positions, ``N``-bit codes); every other tensor as float32.
    path : str or os.PathLike
        The file to write (replaced atomically if it exists).
    huffman : bool or None, default None
        Whether a layer's codes may be Huffman-coded, where that makes the layer smaller
        (:mod:`edu.compress._codes`). ``None`` writes the body both ways and keeps the
        smaller file (the one without Huffman codes on a tie): lzma shrinks packed
        codes more than Huffman-coded ones, so the smaller layers do not always make
        the smaller file.
    entropy_coding : bool or None, default None
        lzma on the body: ``None`` when it makes the file smaller, or always / never.

    Returns
    -------
    CompressionReport
        Bytes per layer, of the body and of the file, and the float32 size.

    Raises
    ------
    ValueError
        If ``net`` is not a :class:`~edu.models.ResNetCIFAR`, or a quantized layer has more
        than :math:`2^{16}` distinct weights.

    Notes
    -----
    A layer of :math:`m` weights, :math:`z` of them non-zero, with :math:`N`-bit codes
    takes :math:`\\lceil zN/8 \\rceil` bytes of codes, :math:`\\min(\\lceil m/8
    \\rceil, \\text{relative indices})` bytes of positions and 8 bytes of grid (course
    notes, :ref:`storage`), or fewer with Huffman-coded codes: close to :math:`m` times
    the entropy of its codes (zeros included) and a byte per level for the code.

    Examples
    --------
    >>> import tempfile
    >>> net = ResNetCIFAR(Nbits=4)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     report = save_compressed(net, Path(folder) / "net.edz")
    ...     loaded = load_compressed(Path(folder) / "net.edz")
    >>> round(report.ratio, 1) > 6, loaded.Nbits
    (True, 4)
    """
    if not isinstance(net, ResNetCIFAR):
        raise ValueError(f"only a ResNetCIFAR can be compressed, got {type(net).__name__}")
    state = net.state_dict()
    candidates = []
    for allow_huffman in (False, True) if huffman is None else (huffman,):
        body, layers = _body(net, state, allow_huffman)
        candidates.append((*pack_file(body, entropy_coding), body, layers))
    data, entropy_coded, body, layers = min(candidates, key=lambda candidate: len(candidate[0]))
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    partial.replace(path)
    return CompressionReport(
        layers=layers,
        body_bytes=len(body),
        file_bytes=len(data),
        entropy_coded=entropy_coded,
        float32_bytes=sum(t.numel() * t.element_size() for t in state.values()),
    )


def _body(
    net: ResNetCIFAR, state: dict[str, torch.Tensor], huffman: bool
) -> tuple[bytes, list[LayerSize]]:
    """The records of every tensor of ``net`` after the architecture's name and count."""
    quantized = {f"{name}.weight": layer for name, layer in quantized_layers(net)}
    writer = Writer()
    name = _ARCHITECTURE.encode()
    writer.pack(f"<B{len(name)}sI", len(name), name, len(state))
    layers = []
    with torch.no_grad():
        for key, tensor in state.items():
            if key not in quantized:
                layers.append(write_float(writer, key, tensor))
                continue
            layer = quantized[key]
            weight = layer.quantized_weight()
            layers.append(
                write_quantized(writer, key, tensor, weight, layer.nbits, layer.symmetric, huffman)
            )
    return bytes(writer), layers


def is_compressed_file(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a readable file that starts with the magic bytes of a
    compressed model file (False for a missing or unreadable one, as ``os.path.isfile``)."""
    try:
        with open(path, "rb") as file:
            return file.read(len(MAGIC)) == MAGIC
    except OSError:
        return False


def _read_body(body: bytes) -> tuple[dict[str, torch.Tensor], dict[str, Grid]]:
    """The tensors of a body, and the grid of each quantized one."""
    reader = Reader(body, "body")
    (length,) = reader.unpack("<B", "architecture name length")
    architecture = reader.take(length, "architecture name")
    if architecture != _ARCHITECTURE.encode():
        raise CompressedFileError(f"unknown architecture {architecture!r}")
    (count,) = reader.unpack("<I", "number of tensors")
    if count > MAX_TENSORS:
        raise CompressedFileError(f"{count} tensors declared, at most {MAX_TENSORS}")
    state, grids, weights_left = {}, {}, MAX_WEIGHTS
    for _ in range(count):
        name, tensor, grid = read_record(reader, weights_left)
        if name in state:
            raise CompressedFileError(f"tensor {name} appears twice")
        weights_left -= tensor.numel()
        state[name] = tensor
        if grid is not None:
            grids[name] = grid
    reader.finish()
    return state, grids


def _check_architecture(state: dict[str, torch.Tensor]) -> ResNetCIFAR:
    """An empty model of the depth and widths the tensors imply, once they match it."""
    try:
        num_layers = infer_num_layers(state)
        widths = infer_inner_channels(state)
        with torch.device("meta"):  # shapes only: nothing is allocated
            expected = ResNetCIFAR(num_layers=num_layers, inner_channels=widths).state_dict()
    except ValueError as error:  # no blocks, or widths a pruned model cannot have
        raise CompressedFileError(str(error)) from None
    if set(expected) != set(state):
        missing, extra = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
        raise CompressedFileError(
            f"the tensors do not fit a ResNet-{num_layers}: missing {missing[:3]}, "
            f"unexpected {extra[:3]}"
        )
    for key, tensor in expected.items():
        if tensor.shape != state[key].shape or tensor.dtype != state[key].dtype:
            raise CompressedFileError(
                f"{key}: {state[key].dtype} {list(state[key].shape)} in the file, a "
                f"ResNet-{num_layers} has {tensor.dtype} {list(tensor.shape)}"
            )
    return ResNetCIFAR(num_layers=num_layers, inner_channels=widths)


def load_compressed(path: str | os.PathLike) -> ResNetCIFAR:
    """Read a file written by :func:`save_compressed` back into a model.

    Parameters
    ----------
    path : str or os.PathLike
        A compressed model file.

    Returns
    -------
    ResNetCIFAR
        On the CPU, in training mode (call ``.eval()`` to evaluate). Each layer that
        was quantized keeps its ``nbits`` and ``symmetric`` and holds the quantized
        weights themselves, with :func:`stored_weights` as its quantizer, so its
        forward pass is the saved model's bit for bit. ``Nbits`` and ``symmetric``
        of the model are those of its quantized layers when they all agree.

    Raises
    ------
    CompressedFileError
        (a ``ValueError``) If the file is truncated, corrupted, of another version,
        declares more than :data:`MAX_WEIGHTS` weights, or holds tensors that are not
        those of a :class:`~edu.models.ResNetCIFAR`; the message says which.
    """
    path = Path(path)
    limit = HEADER.size + MAX_BODY_BYTES
    with path.open("rb") as file:  # read at most the limit: a pipe or device has no size
        data = file.read(limit + 1)
    if len(data) > limit:
        raise CompressedFileError(f"{path}: too large to be a compressed model file")
    try:
        return model_from_bytes(data)
    except CompressedFileError as error:
        raise CompressedFileError(f"{path}: {error}") from None


def model_from_bytes(data: bytes) -> ResNetCIFAR:
    """The model held by the bytes of a compressed model file (see :func:`load_compressed`)."""
    state, grids = _read_body(unpack_file(data))
    net = _check_architecture(state)
    net.load_state_dict(state)
    for key, grid in grids.items():
        layer = net.get_submodule(key.rsplit(".", 1)[0])
        if not isinstance(layer, (QuantConv2d, QuantLinear)) or not key.endswith(".weight"):
            raise CompressedFileError(f"{key} is quantized but its layer cannot be")
        layer.nbits, layer.symmetric, layer.quantizer = grid.bits, grid.symmetric, stored_weights
    if len({(grid.bits, grid.symmetric) for grid in grids.values()}) == 1:
        net.Nbits, net.symmetric = next((grid.bits, grid.symmetric) for grid in grids.values())
    return net
