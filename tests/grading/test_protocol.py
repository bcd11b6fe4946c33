"""Messages between the grader and the sandbox: plain arrays only, bounded in size."""

import io

import numpy as np
import pytest

from edu.grading._protocol import MessageError, decode, encode, read_message, write_message


def test_do_arrays_and_header_survive_a_round_trip():
    """Does a message come back with the same header, dtypes, shapes and values?"""
    arrays = {"x": np.arange(6.0).reshape(2, 3), "mask": np.array([True, False]), "n": np.int64(3)}
    header, back = decode(encode({"op": "call", "args": [1, None]}, arrays))
    assert header == {"op": "call", "args": [1, None]}
    for name, value in arrays.items():
        assert back[name].dtype == np.asarray(value).dtype
        np.testing.assert_array_equal(back[name], value)


def test_is_an_object_array_refused():
    """Can a message smuggle a pickle (an object array)? It must be refused on reading."""
    buffer = io.BytesIO()
    np.savez(buffer, __header__=np.frombuffer(b"{}", dtype=np.uint8), evil=np.array([object()]))
    with pytest.raises(MessageError):
        decode(buffer.getvalue())


def test_is_garbage_refused():
    """Is a payload that is not an .npz archive a MessageError?"""
    with pytest.raises(MessageError):
        decode(b"not an archive")


def test_is_an_oversized_message_refused_before_reading():
    """Is a message longer than the limit refused from its announced length?"""
    stream = io.BytesIO()
    write_message(stream, b"x" * 100)
    stream.seek(0)
    with pytest.raises(MessageError, match="exceeds the limit"):
        read_message(stream, 50)


def test_is_a_truncated_message_an_eof():
    """Does a stream that ends mid-message raise EOFError (the sandbox died)?"""
    stream = io.BytesIO()
    write_message(stream, b"x" * 100)
    stream = io.BytesIO(stream.getvalue()[:60])
    with pytest.raises(EOFError):
        read_message(stream, 1000)
