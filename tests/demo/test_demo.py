"""``edu demo``: the sample class, its course folder, and the grades it gets end to end."""

import csv
from pathlib import Path

import nbformat
import pytest

from edu.cli.main import main
from edu.data import find_data_root
from edu.demo import (
    LAB4_SAMPLE_SUBMISSIONS,
    SAMPLE_SUBMISSIONS,
    prepare_demo_folder,
    run_demo,
    solved,
)
from edu.experiments import DEMO_FOLDER, REFERENCE_FOLDER, REFERENCE_ROWS, reference_checkpoints
from edu.grading import find_cifar10

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO / REFERENCE_FOLDER
HONEST = REPO / DEMO_FOLDER


def _grade_id(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def test_does_solved_fill_every_solution_cell_without_markers():
    """Does a solved release hold the instructor's code in every solution cell, and the
    release's own test cells (not the hidden tests of the source)?"""
    for source in sorted((REPO / "solutions").glob("*/*.ipynb")):
        solution = nbformat.read(source, as_version=4)
        assignment = source.parent.name
        release = nbformat.read(REPO / "assignments" / assignment / source.name, as_version=4)
        filled = solved(release, solution)
        answers = {_grade_id(c): c.source for c in solution.cells}
        for cell, original in zip(filled.cells, release.cells, strict=True):
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("solution"):
                assert "### BEGIN SOLUTION" not in cell.source
                assert "raise NotImplementedError" not in cell.source
                expected = answers[_grade_id(cell)].splitlines()
                assert cell.source.splitlines() == [x for x in expected if "SOLUTION" not in x]
            else:
                assert cell.source == original.source
        assert "BEGIN HIDDEN TESTS" not in nbformat.writes(filled)


def test_is_a_foreign_folder_left_alone(tmp_path):
    """Does the demo refuse a non-empty folder it did not make, touching nothing?"""
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not made by `edu demo`"):
        prepare_demo_folder(tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_is_an_earlier_demo_replaced(tmp_path):
    """Is a folder of an earlier demo emptied for the new one?"""
    course = prepare_demo_folder(tmp_path / "demo")
    (course / "grades.csv").write_text("old")
    assert not (prepare_demo_folder(course) / "grades.csv").exists()


def test_does_the_command_refuse_a_foreign_folder(tmp_path, capsys):
    """Does ``edu demo --out`` on someone's folder exit 2 with the reason?"""
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["demo", "--out", str(tmp_path), "--data-root", str(tmp_path)]) == 2
    assert "not made by `edu demo`" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_does_nbgrader_find_the_demo_course_by_its_config(tmp_path):
    """Does the demo's course folder carry an nbgrader_config.py (course id, gradebook,
    exchange, export file) that nbgrader's own commands read, also from a moved copy?"""
    import shutil
    import subprocess
    import sys

    from edu.demo import COURSE_ID, build_course
    from edu.grading import Course

    build_course(tmp_path / "built", {}, {})
    folder = tmp_path / "moved"
    shutil.move(tmp_path / "built", folder)
    course = Course(folder)
    assert course.config.CourseDirectory.course_id == COURSE_ID
    assert course.db_path == folder / "gradebook.db"
    assert (folder / "exchange").is_dir()
    nbgrader = str(Path(sys.executable).with_name("nbgrader"))
    completed = subprocess.run(
        [nbgrader, "db", "assignment", "list"], cwd=folder, capture_output=True, text=True
    )
    assert completed.returncode == 0, completed.stderr
    assert "homework" in completed.stdout
    assert "No nbgrader_config.py" not in completed.stderr


@pytest.mark.parametrize("folder", [REFERENCE, HONEST], ids=["reference", "demo"])
def test_are_the_reference_checkpoints_committed_for_every_row(folder):
    """Does every homework checkpoint have its reference file beside the hidden checks,
    named after its row, and its independent run for the demo?"""
    paths = reference_checkpoints(folder)  # committed: missing is a failure, not a skip
    assert sorted(paths) == sorted(REFERENCE_ROWS)
    assert sum(path.stat().st_size for path in paths.values()) <= 15 << 20


def test_is_the_demo_run_independent_of_the_reference():
    """Does each checkpoint of the demo's run copy no reference checkpoint (current or
    retired, of any name) by the grader's own measure, so that the full solution is not
    refused as a copy?"""
    from edu.grading._copies import load_references, pretrained_signature
    from edu.grading._output_similarity import OutputMove
    from edu.models import resnet_from_state_dict
    from edu.notebook import SUBMISSION_CHECKPOINTS
    from edu.train import load_state_dict

    references = load_references(REFERENCE)
    for name, path in reference_checkpoints(HONEST).items():
        spec = SUBMISSION_CHECKPOINTS[name]
        net = resnet_from_state_dict(
            load_state_dict(path), Nbits=spec.nbits, symmetric=spec.symmetric
        )
        move = OutputMove.between(net, pretrained_signature(spec.nbits, spec.symmetric))
        assert references.copied(move, spec.nbits, spec.symmetric) is None, name


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo, graded once on the real CIFAR-10 with the committed checkpoints."""
    checkpoints = reference_checkpoints(HONEST)
    root = find_cifar10()
    if root is None:
        pytest.skip(f"CIFAR-10 not found ({find_data_root()}): set EDU_DATA_ROOT")
    folder = tmp_path_factory.mktemp("demo") / "course"
    return run_demo(folder, checkpoints=checkpoints, data_root=root, progress=False, stream=None)


@pytest.mark.slow
def test_does_the_full_solution_get_every_point_and_the_stub_none(demo):
    """Are the demo's two promises kept, with nothing left to report?"""
    assert demo.failures == ()
    score, available = demo.scores["full_solution"]
    assert score == available > 0
    assert demo.scores["untouched_stub"][0] == 0


@pytest.mark.slow
def test_do_the_others_score_in_between(demo):
    """Do the partly wrong and hostile submissions lose points, not everything?"""
    for student in ("partly_wrong", "hostile"):
        score, available = demo.scores[student]
        assert 0 < score < available, student


@pytest.mark.slow
def test_are_the_partly_wrong_mistakes_the_ones_graded_down(demo):
    """Does partly_wrong lose exactly where its mistakes are, and nowhere else?"""
    with (demo.course / "grades.csv").open() as file:
        rows = {
            row["student"]: row for row in csv.DictReader(file) if row["assignment"] == "homework"
        }
    full, wrong = rows["full_solution"], rows["partly_wrong"]
    lost = {key for key in full if key.startswith("test_") and wrong[key] != full[key]}
    assert lost == {
        "test_tf_1_2",
        "test_tf_1_5",
        "test_soft_threshold",
        "test_global_prune_by_percentage",
        "test_lab2_finetune_70",
        "test_lab2_global_iterative_70",
        "test_lab3_qat_4bit",
        "test_lab3_sparse_qat_4bit",
    }
    page = demo.feedback["partly_wrong"].read_text()
    assert "is a copy of the course&#x27;s reference checkpoint lab2_finetune_70.pt" in page


@pytest.mark.slow
def test_does_the_hostile_submission_gain_nothing_and_harm_no_one(demo):
    """Is the hostile submission's reference use, crash and pickle refused, and is the
    full solution's checkpoint intact and no command run?"""
    page = demo.feedback["hostile"].read_text()
    assert "imports gradient from edu.sparse" in page
    assert "exited with status 3" in page
    assert "was refused" in page
    submitted = demo.course / "submitted" / "full_solution" / "homework"
    assert submitted.joinpath("lab2_finetune_70.pt").read_bytes() == (
        reference_checkpoints(HONEST)["lab2_finetune_70"].read_bytes()
    )
    assert not list(demo.course.rglob("pwned"))
    assert set(demo.feedback) == set(SAMPLE_SUBMISSIONS)


@pytest.mark.slow
def test_is_the_bonus_lab4_graded_in_the_same_course(demo):
    """Is Lab 4 graded as an assignment of its own in the same course: full marks for the
    full solution, none for the stub, the mistakes and the hand-over graded down, and
    grades.csv and the similarity page holding both assignments?"""
    lab4 = demo.assignments["lab4"]
    assert lab4.scores == {
        "full_solution": (16, 16),
        "hostile": (4, 16),
        "partly_wrong": (6, 16),
        "untouched_stub": (0, 16),
    }
    assert set(lab4.feedback) == set(LAB4_SAMPLE_SUBMISSIONS)
    page = lab4.feedback["hostile"].read_text()
    assert "imports remove_channels from edu.prune" in page
    assert "edu.compress.kmeans_quantize" in page
    with (demo.course / "grades.csv").open() as file:
        maxima = [row for row in csv.DictReader(file) if row["student"] == "(max)"]
    assert [row["assignment"] for row in maxima] == ["homework", "lab4"]
    assert maxima[1]["autograded"] == "16" and maxima[1]["total"] == "20"
    assert "Similar solutions: homework, lab4" in (demo.course / "similarity.html").read_text()
