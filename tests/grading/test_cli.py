"""``edu grade`` on the command line, and ``pytest grader/ --submission DIR``."""

import subprocess
import sys

import nbformat
import pytest

from edu.cli.main import build_parser, main


def test_does_grade_help_show_the_options_and_defaults(capsys):
    """Does ``edu grade --help`` list --course, --assignment, --jobs, --student, defaults?"""
    with pytest.raises(SystemExit):
        build_parser().parse_args(["grade", "--help"])
    text = capsys.readouterr().out
    for option in ("--course", "--assignment", "--jobs", "--student", "--cell-timeout"):
        assert option in text
    assert "(default: 1)" in text


def test_is_a_missing_course_a_one_line_error(tmp_path, capsys):
    """Does grading a folder that does not exist exit with status 2 and say so?"""
    assert main(["grade", "--course", str(tmp_path / "nowhere")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_is_an_ambiguous_assignment_asked_for(tmp_path, capsys):
    """With two assignments in source/, is --assignment asked for?"""
    for name in ("hw1", "hw2"):
        (tmp_path / "source" / name).mkdir(parents=True)
    assert main(["grade", "--course", str(tmp_path)]) == 2
    assert "--assignment" in capsys.readouterr().err


def test_is_an_unreachable_scheduler_a_one_line_error(tmp_path, capsys, monkeypatch):
    """Does --scheduler with no Dask scheduler listening exit with status 2, naming it?"""
    pytest.importorskip("distributed")
    import socket

    from edu.cli import _cluster

    monkeypatch.setattr(_cluster, "CONNECT_TIMEOUT_S", 2)
    with socket.socket() as probe:  # a free port: nothing listens on it
        probe.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{probe.getsockname()[1]}"
    (tmp_path / "source" / "hw1").mkdir(parents=True)
    assert main(["grade", "--course", str(tmp_path), "--scheduler", address]) == 2
    assert f"no Dask scheduler answered at {address}" in capsys.readouterr().err


def _pytest_grader(repo, *args):
    return subprocess.run(
        [sys.executable, "-m", "pytest", str(repo / "grader"), "-p", "no:cacheprovider", *args],
        capture_output=True,
        text=True,
        cwd=repo,
        timeout=600,
    )


def test_are_hidden_checks_skipped_without_a_submission(repo):
    """Does ``pytest grader/`` alone skip every check, saying why?"""
    completed = _pytest_grader(repo, "-q", "-rs", "-k", "answer")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "no --submission DIR given" in completed.stdout


def test_do_hidden_checks_run_on_one_submission(repo, tmp_path, solution_notebooks):
    """Does ``pytest grader/ --submission DIR`` run the checks, failing a wrong answer?"""
    folder = tmp_path / "alice" / "homework"
    folder.mkdir(parents=True)
    notebook = solution_notebooks["part0_true_false"]
    nbformat.write(notebook, folder / "part0_true_false.ipynb")
    completed = _pytest_grader(repo, "-q", "-k", "answer", "--submission", str(folder))
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "5 passed" in completed.stdout
    text = (
        (folder / "part0_true_false.ipynb")
        .read_text()
        .replace("answer_1_4 = False", "answer_1_4 = True")
    )
    (folder / "part0_true_false.ipynb").write_text(text)
    completed = _pytest_grader(repo, "-q", "-k", "answer", "--submission", str(folder))
    assert completed.returncode == 1
    assert "answer_1_4 = True is not the right answer" in completed.stdout
