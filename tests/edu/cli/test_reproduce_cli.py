"""``edu reproduce lab2`` and ``lab3`` end to end on a tiny fake CIFAR-10 (``--smoke``)."""

import json
import shutil

import pytest
import torch

from edu.cli.main import main
from edu.experiments import LAB2_ROWS, LAB3_ROWS
from edu.models import ResNetCIFAR, resnet_from_state_dict
from edu.prune import prunable_layers
from edu.quant import count_weight_levels
from edu.train import load_state_dict

SAVES_MODEL = {row.id for row in (*LAB2_ROWS, *LAB3_ROWS) if row.saves_model}
TRAINS = {"finetune-70", "iterative-70", "global-iterative-70"}
TRAINS |= {f"{kind}-{n}" for kind in ("qat", "sparse-qat") for n in (4, 3, 2)}


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """A private decoded-image cache, shared by the module's runs."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EDU_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        yield


def _options(data_root, weights, out):
    return [
        *("--smoke", "--checkpoint", str(weights), "--data-root", str(data_root)),
        *("--device", "cpu", "--no-progress", "--output-dir", str(out)),
    ]


@pytest.fixture(scope="module")
def smoke(data_root, weights, cache, tmp_path_factory):
    """`edu reproduce lab2 --smoke` (iterative-70 also with seed 1), then `lab3 --smoke`."""
    out = tmp_path_factory.mktemp("reproduce")
    seeded = ["--extra-seeds", "1", "--seeded-rows", "iterative-70"]
    assert main(["reproduce", "lab2", *seeded, *_options(data_root, weights, out)]) == 0
    assert main(["reproduce", "lab3", *_options(data_root, weights, out)]) == 0
    return out


def _state(path):
    return load_state_dict(path)


def _layer_weights(state):
    names = [name for name, _ in prunable_layers(ResNetCIFAR())]
    return {name: state[f"{name}.weight"] for name in names}


@pytest.mark.parametrize(("lab", "rows"), [("lab2", LAB2_ROWS), ("lab3", LAB3_ROWS)])
def test_every_row_writes_every_promised_file(smoke, lab, rows):
    """Does every row have row.json, model.pt where it prunes or trains, checkpoint.pt where
    it trains, and the lab results.md, results.json and command.txt?"""
    for row in rows:
        folder = smoke / lab / row.id
        assert (folder / "row.json").is_file()
        assert (folder / "model.pt").is_file() == (row.id in SAVES_MODEL)
        assert (folder / "checkpoint.pt").is_file() == (row.id in TRAINS)
        record = json.loads((folder / "row.json").read_text())
        assert record["checks_ok"] is True
        assert record["epochs"] == (1 if row.id in TRAINS else 0)
        assert (record["history"] is not None) == (row.id in TRAINS)
    for name in ("results.md", "results.json", "command.txt"):
        assert (smoke / lab / name).is_file()
    assert (smoke / lab / "command.txt").read_text().startswith("edu ")


@pytest.mark.parametrize(("lab", "rows"), [("lab2", LAB2_ROWS), ("lab3", LAB3_ROWS)])
def test_table_lists_every_row_beside_the_specs_reference(smoke, lab, rows):
    """Does the results table show each row with the spec's reference ('-' where none)?"""
    table = (smoke / lab / "results.md").read_text()
    lines = {line.split("|")[1].strip(): line for line in table.splitlines() if "|" in line}
    payload = json.loads((smoke / lab / "results.json").read_text())
    assert [row["row"] for row in payload["rows"]] == [row.id for row in rows]
    for row in rows:
        cells = [cell.strip() for cell in lines[row.id].split("|")[1:-1]]
        expected = "-" if row.reference is None else f"{row.reference:.4f}"
        assert cells[3].split(" ")[0] == expected
        assert cells[4] != "not run"
    assert payload["settings"]["epochs"] == 1 and payload["settings"]["limit_train"] == 256


def test_finetune_70_keeps_exactly_the_oneshot_zeros(smoke):
    """Are the finetuned 70 % model's zeros exactly those of the one-shot 70 % model?"""
    oneshot = _layer_weights(_state(smoke / "lab2" / "oneshot-70" / "model.pt"))
    tuned = _layer_weights(_state(smoke / "lab2" / "finetune-70" / "model.pt"))
    for name, weight in oneshot.items():
        assert torch.equal(weight == 0, tuned[name] == 0), name
        assert not torch.equal(weight, tuned[name]), f"{name} was not finetuned"


