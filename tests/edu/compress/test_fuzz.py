"""Does a truncated, corrupted or hostile file give a clear CompressedFileError, and only that?"""

import struct
import zlib
from functools import partial

import numpy as np
import pytest
import torch

from edu.compress import CompressedFileError, load_compressed, model_from_bytes, save_compressed
from edu.compress._container import HEADER, MAGIC, pack_file, unpack_file
from edu.compress._records import write_float, write_quantized
from edu.compress._stream import Writer
from edu.models import ResNetCIFAR
from edu.quant import quantize_weights


@pytest.fixture(scope="module")
def small_file(tmp_path_factory):
    """A ResNet-8 at 2 bits with 90 % of its weights pruned: a file of a few kB."""
    torch.manual_seed(0)
    net = ResNetCIFAR(num_layers=8, Nbits=2)
    with torch.no_grad():
        for parameter in net.parameters():
            if parameter.dim() > 1:
                parameter.mul_(torch.rand(parameter.shape) >= 0.9)
    path = tmp_path_factory.mktemp("small") / "net.edz"
    save_compressed(net, path)
    return path.read_bytes()


def _file(body):
    return pack_file(body, entropy_coding=False)[0]


def _body(*records, count=None):
    """An architecture header, then ``records`` (callables that write to a Writer)."""
    writer = Writer()
    writer.pack("<B11sI", 11, b"ResNetCIFAR", len(records) if count is None else count)
    for record in records:
        record(writer)
    return bytes(writer)


def _huffman_weights():
    """A 3-bit layer whose codes Huffman-code best, and a 2-bit one 10 % pruned whose
    zeros are best coded as a symbol."""
    generator = torch.Generator().manual_seed(0)
    laplace = torch.randn(400, generator=generator).sign() * torch.rand(400, generator=generator)
    laplace = laplace * torch.rand(400, generator=generator).log().neg()
    mostly_dense = laplace.repeat(3) * (torch.rand(1200, generator=generator) < 0.9)
    return quantize_weights(laplace, 3), quantize_weights(mostly_dense, 2)


def _mixed_body():
    """Seven small records, one of each kind of storage, positions and code layout."""
    weight = torch.zeros(40)
    weight[[1, 7, 8, 30]] = torch.tensor([0.5, -0.25, 0.75, 1.0])
    sparse_weight = torch.zeros(400)
    sparse_weight[[5, 390]] = 1.0
    dense_3_bit, sparse_2_bit = _huffman_weights()
    return _body(
        lambda w: write_float(w, "a", torch.arange(6, dtype=torch.float32)),
        lambda w: write_float(w, "b", torch.tensor(7)),
        lambda w: write_float(w, "c", weight),
        lambda w: write_quantized(w, "d", weight, quantize_weights(weight, 3), 3, False),
        lambda w: write_quantized(w, "e", sparse_weight, sparse_weight * 0.5, 4, True),
        lambda w: write_quantized(w, "f", dense_3_bit, dense_3_bit, 3, False),
        lambda w: write_quantized(w, "g", sparse_2_bit, sparse_2_bit, 2, False),
    )


def test_the_mixed_body_holds_both_huffman_layouts():
    """Do the fuzz tests cut Huffman-coded records, with and without positions?"""
    dense_3_bit, sparse_2_bit = _huffman_weights()
    dense = write_quantized(Writer(), "f", dense_3_bit, dense_3_bit, 3, False)
    sparse = write_quantized(Writer(), "g", sparse_2_bit, sparse_2_bit, 2, False)
    assert (dense.storage, dense.positions) == ("3-bit linear, Huffman", "all")
    assert (sparse.storage, sparse.positions) == ("2-bit linear, Huffman", "in codes")


def test_the_small_file_loads(small_file):
    """Is the fixture a valid file in the first place?"""
    assert model_from_bytes(small_file).num_layers == 8


