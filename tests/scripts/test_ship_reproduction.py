"""scripts/ship_reproduction.py on a made-up finished run: both sets shipped with their
seeds, the replaced reference set retired, and a refusal that writes nothing."""

import json
import shutil
from pathlib import Path

import pytest

from edu.experiments import LABS, MODEL_FILE, REFERENCE_ROWS, ROW_FILE, seed_dir
from edu.models import pretrained_resnet20
from edu.train import save_checkpoint

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def ship(tmp_path, monkeypatch, repo_script):
    """The script as a module, writing into a copy of the repository's grader files."""
    module = repo_script("scripts/ship_reproduction.py")
    repo = tmp_path / "repo"
    (repo / "grader").mkdir(parents=True)
    for name in ("thresholds.toml", "README.md"):
        shutil.copyfile(REPO / "grader" / name, repo / "grader" / name)
    monkeypatch.setattr(module, "REPO", repo)
    monkeypatch.setattr(module, "RESULTS_DIR", repo / "docs" / "results")
    monkeypatch.setattr(module, "CHECKPOINTS_DIR", repo / "grader" / "reference")
    monkeypatch.setattr(module, "THRESHOLDS", repo / "grader" / "thresholds.toml")
    monkeypatch.setattr(module, "GRADER_README", repo / "grader" / "README.md")
    return module, repo


def _finished_run(
    root: Path, accuracy: float = 0.9, images: int = 10_000, shift: float = 0.0
) -> Path:
    """A run folder as `edu reproduce all` leaves it, seed 1 included, for every row the
    script reads; each row's weights differ (the pretrained model, biased by its index
    and ``shift``)."""
    state = pretrained_resnet20().state_dict()
    for lab in LABS:
        (root / lab).mkdir(parents=True, exist_ok=True)
        for name in ("results.md", "results.json", "command.txt"):
            (root / lab / name).write_text(f"{lab} {name}\n")
    for index, (lab, row) in enumerate(REFERENCE_ROWS.values()):
        for seed in (0, 1):
            row_dir = (seed_dir(root, seed) if seed else root) / lab / row
            row_dir.mkdir(parents=True, exist_ok=True)
            moved = {
                k: v + 0.01 * (index + seed) + shift if k.endswith("conv.weight") else v
                for k, v in state.items()
            }
            save_checkpoint(row_dir / MODEL_FILE, {"state_dict": moved})
            record = {
                "part": "2(x)",
                "description": row,
                "epochs": 20,
                "best_epoch": 20,
                "accuracy": round(accuracy - 0.01 * seed, 4),
                "num_images": images,
            }
            (row_dir / ROW_FILE).write_text(json.dumps(record))
    return root


def _run(module, monkeypatch, output_dir: Path, *options: str) -> None:
    monkeypatch.setattr("sys.argv", ["ship_reproduction.py", str(output_dir), *options])
    module.main()


def test_are_both_sets_shipped_and_the_old_one_retired(ship, monkeypatch, tmp_path):
    module, repo = ship
    _run(module, monkeypatch, _finished_run(tmp_path / "first"))
    _run(module, monkeypatch, _finished_run(tmp_path / "again"))  # the same files: kept
    assert not (repo / "grader" / "reference" / "retired").exists()
    reference = json.loads((repo / "grader" / "reference" / "checkpoints.json").read_text())
    demo = json.loads((repo / "grader" / "demo" / "checkpoints.json").read_text())
    assert {r["seed"] for r in reference["checkpoints"].values()} == {0}
    assert {r["seed"] for r in demo["checkpoints"].values()} == {1}
    assert {r["command"] for r in demo["checkpoints"].values()} <= {
        "lab2 command.txt",
        "lab3 command.txt",
    }
    thresholds = (repo / "grader" / "thresholds.toml").read_text()
    assert all(
        f"{name} = 0.9\n" in thresholds or f"{name} = 0.9 " in thresholds for name in REFERENCE_ROWS
    )
    assert (repo / "docs" / "results" / "lab2" / "results.md").read_text() == "lab2 results.md\n"

    _run(module, monkeypatch, _finished_run(tmp_path / "second", accuracy=0.8, shift=0.001))
    retired = list((repo / "grader" / "reference" / "retired").iterdir())
    assert len(retired) == 1
    assert sorted(p.name for p in retired[0].iterdir()) == sorted(
        ["checkpoints.json", *(f"{name}.pt" for name in REFERENCE_ROWS)]
    )
    assert "= 0.8" in (repo / "grader" / "thresholds.toml").read_text()


@pytest.mark.parametrize("broken", ["seed 1 row missing", "evaluated on 2,000 images"])
def test_does_a_refusal_write_nothing(ship, monkeypatch, tmp_path, broken):
    module, repo = ship
    before = {p: p.read_bytes() for p in repo.rglob("*") if p.is_file()}
    output_dir = _finished_run(tmp_path / "run", images=2000 if "2,000" in broken else 10_000)
    if "missing" in broken:
        lab, row = REFERENCE_ROWS["lab3_qat_4bit"]
        (seed_dir(output_dir, 1) / lab / row / MODEL_FILE).unlink()
    with pytest.raises(SystemExit):
        _run(module, monkeypatch, output_dir)
    assert {p: p.read_bytes() for p in repo.rglob("*") if p.is_file()} == before


def test_do_labs_ship_without_lab4(ship, monkeypatch, tmp_path):
    module, repo = ship
    output_dir = _finished_run(tmp_path / "run")
    shutil.rmtree(output_dir / "lab4")
    with pytest.raises(SystemExit, match=r"lab4/results\.md is missing"):
        _run(module, monkeypatch, output_dir)
    with pytest.raises(SystemExit, match="need lab3"):
        _run(module, monkeypatch, output_dir, "--labs", "lab2")
    _run(module, monkeypatch, output_dir, "--labs", "lab2", "lab3")
    assert sorted(p.name for p in (repo / "docs" / "results").iterdir()) == ["lab2", "lab3"]
    assert (repo / "grader" / "reference" / "checkpoints.json").is_file()
