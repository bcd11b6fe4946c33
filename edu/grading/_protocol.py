"""Messages between the grader and the sandboxed process: plain arrays, never pickles.

A message is one ``.npz`` archive (numpy only, read with ``allow_pickle=False``)
holding named arrays and a JSON header stored as a ``uint8`` array under
``__header__``; on the pipe it is preceded by its length (8 bytes, little endian). The
reader refuses a message longer than its limit before reading it, and an archive with
object arrays cannot be read at all, so nothing the sandbox sends can run code in the
grader. This module needs only numpy: the sandbox side loads it by path.
"""

from __future__ import annotations

import io
import json
import struct
from collections.abc import Mapping
from typing import BinaryIO

import numpy as np

__all__ = ["MessageError", "decode", "encode", "read_message", "write_message"]

_HEADER = "__header__"
_LENGTH = struct.Struct("<Q")


class MessageError(ValueError):
    """A message that is too long, truncated or not a plain-array archive."""


def encode(header: Mapping, arrays: Mapping[str, np.ndarray] | None = None) -> bytes:
    """Pack a JSON-able ``header`` and named arrays into one ``.npz`` archive.

    Examples
    --------
    >>> header, arrays = decode(encode({"op": "call"}, {"v": np.arange(3.0)}))
    >>> header, arrays["v"].tolist()
    ({'op': 'call'}, [0.0, 1.0, 2.0])
    """
    arrays = dict(arrays or {})
    if _HEADER in arrays:
        raise ValueError(f"{_HEADER!r} is reserved")
    text = json.dumps(header, allow_nan=True).encode()
    buffer = io.BytesIO()
    np.savez(buffer, **{_HEADER: np.frombuffer(text, dtype=np.uint8)}, **arrays)
    return buffer.getvalue()


def decode(payload: bytes) -> tuple[dict, dict[str, np.ndarray]]:
    """Unpack an archive made by :func:`encode`; object arrays are refused.

    Raises
    ------
    MessageError
        If ``payload`` is not such an archive.
    """
    try:
        with np.load(io.BytesIO(payload), allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
        header = json.loads(arrays.pop(_HEADER).tobytes().decode())
    except (ValueError, KeyError, OSError, EOFError, UnicodeDecodeError) as error:
        raise MessageError(f"not a plain-array message: {error}") from error
    if not isinstance(header, dict):
        raise MessageError("the message header is not a JSON object")
    return header, arrays


def write_message(stream: BinaryIO, payload: bytes) -> None:
    """Write one length-prefixed message and flush."""
    stream.write(_LENGTH.pack(len(payload)))
    stream.write(payload)
    stream.flush()


def read_message(stream: BinaryIO, max_bytes: int) -> bytes:
    """Read one length-prefixed message of at most ``max_bytes``.

    Raises
    ------
    EOFError
        If the stream ends before a whole message (the other side is gone).
    MessageError
        If the announced length exceeds ``max_bytes``.
    """
    prefix = _read_exactly(stream, _LENGTH.size)
    (length,) = _LENGTH.unpack(prefix)
    if length > max_bytes:
        raise MessageError(f"message of {length} bytes exceeds the limit of {max_bytes}")
    return _read_exactly(stream, length)


def _read_exactly(stream: BinaryIO, size: int) -> bytes:
    chunks, remaining = [], size
    while remaining:
        chunk = stream.read(remaining)
        if not chunk:
            raise EOFError("the stream ended in the middle of a message")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)