def test_truncation_at_every_length_of_the_file(small_file):
    """Is every prefix of the file refused as truncated (or, when empty, as not a file)?"""
    for length in range(len(small_file)):
        with pytest.raises(CompressedFileError, match=r"truncated|empty"):
            model_from_bytes(small_file[:length])


def test_truncation_at_every_length_of_a_body():
    """Is every prefix of a body (behind a valid checksum) refused, naming what is cut?"""
    body = _mixed_body()
    for length in range(len(body)):
        with pytest.raises(CompressedFileError, match="truncated"):
            model_from_bytes(_file(body[:length]))
    with pytest.raises(CompressedFileError, match="not those of a CIFAR ResNet"):
        model_from_bytes(_file(body))


def test_random_byte_flips_are_detected(small_file):
    """Does changing any one byte give a CompressedFileError (the checksum, the magic...)?"""
    rng = np.random.default_rng(0)
    for position in rng.integers(0, len(small_file), 300):
        corrupted = bytearray(small_file)
        corrupted[position] ^= int(rng.integers(1, 256))
        with pytest.raises(CompressedFileError):
            model_from_bytes(bytes(corrupted))


def test_random_byte_flips_behind_a_valid_checksum(small_file):
    """With the checksum recomputed, does a flipped body byte either load or give a clear
    CompressedFileError, never another exception?"""
    body = unpack_file(small_file)
    rng = np.random.default_rng(1)
    refused = 0
    for position in rng.integers(0, len(body), 60):
        corrupted = bytearray(body)
        corrupted[position] ^= int(rng.integers(1, 256))
        try:
            model_from_bytes(_file(bytes(corrupted)))
        except CompressedFileError:
            refused += 1
    assert refused > 0


def _header(version=1, flags=0, body_length=0, payload=b""):
    fields = HEADER.pack(MAGIC, version, flags, body_length, len(payload), 0)[:-4]
    return fields + struct.pack("<I", zlib.crc32(payload, zlib.crc32(fields))) + payload


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty file"),
        (b"PK\x03\x04" + bytes(40), "wrong magic"),
        (_header(version=3), "format version 3: this edu reads versions 1 and 2"),
        (_header(version=0), "format version 0"),
        (_header(flags=6), "unknown flags"),
        (_header(body_length=2**62, flags=1, payload=b"x"), "body of 4611686018427387904"),
        (_header(body_length=5, payload=b"abc"), "declares a body of 5 bytes"),
        (_header(body_length=3, flags=1, payload=b"abc"), "corrupted lzma"),
        (_file(_body(count=2**32 - 1)), "4294967295 tensors declared, at most 16384"),
        (_file(b"\x03abc" + bytes(4)), "unknown architecture"),
        (_file(_body() + b"\x00"), "1 unexpected bytes"),
    ],
)
def test_a_hostile_header_is_refused(data, message):
    """Is each malformed header refused with a message that says what is wrong?"""
    with pytest.raises(CompressedFileError, match=message):
        model_from_bytes(data)


def test_a_declared_payload_larger_than_the_file_is_refused():
    """Is a payload length of 2**63 refused as truncated, without reading further?"""
    data = bytearray(_header(payload=b"abc"))
    data[20:28] = struct.pack("<Q", 2**63)
    with pytest.raises(CompressedFileError, match="truncated"):
        unpack_file(bytes(data))


def test_an_lzma_bomb_decompresses_no_further_than_declared():
    """Does a small payload that inflates to 8 MB stop at the 1,000 bytes declared?"""
    import lzma

    from edu.compress._container import _FILTERS

    bomb = lzma.compress(bytes(2**23), format=lzma.FORMAT_RAW, filters=_FILTERS)
    with pytest.raises(CompressedFileError, match="does not decode to the 1000 bytes"):
        unpack_file(_header(body_length=1000, flags=1, payload=bomb))