def test_global_row_prunes_with_one_threshold(smoke, weights):
    """Is every kept original |w| >= every pruned one, across all layers (one threshold),
    with uneven per-layer sparsity, while the per-layer row is 70 % in every layer?"""
    original = _layer_weights(_state(weights))
    pruned = _layer_weights(_state(smoke / "lab2" / "global-iterative-70" / "model.pt"))
    kept_min = min(original[n][pruned[n] != 0].abs().min() for n in original)
    pruned_max = max(original[n][pruned[n] == 0].abs().max() for n in original)
    assert kept_min >= pruned_max
    record = json.loads((smoke / "lab2" / "global-iterative-70" / "row.json").read_text())
    layers = [layer["sparsity"] for layer in record["sparsity"]["layers"]]
    assert record["sparsity"]["total_sparsity"] == pytest.approx(0.70, abs=0.001)
    assert max(layers) - min(layers) > 0.1
    per_layer = json.loads((smoke / "lab2" / "iterative-70" / "row.json").read_text())
    for layer in per_layer["sparsity"]["layers"]:
        assert layer["sparsity"] == pytest.approx(0.70, abs=0.002)


def _accuracy(smoke, lab, row):
    return json.loads((smoke / lab / row / "row.json").read_text())["accuracy"]


@pytest.mark.parametrize("nbits", [4, 3, 2])
def test_sparse_qat_keeps_zeros_and_level_budget(smoke, nbits):
    """Does sparse QAT start from the more accurate of Lab 2 (c) and (e), keep every
    pruned weight of it at 0, with <= 2^N + 1 levels per layer?"""
    candidates = ("finetune-70", "global-iterative-70")
    accuracies = [_accuracy(smoke, "lab2", row) for row in candidates]
    best = candidates[accuracies.index(max(accuracies))]
    record = json.loads((smoke / "lab3" / f"sparse-qat-{nbits}" / "row.json").read_text())
    expected = {"lab": "lab2", "row": best, "accuracy": max(accuracies), "seed": 0}
    assert record["details"]["start"] == expected
    start = _layer_weights(_state(smoke / "lab2" / best / "model.pt"))
    state = _state(smoke / "lab3" / f"sparse-qat-{nbits}" / "model.pt")
    for name, weight in _layer_weights(state).items():
        assert torch.all(weight[start[name] == 0] == 0), name
    levels = count_weight_levels(resnet_from_state_dict(state, Nbits=nbits))
    assert len(levels) == 20  # the 18 stage convs and the 2 downsampling shortcuts
    assert max(levels.values()) <= 2**nbits + 1
    details = json.loads((smoke / "lab3" / f"sparse-qat-{nbits}" / "row.json").read_text())[
        "details"
    ]
    assert details["pruned_zero_ok"] and details["levels_ok"] and details["pruned_weights"] > 0


def test_rerun_skips_finished_rows_and_force_reruns(smoke, data_root, weights, capsys):
    """Is a finished row skipped on a rerun (file untouched), and rerun with --force?"""
    record = smoke / "lab3" / "qat-2" / "row.json"
    before = record.stat().st_mtime_ns
    command = ["reproduce", "lab3", "--rows", "qat-2", *_options(data_root, weights, smoke)]
    assert main(command) == 0
    assert "qat-2: already done with these settings, skipped" in capsys.readouterr().out
    assert record.stat().st_mtime_ns == before
    assert main([*command, "--force"]) == 0
    assert "skipped" not in capsys.readouterr().out
    assert record.stat().st_mtime_ns != before


def test_rows_subset_runs_only_those(data_root, weights, cache, tmp_path):
    """Does --rows run only the named rows, the table marking the others 'not run'?"""
    command = ["reproduce", "lab2", "--rows", "oneshot-30", "float"]
    assert main([*command, *_options(data_root, weights, tmp_path)]) == 0
    assert sorted(p.name for p in (tmp_path / "lab2").iterdir() if p.is_dir()) == [
        "float",
        "oneshot-30",
    ]
    rows = json.loads((tmp_path / "lab2" / "results.json").read_text())["rows"]
    assert [row["status"] for row in rows] == ["ran", "ran"] + ["not run"] * 5


