"""Is the compressed file as small as counted, and is its round trip exact?"""

import struct
import zlib
from pathlib import Path

import pytest
import torch

import edu
from edu.compress import (
    is_compressed_file,
    kmeans_quantize,
    load_compressed,
    model_from_bytes,
    save_compressed,
    stored_weights,
)
from edu.compress._container import HEADER, MAGIC, unpack_file
from edu.compress._records import read_record, write_float, write_quantized
from edu.compress._stream import Reader, Writer
from edu.models import ResNetCIFAR, resnet_from_state_dict
from edu.quant import count_weight_levels, quantize_weights, quantized_layers
from edu.train import load_state_dict

REFERENCE = Path(__file__).resolve().parents[3] / "grader" / "reference"
SHIPPED = [
    *sorted(REFERENCE.glob("*.pt")),
    Path(edu.__file__).parent / "models" / "weights" / "resnet20_cifar10.pt",
]
"""The reference checkpoints of the homework's rows, and the pretrained model."""


def _small_layer():
    """A 2x2x3x3 weight with 9 non-zeros among 36, every 4th entry."""
    weight = torch.zeros(36)
    weight[::4] = torch.linspace(-0.5, 0.7, 9)
    return weight.reshape(2, 2, 3, 3)


def test_bytes_of_a_small_quantized_layer_counted_by_hand():
    """Does a 36-weight layer with 9 non-zeros at 4 bits take the 48 bytes counted by hand?

    name length 2 + name 1 + dtype 1 + ndim 1 + shape 4 * 4 + storage 1 = 22;
    grid: kind, bits, symmetric 3 + scale and offset 8 = 11; non-zeros 4;
    positions: kind 1 + bitmask ceil(36 / 8) = 5 (relative indices need 1 + 5 + 3);
    codes ceil(9 * 4 / 8) = 5. Total 22 + 11 + 4 + 6 + 5 = 48.
    """
    weight = _small_layer()
    writer = Writer()
    size = write_quantized(writer, "w", weight, quantize_weights(weight, 4), 4, False)
    assert len(writer) == size.nbytes == 48
    assert (size.weights, size.nonzeros, size.storage, size.positions) == (
        36,
        9,
        "4-bit linear",
        "bitmask",
    )
    name, tensor, grid = read_record(Reader(bytes(writer), "test"), 36)
    assert name == "w" and grid.bits == 4
    assert torch.equal(tensor, quantize_weights(weight, 4))


def test_bytes_of_a_small_float_layer_counted_by_hand():
    """Raw: 22 + 36 * 4 = 166 bytes; sparse: 22 + 4 + (1 + 5) + 9 * 4 = 68 bytes, kept."""
    weight = _small_layer()
    writer = Writer()
    size = write_float(writer, "w", weight)
    assert (size.storage, size.nbytes, len(writer)) == ("sparse", 68, 68)
    dense = torch.randn(2, 2, 3, 3)
    assert write_float(Writer(), "w", dense).nbytes == 166


def test_float_zeros_keep_their_sign():
    """Does a float layer's -0.0 come back as -0.0 (stored as a value, not as a zero)?"""
    weight = torch.tensor([0.0, -0.0, 1.5, 0.0])
    writer = Writer()
    write_float(writer, "w", weight)
    _, tensor, _ = read_record(Reader(bytes(writer), "test"), 4)
    assert torch.equal(tensor.view(torch.int32), weight.view(torch.int32))


def _forward_weights(net):
    """Every weight as the forward pass uses it, -0.0 read as 0.0."""
    quantized = dict(quantized_layers(net))
    with torch.no_grad():
        return {
            key: (quantized[key[:-7]].quantized_weight() if key[:-7] in quantized else tensor) + 0.0
            for key, tensor in net.state_dict().items()
            if tensor.is_floating_point()
        }


SPARSE_QAT = REFERENCE / "lab3_sparse_qat_4bit.pt"
ROUND_TRIPS = [(path, 4, False) for path in SHIPPED] + [
    (SPARSE_QAT, None, False),
    (SPARSE_QAT, 4, True),
    (SPARSE_QAT, 2, False),
    (SHIPPED[-1], 3, True),
]


