"""The outer layer of a compressed model file: header, checksum, optional lzma stage.

Layout (little-endian), 32 bytes of header then the payload:

======  =====  ==============================================================
offset  type   field
======  =====  ==============================================================
0       8s     magic ``EDUCMPR\\n``
8       u16    format version (:data:`FORMAT_VERSION`)
10      u16    flags: bit 0 set when the payload is the body compressed by lzma
12      u64    length of the body
20      u64    length of the payload (the rest of the file)
28      u32    CRC-32 of bytes 0-27 and of the payload
======  =====  ==============================================================

The lzma stage (raw LZMA2, preset 9, standard library) is applied only when it makes
the file smaller. Reading checks, in order, the length, the magic, the version, the
flags, the payload length, the checksum, and the body length against
:data:`MAX_BODY_BYTES` before decompressing at most that many bytes: every failure is
a :class:`CompressedFileError` that says which.
"""

from __future__ import annotations

import lzma
import struct
import zlib

from edu.compress._stream import CompressedFileError

__all__ = [
    "FORMAT_VERSION",
    "HEADER",
    "MAGIC",
    "MAX_BODY_BYTES",
    "READABLE_VERSIONS",
    "pack_file",
    "unpack_file",
]

MAGIC = b"EDUCMPR\n"
FORMAT_VERSION = 2
"""The version written. Version 2 added the Huffman-coded layouts of
:mod:`edu.compress._codes`; a version-1 file is a version-2 file without them, so both
are read by the same parser (which therefore also accepts those layouts in a file
labelled version 1: they decode, and are checked, the same way)."""
READABLE_VERSIONS = (1, 2)
HEADER = struct.Struct("<8sHHQQI")
LZMA_FLAG = 1
MAX_BODY_BYTES = 2**28
"""The largest body a file may declare (256 MiB): twice the float32 bytes of the
:data:`edu.compress.MAX_WEIGHTS` weights a file may hold, so no header can make the
reader allocate more."""
_FILTERS = [{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME}]


def _header(flags: int, body_length: int, payload: bytes) -> bytes:
    fields = HEADER.pack(MAGIC, FORMAT_VERSION, flags, body_length, len(payload), 0)[:-4]
    return fields + struct.pack("<I", zlib.crc32(payload, zlib.crc32(fields)))


def pack_file(body: bytes, entropy_coding: bool | None = None) -> tuple[bytes, bool]:
    """The file's bytes (header and body), the body lzma-compressed if that pays.

    Parameters
    ----------
    body : bytes
        The records of the model.
    entropy_coding : bool or None, default None
        ``None`` compresses with lzma only when the result is smaller; ``True``
        always, ``False`` never.

    Returns
    -------
    data : bytes
        The whole file.
    entropy_coded : bool
        Whether the body went through lzma.

    Examples
    --------
    >>> data, entropy_coded = pack_file(bytes(1000))
    >>> len(data) < 100, entropy_coded, unpack_file(data) == bytes(1000)
    (True, True, True)
    >>> data, entropy_coded = pack_file(b"abc")  # lzma would make it longer
    >>> len(data), entropy_coded
    (35, False)
    """
    payload = body
    if entropy_coding is not False:
        packed = lzma.compress(body, format=lzma.FORMAT_RAW, filters=_FILTERS)
        if entropy_coding or len(packed) < len(body):
            payload = packed
    use_lzma = payload is not body
    return _header(LZMA_FLAG if use_lzma else 0, len(body), payload) + payload, use_lzma


def _decompress(payload: bytes, length: int) -> bytes:
    decompressor = lzma.LZMADecompressor(format=lzma.FORMAT_RAW, filters=_FILTERS)
    try:
        body = decompressor.decompress(payload, max_length=length)
    except lzma.LZMAError as error:
        raise CompressedFileError(f"corrupted lzma data: {error}") from None
    if len(body) != length or not decompressor.eof or decompressor.unused_data:
        raise CompressedFileError(
            f"the lzma data does not decode to the {length} bytes the header declares"
        )
    return body


def unpack_file(data: bytes) -> bytes:
    """Check the header and checksum of a file's bytes and return its body.

    Raises
    ------
    CompressedFileError
        If the bytes are too short, not a compressed model file, of another format
        version, cut short or followed by more bytes, corrupted (checksum), or
        declare a body larger than :data:`MAX_BODY_BYTES`.
    """
    if len(data) < HEADER.size:
        if not data:
            raise CompressedFileError("empty file: not an edu compressed model file")
        if not data.startswith(MAGIC[: len(data)]):
            raise CompressedFileError("not an edu compressed model file (wrong magic bytes)")
        raise CompressedFileError(
            f"truncated: {len(data)} bytes, the header alone takes {HEADER.size}"
        )
    magic, version, flags, body_length, payload_length, checksum = HEADER.unpack_from(data)
    if magic != MAGIC:
        raise CompressedFileError("not an edu compressed model file (wrong magic bytes)")
    if version not in READABLE_VERSIONS:
        readable = " and ".join(map(str, READABLE_VERSIONS))
        raise CompressedFileError(f"format version {version}: this edu reads versions {readable}")
    if flags & ~LZMA_FLAG:
        raise CompressedFileError(f"unknown flags {flags:#06x} in the header")
    payload = data[HEADER.size :]
    if len(payload) != payload_length:
        state = "truncated" if len(payload) < payload_length else "longer than declared"
        raise CompressedFileError(
            f"{state}: the header declares {payload_length} bytes after it, "
            f"the file holds {len(payload)}"
        )
    if zlib.crc32(payload, zlib.crc32(data[: HEADER.size - 4])) != checksum:
        raise CompressedFileError("checksum mismatch: the file is corrupted")
    if body_length > MAX_BODY_BYTES:
        raise CompressedFileError(
            f"the header declares a body of {body_length} bytes, more than {MAX_BODY_BYTES}"
        )
    if flags & LZMA_FLAG:
        return _decompress(payload, body_length)
    if body_length != payload_length:
        raise CompressedFileError(
            f"the header declares a body of {body_length} bytes, the file holds {payload_length}"
        )
    return payload
