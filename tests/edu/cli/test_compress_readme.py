"""README's table of compressed shipped checkpoints against ``edu compress`` run now."""

import shlex
from pathlib import Path

import pytest

from edu.cli.main import main

REPO = Path(__file__).resolve().parents[3]
HEADER = "| checkpoint | options | file (bytes) | bits per weight | smaller than float32 |"


def _rows():
    lines = (REPO / "README.md").read_text().splitlines()
    start = lines.index(HEADER) + 2
    rows = []
    for line in lines[start : lines.index("", start)]:
        checkpoint, options, nbytes, bits, ratio = (c.strip() for c in line.strip("|").split("|"))
        rows.append((checkpoint.strip("`"), options.strip("`"), nbytes, bits, ratio))
    return rows


def test_the_table_has_the_six_shipped_rows():
    """Does README still show the pretrained, Lab 2 and Lab 3 checkpoints, linear and k-means?"""
    rows = _rows()
    assert len(rows) == 6 and all((REPO / checkpoint).is_file() for checkpoint, *_ in rows)
    assert any("--kmeans" in options for _, options, *_ in rows)


@pytest.mark.parametrize("row", range(6))
def test_each_row_is_what_edu_compress_prints(row, tmp_path, capsys):
    """Are the bytes, bits per weight and ratio of each row those `edu compress` gives?"""
    checkpoint, options, nbytes, bits, ratio = _rows()[row]
    out = tmp_path / "net.edz"
    assert main(["compress", str(REPO / checkpoint), "--out", str(out), *shlex.split(options)]) == 0
    printed = capsys.readouterr().out
    size = out.stat().st_size
    assert nbytes == f"{size:,}"
    assert f"file {size} bytes" in printed and f", {bits} bits per weight)" in printed
    assert f"the file is {ratio.rstrip('x')}x smaller" in printed
