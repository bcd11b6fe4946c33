"""``edu train``, ``evaluate``, ``prune`` and ``quantize`` end to end on a tiny fake CIFAR-10."""

import json

import pytest
import torch

from edu.cli.main import main
from edu.train import load_checkpoint


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("EDU_CACHE_DIR", str(tmp_path / "cache"))


def _data(root):
    return ["--data-root", str(root), "--device", "cpu"]


def test_train_writes_weights_metadata_and_resumes(data_root, tmp_path, capsys, monkeypatch):
    """Does an interrupted `edu train` resume to the end and write all its outputs?"""
    import edu.train._fit as fit_module

    out = tmp_path / "run"
    command = ["train", "--epochs", "2", *_data(data_root), "--batch-size", "16"]
    command += ["--output-dir", str(out), "--no-progress", "--resume"]
    save = fit_module.save_checkpoint

    def save_then_stop(*args, **kwargs):
        save(*args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(fit_module, "save_checkpoint", save_then_stop)
    with pytest.raises(KeyboardInterrupt):
        main(command)
    monkeypatch.setattr(fit_module, "save_checkpoint", save)
    assert load_checkpoint(out / "checkpoint.pt")["epoch"] == 1
    assert not (out / "model.pt").exists()
    assert main(command) == 0
    assert "resumed" in capsys.readouterr().out
    metrics = json.loads((out / "metrics.json").read_text())
    assert [row["epoch"] for row in metrics["history"]] == [1, 2]
    assert metrics["meta"]["test_accuracy"] == metrics["history"][-1]["test_accuracy"]
    assert (out / "command.txt").read_text().strip() == "edu " + " ".join(command)
    assert set(load_checkpoint(out / "model.pt")) >= {"state_dict", "meta"}


def test_train_with_averaging_saves_the_average(data_root, weights, tmp_path, capsys):
    """Does `--average-from 2` save the average of epochs 2 and 3 of a finetuning run,
    with its own test accuracy beside the last epoch's in the metadata?"""
    out = tmp_path / "run"
    command = ["train", "--init", str(weights), "--epochs", "3", "--average-from", "2"]
    command += ["--schedule", "constant", "--lr", "0.01", "--batch-size", "16"]
    command += [*_data(data_root), "--output-dir", str(out), "--no-progress"]
    assert main(command) == 0
    assert "saved the average of the last 2 epochs" in capsys.readouterr().out
    saved = load_checkpoint(out / "model.pt")
    meta = saved["meta"]
    assert meta["averaged_epochs"] == 2
    history = json.loads((out / "metrics.json").read_text())["history"]
    assert meta["last_epoch_test_accuracy"] == history[-1]["test_accuracy"]
    last = load_checkpoint(out / "checkpoint.pt")["model"]
    key = "final_fc.linear.weight"
    assert not torch.equal(saved["state_dict"][key], last[key])


def test_resume_with_other_arguments_is_refused(data_root, tmp_path, capsys):
    """Is resuming a checkpoint with a different --epochs an error naming the change?"""
    out = tmp_path / "run"
    common = [*_data(data_root), "--batch-size", "16", "--output-dir", str(out), "--no-progress"]
    assert main(["train", "--epochs", "1", *common]) == 0
    assert main(["train", "--epochs", "3", "--resume", *common]) == 2
    assert "--epochs 1 -> 3" in capsys.readouterr().err


def test_train_with_cutout_records_it_and_trains_otherwise(data_root, tmp_path, capsys):
    """Does `--cutout 8` change the training of the same seed, stay in the run's record,
    and refuse a resume without it (also one whose checkpoint predates the option)?"""
    common = ["train", "--epochs", "1", *_data(data_root), "--batch-size", "16", "--no-progress"]
    runs = {size: tmp_path / f"cutout-{size}" for size in (0, 8)}
    for size, out in runs.items():
        assert main([*common, "--cutout", str(size), "--output-dir", str(out)]) == 0
    weights = {size: load_checkpoint(out / "model.pt") for size, out in runs.items()}
    assert weights[8]["meta"]["args"]["cutout"] == 8
    key = "final_fc.linear.weight"
    assert not torch.equal(weights[0]["state_dict"][key], weights[8]["state_dict"][key])
    again = [*common, "--cutout", "0", "--output-dir", str(runs[8]), "--resume"]
    assert main(again) == 2
    assert "--cutout 8 -> 0" in capsys.readouterr().err
    # a checkpoint from before --cutout existed was a run without it
    checkpoint = runs[0] / "checkpoint.pt"
    saved = load_checkpoint(checkpoint)
    del saved["args"]["cutout"]
    torch.save(saved, checkpoint)
    assert main([*common, "--cutout", "16", "--output-dir", str(runs[0]), "--resume"]) == 2
    assert "--cutout 0 -> 16" in capsys.readouterr().err


def test_a_negative_cutout_is_refused_before_anything_is_written(data_root, tmp_path, capsys):
    """Is `--cutout -1` a usage error that leaves the output folder unwritten?"""
    out = tmp_path / "run"
    with pytest.raises(SystemExit):
        main(["train", "--cutout", "-1", *_data(data_root), "--output-dir", str(out)])
    assert "must be 0 or a positive integer" in capsys.readouterr().err
    assert not out.exists()


def test_keep_mask_keeps_the_zeros_of_the_init_weights(data_root, weights, tmp_path):
    """With --keep-mask, do pruned weights stay 0 through training (and revive without)?"""
    pruned = tmp_path / "prune"
    assert (
        main(["prune", str(weights), "--q", "70", "--output-dir", str(pruned), *_data(data_root)])
        == 0
    )
    init = pruned / "pruned-layer-q70.pt"
    zeros = {k: v == 0 for k, v in load_checkpoint(init)["state_dict"].items() if v.dim() > 1}
    zeros_kept = {}
    for flag in ("--keep-mask", None):
        out = tmp_path / str(flag)
        command = [
            "train",
            "--init",
            str(init),
            "--epochs",
            "1",
            "--batch-size",
            "8",
            "--lr",
            "0.05",
        ]
        command += ["--output-dir", str(out), "--no-progress", *_data(data_root)]
        assert main([*command, *([flag] if flag else [])]) == 0
        trained = load_checkpoint(out / "model.pt")["state_dict"]
        kept = [bool(torch.all(trained[k][mask] == 0)) for k, mask in zeros.items() if mask.any()]
        zeros_kept[flag] = all(kept)
    assert zeros_kept == {"--keep-mask": True, None: False}


def test_keep_mask_without_init_is_refused(data_root, tmp_path, capsys):
    """Is --keep-mask without --init weights an error that says why?"""
    command = ["train", "--keep-mask", "--epochs", "1", "--output-dir", str(tmp_path)]
    assert main([*command, *_data(data_root)]) == 2
    assert "give --init" in capsys.readouterr().err


def test_evaluate_reports_accuracy_sparsity_and_levels(data_root, weights, capsys):
    """Does `edu evaluate --json` give loss, accuracy, 20 layers and the level counts?"""
    assert main(["evaluate", str(weights), "--nbits", "3", "--json", *_data(data_root)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["num_images"] == 20
    assert len(summary["sparsity"]["layers"]) == 20
    assert len(summary["weight_levels"]) == 20
    assert max(summary["weight_levels"].values()) <= 2**3


def test_prune_writes_one_checkpoint_per_sparsity(data_root, weights, tmp_path):
    """Does `edu prune` reach each q per layer and write its table and checkpoints?"""
    out = tmp_path / "prune"
    assert (
        main(
            ["prune", str(weights), "--q", "30", "70", "--output-dir", str(out), *_data(data_root)]
        )
        == 0
    )
    rows = json.loads((out / "results.json").read_text())["rows"]
    assert [row["q"] for row in rows] == [30.0, 70.0]
    for row in rows:
        for layer in row["sparsity"]["layers"]:
            assert layer["sparsity"] == pytest.approx(row["q"] / 100, abs=0.01)
        assert (out / row["checkpoint"]).exists()
    assert "| q (%)" in (out / "results.md").read_text()


def test_quantize_keeps_level_counts_within_the_bit_budget(data_root, weights, tmp_path):
    """Does `edu quantize` evaluate every bit width with at most 2^N levels per layer?"""
    out = tmp_path / "quant"
    args = ["quantize", str(weights), "--nbits", "4", "2", "--symmetric", "--output-dir", str(out)]
    assert main([*args, *_data(data_root)]) == 0
    rows = json.loads((out / "results.json").read_text())["rows"]
    for row in rows:
        assert max(row["weight_levels"].values()) <= 2 ** row["nbits"] - 1


def test_unreadable_checkpoint_is_a_clear_error(data_root, tmp_path, capsys):
    """Is a garbage checkpoint reported in one line with exit status 2, not a traceback?"""
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"garbage")
    assert main(["evaluate", str(bad), *_data(data_root)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("edu evaluate: error: checkpoint") and "cannot be loaded" in error


def test_missing_data_is_a_clear_error(weights, tmp_path, capsys):
    """Does an empty data root give the data layer's message, not a traceback?"""
    assert main(["evaluate", str(weights), "--data-root", str(tmp_path)]) == 2
    assert "edu evaluate: error:" in capsys.readouterr().err
