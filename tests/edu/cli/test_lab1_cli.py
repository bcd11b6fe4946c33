"""End-to-end tests of ``edu lab1``: files promised, summary numbers, help texts."""

import contextlib
import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from edu import __version__
from edu.cli.main import main
from edu.sparse import run

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# The runs of Lab 1 (b)-(f) as the course spec lists them: (part, method, lambda).
HOMEWORK_RUNS = [
    ("b", "gd", None),
    ("c", "projected", None),
    *[("d", "l1", lam) for lam in (0.2, 0.5, 1.0, 2.0)],
    *[("e", "prox", lam) for lam in (0.2, 0.5, 1.0, 2.0)],
    *[("f", "trimmed", lam) for lam in (1.0, 2.0, 5.0, 10.0)],
]


@pytest.fixture(scope="module")
def lab1_in_process(tmp_path_factory):
    """Run ``edu lab1 --out DIR`` in this process; return (out, exit status, stdout)."""
    out = tmp_path_factory.mktemp("lab1")
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        status = main(["lab1", "--out", str(out)])
    return out, status, stdout.getvalue()


def _check_outputs(out, steps, lr):
    """Check the files and the numbers of one ``edu lab1`` run; return its summary."""
    summary = json.loads((out / "summary.json").read_text())
    assert summary["version"] == __version__
    assert summary["steps"] == steps and summary["lr"] == lr
    assert summary["command"] == (out / "command.txt").read_text().strip()
    assert f"--steps {steps}" in summary["command"] and f"--lr {lr}" in summary["command"]

    records = summary["runs"]
    homework = [(r["part"], r["method"], r["lam"]) for r in records if not r["beyond_homework"]]
    assert homework == HOMEWORK_RUNS
    extras = {r["method"] for r in records if r["beyond_homework"]}
    assert extras == {"fista", "group"}

    pngs = sorted(path.name for path in out.glob("*.png"))
    assert pngs == sorted(summary["figures"])
    assert len(pngs) == 2 * len(records) + 7 + 3 * 2  # pairs, a family per part, 3 comparisons
    for name in pngs:
        assert (out / name).read_bytes()[:8] == PNG_SIGNATURE
    for part in ("b", "c", "d", "e", "f"):
        assert (out / f"{part}_family.png").is_file()
    for comparison in ("e_vs_d", "f_vs_e", "f_vs_c_first20"):
        assert (out / f"{comparison}_loss.png").is_file()
        assert (out / f"{comparison}_weights.png").is_file()
    for record in records:
        assert len(record["figures"]) == 2
        assert all((out / name).is_file() for name in record["figures"])

    for record in records:
        direct = run(record["method"], lam=record["lam"], steps=steps, lr=lr)
        assert record["final_loss"] == pytest.approx(direct.final_loss, rel=1e-12, abs=1e-300)
        np.testing.assert_allclose(record["final_weights"], direct.final_weights, rtol=1e-12)
        assert record["nonzeros"] == direct.nonzeros
        expected_threshold = None if direct.threshold is None else lr * record["lam"]
        assert record["threshold"] == pytest.approx(expected_threshold)
    return summary


@pytest.mark.slow
def test_lab1_in_process_writes_everything_it_promises(lab1_in_process):
    """Does ``edu lab1 --out DIR`` write every figure, summary.json and command.txt?"""
    out, status, _ = lab1_in_process
    assert status == 0
    _check_outputs(out, steps=200, lr=0.02)


@pytest.mark.slow
def test_lab1_prints_an_aligned_table_and_the_output_folder(lab1_in_process):
    """Does the printed table have one aligned row per run and name the output folder?"""
    out, _, stdout = lab1_in_process
    lines = stdout.splitlines()
    header, rule = lines[0], lines[1]
    assert header.split() == [
        "part",
        "method",
        "lam",
        "threshold",
        "final",
        "L",
        "nnz",
        "final",
        "W",
    ]
    assert set(rule.replace(" ", "")) == {"-"}
    rows = lines[2 : 2 + 22]
    assert [row.split()[0] for row in rows[:2]] == ["b", "c"]
    column = header.index("nnz")
    assert all(row[column - 2 : column] == "  " for row in rows)  # aligned columns
    assert str(out) in stdout


@pytest.mark.slow
def test_lab1_through_a_subprocess(tmp_path):
    """Does ``python -m edu lab1`` work as a real process, options included?"""
    env = {**os.environ, "MPLBACKEND": "Agg"}
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "edu",
            "lab1",
            "--out",
            str(tmp_path),
            "--steps",
            "20",
            "--lr",
            "0.01",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert str(tmp_path) in completed.stdout
    _check_outputs(tmp_path, steps=20, lr=0.01)


def test_edu_help_lists_lab1(capsys):
    """Does ``edu --help`` exit 0 and list the lab1 subcommand?"""
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    assert "lab1" in capsys.readouterr().out


def test_lab1_help_shows_the_defaults(capsys):
    """Does ``edu lab1 --help`` show --out, --steps and --lr with their defaults?"""
    with pytest.raises(SystemExit) as exit_info:
        main(["lab1", "--help"])
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "--out" in text
    assert "(default: 200)" in text and "(default: 0.02)" in text


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["lab1"], "the following arguments are required: --out"),
        (["lab1", "--out", "x", "--steps", "0"], "must be a positive integer"),
        (["lab1", "--out", "x", "--lr", "-1"], "must be positive"),
    ],
)
def test_lab1_rejects_bad_options(argv, message, capsys):
    """Do a missing --out and non-positive --steps or --lr give a usage error (status 2)?"""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