def test_unknown_row_is_a_clear_error(data_root, weights, tmp_path, capsys):
    """Is an unknown row exit status 2 with the valid row ids listed, before any work?"""
    command = ["reproduce", "lab3", "--rows", "ptq-4", "ptq-7"]
    assert main([*command, *_options(data_root, weights, tmp_path)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("edu reproduce: error: unknown lab3 rows: ptq-7; valid rows: ptq-6")
    assert not (tmp_path / "lab3").exists()


def test_extra_seed_runs_apart_and_the_table_shows_the_spread(smoke):
    """Does seed 1 of iterative-70 run into seeds/1/ with seed 1, and does the main table
    show the mean and sample standard deviation of both seeds for that row alone?"""
    extra = json.loads((smoke / "seeds" / "1" / "lab2" / "iterative-70" / "row.json").read_text())
    assert extra["settings"]["seed"] == 1 and extra["checks_ok"]
    assert sorted(p.name for p in (smoke / "seeds" / "1" / "lab2").iterdir()) == ["iterative-70"]
    rows = {
        row["row"]: row for row in json.loads((smoke / "lab2" / "results.json").read_text())["rows"]
    }
    accuracies = [rows["iterative-70"]["accuracy"], extra["accuracy"]]
    assert [seed["seed"] for seed in rows["iterative-70"]["seeds"]] == [0, 1]
    assert rows["iterative-70"]["accuracy_mean"] == pytest.approx(sum(accuracies) / 2)
    assert rows["iterative-70"]["accuracy_sd"] == pytest.approx(
        abs(accuracies[0] - accuracies[1]) / 2**0.5
    )
    assert "seeds" not in rows["global-iterative-70"]
    assert "(2 seeds)" in (smoke / "lab2" / "results.md").read_text()


def test_a_rerun_of_other_rows_keeps_the_seeds_spread(smoke, data_root, weights, tmp_path):
    """Does rerunning one other row (--rows oneshot-70) with the same seeds report the
    finished seed row's spread, and leave out a row its seed folder holds that the
    options do not ask that seed for?"""
    out = tmp_path / "copy"
    shutil.copytree(smoke, out)
    earlier = ["reproduce", "lab2", "--rows", "float", "--extra-seeds", "1", "--seeded-rows"]
    assert main([*earlier, "float", *_options(data_root, weights, out)]) == 0
    assert (out / "seeds" / "1" / "lab2" / "float" / "row.json").is_file()
    command = ["reproduce", "lab2", "--rows", "oneshot-70", "--extra-seeds", "1"]
    command += ["--seeded-rows", "iterative-70"]
    assert main([*command, *_options(data_root, weights, out)]) == 0
    rows = {
        row["row"]: row for row in json.loads((out / "lab2" / "results.json").read_text())["rows"]
    }
    assert [seed["seed"] for seed in rows["iterative-70"]["seeds"]] == [0, 1]
    assert rows["iterative-70"]["status"] == "done"
    assert "seeds" not in rows["float"]


def test_an_unknown_seed_row_is_a_clear_error(data_root, weights, tmp_path, capsys):
    """Is an unknown --first-seed-rows row exit status 2, named, before any work?"""
    command = ["reproduce", "lab2", "--extra-seeds", "1", "--first-seed-rows", "finetune-7"]
    assert main([*command, *_options(data_root, weights, tmp_path)]) == 2
    assert "unknown lab2 rows finetune-7" in capsys.readouterr().err
    assert not (tmp_path / "lab2").exists()


def test_extra_seed_equal_to_the_main_seed_is_refused(data_root, weights, tmp_path, capsys):
    """Is --extra-seeds repeating --seed an error that says so?"""
    command = ["reproduce", "lab2", "--rows", "float", "--extra-seeds", "0"]
    assert main([*command, *_options(data_root, weights, tmp_path)]) == 2
    assert "--extra-seeds 0 is the main --seed" in capsys.readouterr().err


def test_sparse_qat_without_lab2_names_the_command(data_root, weights, cache, tmp_path, capsys):
    """Does Lab 3 (d) without Lab 2's finetune-70 fail with the command that makes it?"""
    command = ["reproduce", "lab3", "--rows", "sparse-qat-4"]
    assert main([*command, *_options(data_root, weights, tmp_path)]) == 2
    error = capsys.readouterr().err
    assert "finetune-70/model.pt, which does not exist" in error
    assert "edu reproduce lab2 --rows finetune-70 --checkpoint" in error
    assert error.rstrip().endswith("--smoke")


@pytest.fixture(scope="module")
def whole_course(data_root, cache, tmp_path_factory):
    """`edu reproduce all --smoke`: the pretrained model, then both labs from it."""
    out = tmp_path_factory.mktemp("all")
    command = ["reproduce", "all", "--smoke", "--data-root", str(data_root)]
    command += ["--device", "cpu", "--no-progress", "--output-dir", str(out)]
    assert main(command) == 0
    return out, command


def test_all_trains_the_start_of_both_labs_and_records_each_stage(whole_course):
    """Does `all` train the pretrained model with `edu train`, start both labs from its
    exported weights (by SHA-256), run the pruning comparison with seeds 1 and 2 and the
    homework's other rows with seed 1, and sum the wall time of every stage?"""
    out, _ = whole_course
    pretrained = out / "pretrained"
    recorded = (pretrained / "command.txt").read_text()
    assert recorded.startswith("edu train --epochs 1 ") and " --cutout 16 " in recorded
    exported = load_state_dict(pretrained / "resnet20_cifar10.pt")
    final = load_state_dict(pretrained / "model.pt")
    assert all(torch.equal(exported[key], final[key].float()) for key in final)
    summary = json.loads((out / "all.json").read_text())
    for lab in ("lab2", "lab3", "lab4"):
        payload = json.loads((out / lab / "results.json").read_text())
        assert payload["settings"]["checkpoint_sha256"] == summary["pretrained_sha256"]
        assert "--checkpoint" in (out / lab / "command.txt").read_text()
    seeds = {  # on a CPU: the pruning comparison with every seed, the homework's with seed 1
        "lab2": {
            "finetune-70": [0, 1],
            "iterative-70": [0, 1, 2],
            "global-iterative-70": [0, 1, 2],
        },
        "lab3": {"qat-4": [0, 1], "sparse-qat-4": [0, 1]},
    }
    for lab, expected in seeds.items():
        rows = {
            row["row"]: row for row in json.loads((out / lab / "results.json").read_text())["rows"]
        }
        assert {
            row: [seed["seed"] for seed in rows[row]["seeds"]]
            for row in rows
            if "seeds" in rows[row]
        } == expected
    assert sorted(p.name for p in (out / "seeds").iterdir()) == ["1", "2"]
    assert sorted(p.name for p in (out / "seeds" / "2").iterdir()) == ["lab2"]
    assert not (out / "seeds" / "1" / "lab4").exists()
    times = summary["wall_seconds"]
    assert times["total"] == pytest.approx(
        sum(v for k, v in times.items() if k != "total"), abs=0.2
    )
    assert times["pretrained"] > 0 and times["lab2 extra seeds"] > 0


def test_all_rerun_resumes_without_training_again(whole_course, capsys):
    """Does repeating the command skip every finished epoch and row, leaving the weights?"""
    out, command = whole_course
    weights = out / "pretrained" / "resnet20_cifar10.pt"
    before = weights.stat().st_mtime_ns
    assert main(command) == 0
    printed = capsys.readouterr().out
    assert "resumed from" in printed and "epoch   1/1" not in printed
    assert "ran" not in {
        row["status"] for row in json.loads((out / "lab3" / "results.json").read_text())["rows"]
    }
    assert weights.stat().st_mtime_ns == before


@pytest.mark.parametrize(
    "option", [["--rows", "float"], ["--first-seed-rows", "qat-4"], ["--seeded-rows"]]
)
def test_all_refuses_options_of_a_single_lab(option, tmp_path, capsys):
    """Are --rows, --checkpoint and the seeds' rows refused by `all`, which makes its own
    start and chooses them?"""
    command = ["reproduce", "all", "--smoke", *option, "--output-dir", str(tmp_path)]
    assert main(command) == 2
    assert "apply to one lab alone" in capsys.readouterr().err
