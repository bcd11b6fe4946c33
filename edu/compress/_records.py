"""One tensor of a compressed file: its name, shape, and values stored one of three ways.

``raw``: every entry, little-endian (BatchNorm statistics, biases, small tensors).
``sparse``: the positions of the non-zero entries (:mod:`edu.compress._positions`) and
their float32 values (a pruned float layer). ``quantized``: the grid
(:mod:`edu.compress._grid`), the number of non-zero weights, and their positions and
codes in the smallest of the layouts of :mod:`edu.compress._codes` (packed at a fixed
width, or Huffman-coded). A float tensor takes the smaller of ``raw`` and ``sparse``;
zeros are told apart by their bits, so ``-0.0`` stays a stored value and a float layer
comes back bit for bit.

Layout: name length (u16) and UTF-8 name, dtype (u8), number of dimensions (u8) and
each dimension (u32), storage (u8), then the storage's own fields.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from edu.compress._codes import LAYOUTS, PACKED, decode_codes, encode_codes
from edu.compress._grid import Grid, fit_grid, read_grid
from edu.compress._positions import decode_positions, encode_positions
from edu.compress._stream import CompressedFileError, Reader, Writer

__all__ = ["LayerSize", "read_record", "write_float", "write_quantized"]

RAW, SPARSE = 0, 1
_DTYPES = {0: (torch.float32, "<f4"), 1: (torch.int64, "<i8")}
_DTYPE_CODES = {torch.float32: 0, torch.int64: 1}
MAX_DIMS = 8


@dataclass(frozen=True)
class LayerSize:
    """What one tensor costs in the body (before the optional lzma stage).

    Attributes
    ----------
    name : str
        The state-dict key.
    weights : int
        Number of entries.
    nonzeros : int
        Entries that are not zero.
    storage : str
        ``"raw"``, ``"sparse"``, or ``"N-bit linear"`` / ``"N-bit codebook"``, followed
        by ``", Huffman"`` when the codes are Huffman-coded.
    positions : str
        ``"-"`` (raw), ``"all"``, ``"bitmask"``, ``"indices"``, or ``"in codes"`` (the
        zeros are a Huffman symbol).
    nbytes : int
        Bytes of the whole record, name and shape included.
    """

    name: str
    weights: int
    nonzeros: int
    storage: str
    positions: str
    nbytes: int


def _write_head(writer: Writer, name: str, tensor: torch.Tensor, storage: int) -> None:
    encoded = name.encode()
    writer.pack(
        f"<H{len(encoded)}sBB", len(encoded), encoded, _DTYPE_CODES[tensor.dtype], tensor.dim()
    )
    writer.pack(f"<{tensor.dim()}IB", *tensor.shape, storage)


def write_float(writer: Writer, name: str, tensor: torch.Tensor) -> LayerSize:
    """Append ``tensor`` (float32 or int64) raw, or sparse if that is smaller.

    Returns
    -------
    LayerSize
        What the record costs.
    """
    start = len(writer)
    flat = tensor.detach().cpu().contiguous().reshape(-1)
    array = flat.numpy().astype(_DTYPES[_DTYPE_CODES[flat.dtype]][1])
    mask = array.view(np.uint8).reshape(array.size, -1).any(axis=1)  # bits, not values
    nonzeros = int(mask.sum())
    positions = encode_positions(mask) if flat.dtype == torch.float32 else None
    if positions is None or positions.nbytes + 4 + 4 * nonzeros >= 4 * array.size:
        _write_head(writer, name, tensor, RAW)
        writer.write(array.tobytes())
        return LayerSize(name, array.size, nonzeros, "raw", "-", len(writer) - start)
    _write_head(writer, name, tensor, SPARSE)
    writer.pack("<I", nonzeros)
    positions.write(writer)
    writer.write(array[mask].tobytes())
    return LayerSize(name, array.size, nonzeros, "sparse", positions.name, len(writer) - start)


def write_quantized(
    writer: Writer,
    name: str,
    weight: torch.Tensor,
    quantized: torch.Tensor,
    bits: int,
    symmetric: bool,
    huffman: bool = True,
) -> LayerSize:
    """Append a quantized weight: its grid, the positions of its non-zeros, their codes.

    Parameters
    ----------
    writer : Writer
    name : str
        The state-dict key of the weight.
    weight : torch.Tensor
        The layer's float weight (the linear grid's range is taken from it).
    quantized : torch.Tensor
        The weight as the forward pass uses it; its zeros are pruned weights.
    bits, symmetric :
        The layer's ``nbits`` and ``symmetric``.
    huffman : bool, default True
        Whether the codes may be Huffman-coded (:func:`edu.compress._codes.encode_codes`).
    """
    start = len(writer)
    flat = quantized.detach().cpu().to(torch.float32).reshape(-1)
    mask = flat != 0
    grid, codes = fit_grid(weight, flat[mask], bits, symmetric)
    coded = encode_codes(mask.numpy(), codes, grid.levels().numel(), grid.code_width, huffman)
    _write_head(writer, name, quantized, coded.layout)
    grid.write(writer)
    writer.pack("<I", codes.size)
    coded.write(writer)
    storage = f"{bits}-bit {grid.name}" + ("" if coded.layout == PACKED else ", Huffman")
    return LayerSize(
        name, flat.numel(), codes.size, storage, coded.positions_name, len(writer) - start
    )


def read_record(reader: Reader, weights_left: int) -> tuple[str, torch.Tensor, Grid | None]:
    """Read one record; allocate nothing if its shape exceeds ``weights_left`` entries.

    Returns
    -------
    name : str
    tensor : torch.Tensor
        The dense tensor, zeros where nothing is stored.
    grid : Grid or None
        The grid of a quantized record (its ``bits`` and ``symmetric`` say how the
        layer was quantized), else None.

    Raises
    ------
    CompressedFileError
        On any field that is cut short, out of range or inconsistent.
    """
    (length,) = reader.unpack("<H", "tensor name length")
    try:
        name = reader.take(length, "tensor name").decode()
    except UnicodeDecodeError as error:
        raise CompressedFileError(f"tensor name is not UTF-8: {error}") from None
    dtype_code, ndim = reader.unpack("<BB", f"{name}: dtype and dimensions")
    if dtype_code not in _DTYPES or ndim > MAX_DIMS:
        raise CompressedFileError(f"{name}: unknown dtype {dtype_code} or {ndim} dimensions")
    shape = reader.unpack(f"<{ndim}I", f"{name}: shape")
    numel = int(np.prod(shape, dtype=object)) if shape else 1
    if numel > weights_left:
        raise CompressedFileError(
            f"{name}: shape {list(shape)} holds {numel} entries, more than the "
            f"{weights_left} a file may still declare"
        )
    (storage,) = reader.unpack("<B", f"{name}: storage")
    torch_dtype, numpy_dtype = _DTYPES[dtype_code]
    if storage == RAW:
        data = reader.take(numel * np.dtype(numpy_dtype).itemsize, f"{name}: values")
        values = np.frombuffer(data, dtype=numpy_dtype).astype(numpy_dtype[1:])
        return name, torch.from_numpy(values).reshape(shape), None
    if (storage != SPARSE and storage not in LAYOUTS) or torch_dtype != torch.float32:
        raise CompressedFileError(f"{name}: unknown storage {storage} for dtype {torch_dtype}")
    grid = None if storage == SPARSE else read_grid(reader, name)
    (nnz,) = reader.unpack("<I", f"{name}: number of non-zeros")
    if nnz > numel:
        raise CompressedFileError(f"{name}: {nnz} non-zeros among {numel} entries")
    if grid is None:
        positions = decode_positions(reader, numel, nnz, name)
        data = reader.take(4 * nnz, f"{name}: non-zero values")
        values = torch.from_numpy(np.frombuffer(data, dtype="<f4").astype(np.float32))
    else:
        levels = grid.levels()
        positions, codes = decode_codes(
            reader, storage, numel, nnz, levels.numel(), grid.code_width, name
        )
        values = levels[torch.from_numpy(codes)]
    dense = torch.zeros(numel, dtype=torch.float32)
    dense[torch.from_numpy(positions)] = values
    return name, dense.reshape(shape), grid