def _raw_record(name, shape, storage=0, dtype=0):
    def write(writer):
        writer.pack(f"<H{len(name)}sBB", len(name), name.encode(), dtype, len(shape))
        writer.pack(f"<{len(shape)}IB", *shape, storage)

    return write


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (_raw_record("w", (2**32 - 1, 2**32 - 1)), "more than the 33554432"),
        (_raw_record("w", (2**25, 2)), "holds 67108864 entries"),
        (_raw_record("w", (1,) * 9), "9 dimensions"),
        (_raw_record("w", (4,), dtype=7), "unknown dtype 7"),
        (_raw_record("w", (4,), storage=9), "unknown storage 9"),
        (_raw_record("w", (10**6,)), "w: values needs 4000000 bytes"),
    ],
)
def test_absurd_sizes_in_a_record_are_refused_before_allocating(record, message):
    """Is a record declaring huge or impossible sizes refused from its header alone?"""
    with pytest.raises(CompressedFileError, match=message):
        model_from_bytes(_file(_body(record)))


def test_absurd_counts_of_non_zeros_and_indices_are_refused():
    """Are more non-zeros than entries, or more relative indices than weights, refused?"""

    def too_many_nonzeros(writer):
        _raw_record("w", (4,), storage=1)(writer)
        writer.pack("<I", 5)

    def too_many_indices(writer):
        _raw_record("w", (4,), storage=1)(writer)
        writer.pack("<IBBI", 1, 2, 8, 2**32 - 1)

    with pytest.raises(CompressedFileError, match="5 non-zeros among 4"):
        model_from_bytes(_file(_body(too_many_nonzeros)))
    with pytest.raises(CompressedFileError, match="4294967295 relative indices"):
        model_from_bytes(_file(_body(too_many_indices)))


def test_names_that_imply_a_deep_network_are_checked_on_shapes_only():
    """Do tiny tensors named after 300 blocks give a clear error, the model built on
    the meta device (no memory) rather than as a ResNet-602?"""
    records = [
        partial(write_float, name=f"body_op.{k}.x", tensor=torch.zeros(1)) for k in range(300)
    ]
    with pytest.raises(CompressedFileError, match="block 0 has no 4-D first convolution"):
        model_from_bytes(_file(_body(*records)))
    records += [  # with every block's first convolution: the other names are missing
        partial(
            write_float, name=f"body_op.{k}.conv1.0.conv.weight", tensor=torch.zeros(1, 1, 1, 1)
        )
        for k in range(300)
    ]
    with pytest.raises(CompressedFileError, match="do not fit a ResNet-602"):
        model_from_bytes(_file(_body(*records)))


def test_inner_widths_wider_than_their_stage_are_refused():
    """Is a file whose first block claims 17 inner channels (its stage has 16) refused
    before a model is built?"""
    records = [
        partial(
            write_float,
            name=f"body_op.{k}.conv1.0.conv.weight",
            tensor=torch.zeros(width, 1, 1, 1),
        )
        for k, width in enumerate((17, 32, 64))
    ]
    with pytest.raises(CompressedFileError, match="from 1 to its stage's width"):
        model_from_bytes(_file(_body(*records)))


def test_a_repeated_or_misplaced_tensor_is_refused(small_file):
    """Is a tensor stored twice refused, and a wrongly shaped one named?"""
    twice = _body(
        lambda w: write_float(w, "a", torch.zeros(2)), lambda w: write_float(w, "a", torch.zeros(2))
    )
    with pytest.raises(CompressedFileError, match="tensor a appears twice"):
        model_from_bytes(_file(twice))


def test_a_torch_checkpoint_is_not_a_compressed_file(tmp_path):
    """Is a .pt file refused as not a compressed model file, without unpickling it?"""
    path = tmp_path / "model.pt"
    torch.save({"state_dict": {}}, path)
    with pytest.raises(CompressedFileError, match=f"{path}: not an edu compressed model file"):
        load_compressed(path)
