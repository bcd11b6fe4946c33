"""Bounded reading and plain writing of the little-endian fields of a compressed file.

Every read says what it reads, and asks for no more bytes than remain: a truncated or
hostile file fails here with a :class:`CompressedFileError` naming the field, before
anything is allocated from a size it declares.
"""

from __future__ import annotations

import struct

__all__ = ["CompressedFileError", "Reader", "Writer"]


class CompressedFileError(ValueError):
    """A compressed model file that is truncated, corrupted or not one at all."""


class Reader:
    """Read fields in order from ``data``, never past its end.

    Parameters
    ----------
    data : bytes
        The bytes to read.
    what : str
        What they are (``"body"``), for the error messages.

    Examples
    --------
    >>> reader = Reader(bytes([7, 1, 0]), "body")
    >>> reader.unpack("<BH", "a byte and a short")
    (7, 1)
    >>> reader.take(1, "id")
    Traceback (most recent call last):
    ...
    edu.compress._stream.CompressedFileError: body truncated: id needs 1 bytes at offset 3, 0 left
    """

    def __init__(self, data: bytes, what: str) -> None:
        self._data = memoryview(data)
        self._offset = 0
        self._what = what

    @property
    def remaining(self) -> int:
        """Bytes not read yet."""
        return len(self._data) - self._offset

    def take(self, size: int, field: str) -> bytes:
        """The next ``size`` bytes, or :class:`CompressedFileError` if fewer remain."""
        if size > self.remaining:
            raise CompressedFileError(
                f"{self._what} truncated: {field} needs {size} bytes at offset "
                f"{self._offset}, {self.remaining} left"
            )
        chunk = self._data[self._offset : self._offset + size].tobytes()
        self._offset += size
        return chunk

    def unpack(self, fmt: str, field: str) -> tuple:
        """The next fields of ``struct`` format ``fmt``."""
        return struct.unpack(fmt, self.take(struct.calcsize(fmt), field))

    def finish(self) -> None:
        """Check that nothing is left: trailing bytes are corruption too."""
        if self.remaining:
            raise CompressedFileError(
                f"{self._what} has {self.remaining} unexpected bytes at its end"
            )


class Writer:
    """Collect fields and byte strings; ``bytes(writer)`` is what was written."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def pack(self, fmt: str, *values: object) -> None:
        """Append ``values`` in ``struct`` format ``fmt``."""
        self._parts.append(struct.pack(fmt, *values))

    def write(self, data: bytes) -> None:
        """Append raw bytes."""
        self._parts.append(bytes(data))

    def __bytes__(self) -> bytes:
        return b"".join(self._parts)

    def __len__(self) -> int:
        return sum(len(part) for part in self._parts)
