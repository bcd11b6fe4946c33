"""``edu compress`` and ``edu evaluate FILE`` end to end on a tiny fake CIFAR-10."""

import json

import pytest

from edu.cli.main import main


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("EDU_CACHE_DIR", str(tmp_path / "cache"))


def _data(root):
    return ["--data-root", str(root), "--device", "cpu"]


def test_compress_prints_the_layer_table_and_the_ratio(weights, tmp_path, capsys):
    """Does `edu compress --nbits 4` write the file and print bytes per layer and the ratio?"""
    out = tmp_path / "net.edz"
    assert main(["compress", str(weights), "--out", str(out), "--nbits", "4"]) == 0
    printed = capsys.readouterr().out
    assert "| body_op.0.conv1.0.conv " in printed and "4-bit linear" in printed
    assert f"file {out.stat().st_size} bytes" in printed
    assert "x smaller" in printed


def test_kmeans_needs_bits_and_writes_codebooks(weights, tmp_path, capsys):
    """Does --kmeans store 2-bit codebooks, and refuse to run without --nbits?"""
    out = tmp_path / "net.edz"
    assert main(["compress", str(weights), "--out", str(out), "--kmeans"]) == 2
    assert "--kmeans needs --nbits" in capsys.readouterr().err
    assert main(["compress", str(weights), "--out", str(out), "--nbits", "2", "--kmeans"]) == 0
    assert "2-bit codebook" in capsys.readouterr().out


def test_evaluate_reads_the_compressed_file_as_saved(data_root, weights, tmp_path, capsys):
    """Does `edu evaluate FILE` give the loss and accuracy of the quantized checkpoint?"""
    out = tmp_path / "net.edz"
    main(["compress", str(weights), "--out", str(out), "--nbits", "3", "--symmetric"])
    capsys.readouterr()
    assert main(["evaluate", str(out), "--json", *_data(data_root)]) == 0
    compressed = json.loads(capsys.readouterr().out)
    command = ["evaluate", str(weights), "--nbits", "3", "--symmetric", "--json"]
    assert main([*command, *_data(data_root)]) == 0
    checkpoint = json.loads(capsys.readouterr().out)
    assert (compressed["nbits"], compressed["symmetric"]) == (3, True)
    for key in ("test_loss", "test_accuracy", "weight_levels", "sparsity"):
        assert compressed[key] == checkpoint[key], key


def test_evaluate_refuses_bits_for_a_compressed_file(data_root, weights, tmp_path, capsys):
    """Is --nbits with a compressed file an error, since the file holds its grids?"""
    out = tmp_path / "net.edz"
    main(["compress", str(weights), "--out", str(out)])
    assert main(["evaluate", str(out), "--nbits", "4", *_data(data_root)]) == 2
    assert "do not apply to a compressed file" in capsys.readouterr().err


def test_a_corrupted_file_is_one_line_of_error(data_root, weights, tmp_path, capsys):
    """Does a corrupted compressed file give exit status 2 and a message naming it?"""
    out = tmp_path / "net.edz"
    main(["compress", str(weights), "--out", str(out), "--nbits", "4"])
    data = bytearray(out.read_bytes())
    data[100] ^= 0xFF
    out.write_bytes(bytes(data))
    assert main(["evaluate", str(out), *_data(data_root)]) == 2
    assert f"{out}: checksum mismatch" in capsys.readouterr().err