@pytest.mark.parametrize(
    ("checkpoint", "nbits", "symmetric"),
    ROUND_TRIPS,
    ids=[f"{path.stem}-{nbits}-{symmetric}" for path, nbits, symmetric in ROUND_TRIPS],
)
def test_round_trip_of_the_shipped_checkpoints_is_exact(checkpoint, nbits, symmetric, tmp_path):
    """Are the loaded weights the saved model's forward-pass weights bit for bit, and its
    outputs identical?"""
    net = resnet_from_state_dict(load_state_dict(checkpoint), Nbits=nbits, symmetric=symmetric)
    net.eval()
    report = save_compressed(net, tmp_path / "net.edz")
    loaded = load_compressed(tmp_path / "net.edz").eval()
    assert report.file_bytes == (tmp_path / "net.edz").stat().st_size
    assert report.body_bytes == 1 + len("ResNetCIFAR") + 4 + sum(
        layer.nbytes for layer in report.layers
    )
    assert (loaded.Nbits, loaded.symmetric) == (nbits, symmetric if nbits else False)
    saved, read = _forward_weights(net), _forward_weights(loaded)
    assert saved.keys() == read.keys()
    for key in saved:
        assert torch.equal(saved[key].view(torch.int32), read[key].view(torch.int32)), key
    assert count_weight_levels(loaded) == count_weight_levels(net)
    x = torch.randn(4, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.equal(net(x), loaded(x))


@pytest.mark.parametrize("checkpoint", [SPARSE_QAT, SHIPPED[-1]], ids=["sparse", "dense"])
def test_huffman_coded_files_round_trip_and_the_smaller_body_is_kept(checkpoint, tmp_path):
    """With Huffman-coded codes allowed, forced or refused, is the round trip exact, and
    does the default keep the smallest of the files?"""
    net = resnet_from_state_dict(load_state_dict(checkpoint), Nbits=3).eval()
    sizes = {}
    for huffman in (True, False, None):
        report = save_compressed(net, tmp_path / "net.edz", huffman=huffman)
        coded = {"Huffman" in layer.storage for layer in report.layers if "bit" in layer.storage}
        if huffman is not None:
            assert huffman in coded and (huffman or coded == {False})
        loaded = load_compressed(tmp_path / "net.edz")
        saved, read = _forward_weights(net), _forward_weights(loaded)
        for key in saved:
            assert torch.equal(saved[key].view(torch.int32), read[key].view(torch.int32)), key
        sizes[huffman] = report.file_bytes
    assert sizes[None] == min(sizes[True], sizes[False])


def test_a_version_1_file_is_still_read(tmp_path):
    """Does a file of format version 1 (fixed-width codes only) load as it did?"""
    net = resnet_from_state_dict(load_state_dict(SPARSE_QAT), Nbits=4).eval()
    save_compressed(net, tmp_path / "net.edz", huffman=False)
    body = unpack_file((tmp_path / "net.edz").read_bytes())
    fields = HEADER.pack(MAGIC, 1, 0, len(body), len(body), 0)[:-4]
    version_1 = fields + struct.pack("<I", zlib.crc32(body, zlib.crc32(fields))) + body
    loaded = model_from_bytes(version_1)
    saved, read = _forward_weights(net), _forward_weights(loaded)
    for key in saved:
        assert torch.equal(saved[key].view(torch.int32), read[key].view(torch.int32)), key


def test_every_shipped_checkpoint_is_found():
    """Are the four reference checkpoints and the pretrained model all there to test?"""
    assert len(SHIPPED) == 5 and all(path.is_file() for path in SHIPPED)


def test_sizes_of_the_sparse_quantized_checkpoint(tmp_path):
    """Is the 70 %-sparse 4-bit checkpoint at least 14x smaller than its float32 weights?"""
    net = resnet_from_state_dict(load_state_dict(SPARSE_QAT), Nbits=4)
    report = save_compressed(net, tmp_path / "net.edz")
    assert report.float32_bytes == sum(
        t.numel() * t.element_size() for t in net.state_dict().values()
    )
    assert report.entropy_coded and report.ratio > 14


def test_round_trip_of_k_means_weights_through_their_codebooks(tmp_path):
    """Are k-means-shared weights stored as 4-bit codebooks and read back bit for bit?"""

    def kmeans(weight, bits, symmetric):
        return kmeans_quantize(weight, bits)

    net = resnet_from_state_dict(load_state_dict(SPARSE_QAT), Nbits=4, quantizer=kmeans)
    report = save_compressed(net, tmp_path / "net.edz")
    assert {layer.storage.split(",")[0] for layer in report.layers if "bit" in layer.storage} == {
        "4-bit codebook"
    }
    loaded = load_compressed(tmp_path / "net.edz")
    saved, read = _forward_weights(net), _forward_weights(loaded)
    for key in saved:
        assert torch.equal(saved[key].view(torch.int32), read[key].view(torch.int32)), key


def test_entropy_coding_can_be_forced_or_refused(tmp_path):
    """Do files written with and without lzma both load, and lzma only when asked?"""
    net = ResNetCIFAR(num_layers=8, Nbits=3)
    for choice in (True, False):
        report = save_compressed(net, tmp_path / "net.edz", entropy_coding=choice)
        assert report.entropy_coded is choice
        assert report.file_bytes == 32 + report.body_bytes or choice
        loaded = load_compressed(tmp_path / "net.edz")
        assert loaded.num_layers == 8 and loaded.Nbits == 3


def test_loaded_layers_use_the_stored_weights():
    """Does the loaded model's quantizer leave the weights as stored?"""
    weight = torch.randn(3, 3)
    assert stored_weights(weight, 4, False) is weight


def test_only_a_cifar_resnet_is_compressed(tmp_path):
    """Is another model refused with a clear error?"""
    with pytest.raises(ValueError, match="only a ResNetCIFAR"):
        save_compressed(torch.nn.Linear(2, 2), tmp_path / "net.edz")


def test_is_compressed_file(tmp_path):
    """Is a compressed file recognized, and a checkpoint, a missing path or a folder not?"""
    save_compressed(ResNetCIFAR(num_layers=8), tmp_path / "net.edz")
    torch.save({}, tmp_path / "net.pt")
    assert is_compressed_file(tmp_path / "net.edz")
    assert not any(is_compressed_file(tmp_path / name) for name in ("net.pt", "missing", "."))
