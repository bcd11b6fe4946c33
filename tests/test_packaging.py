"""What a student installs: the package and its pretrained model, no instructor material."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel_files(tmp_path_factory):
    """The file names inside a wheel built from this checkout, as pip would install it."""
    out = tmp_path_factory.mktemp("wheel")
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    completed = subprocess.run(
        [*command, "--quiet", "--wheel-dir", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    (wheel,) = out.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return archive.namelist()


def test_the_pretrained_model_students_start_from_is_installed(wheel_files):
    """Does the wheel hold the pretrained ResNet-20 and its metadata?"""
    assert "edu/models/weights/resnet20_cifar10.pt" in wheel_files
    assert "edu/models/weights/resnet20_cifar10.json" in wheel_files


def test_no_instructor_material_is_installed(wheel_files):
    """Are the reference checkpoints, the hidden checks and the solutions kept out of the
    wheel (any checkpoint but the pretrained model, anything of grader/ or solutions/)?"""
    checkpoints = [name for name in wheel_files if name.endswith(".pt")]
    assert checkpoints == ["edu/models/weights/resnet20_cifar10.pt"]
    assert not [name for name in wheel_files if name.startswith(("grader/", "solutions/"))]
    assert not [name for name in wheel_files if "reference" in Path(name).parts]
