"""The finetuning recipe: optimizer, cosine schedule, per-epoch checkpoint and resume."""

import pytest
import torch

from edu.experiments import CHECKPOINT, Settings, finetune, make_optimizer
from edu.train import load_checkpoint


def test_optimizer_is_nesterov_sgd_with_cosine_to_zero():
    """Is it SGD (Nesterov, 0.9, 5e-4) whose lr falls from lr to 0 over all steps?"""
    net = torch.nn.Linear(2, 2)
    optimizer, scheduler = make_optimizer(net, Settings("x", lr=0.05), total_steps=10)
    group = optimizer.param_groups[0]
    assert (group["momentum"], group["nesterov"], group["weight_decay"]) == (0.9, True, 5e-4)
    rates = []
    for _ in range(10):
        rates.append(group["lr"])
        optimizer.step()
        scheduler.step()
    assert rates[0] == pytest.approx(0.05)
    assert rates == sorted(rates, reverse=True)
    assert group["lr"] == pytest.approx(0.0, abs=1e-12)


def _stop_at_epoch_2(message):
    """A log that interrupts the run as epoch 2 ends, before its checkpoint is written."""
    if message.startswith("epoch   2/"):
        raise KeyboardInterrupt


def test_interrupted_finetune_resumes_to_the_same_result(make_experiment, tmp_path):
    """Does a row stopped in epoch 2 of 2 resume from epoch 1 and end as an uninterrupted one?"""
    whole = make_experiment(output_dir=tmp_path / "whole", epochs=2)
    expected = finetune(whole, whole.model(), tmp_path / "whole")

    exp = make_experiment(output_dir=tmp_path / "resumed", epochs=2)
    exp.log = _stop_at_epoch_2
    with pytest.raises(KeyboardInterrupt):
        finetune(exp, exp.model(), tmp_path / "resumed")
    assert load_checkpoint(tmp_path / "resumed" / CHECKPOINT)["epoch"] == 1
    exp.log = None
    net = exp.model()
    resumed = finetune(exp, net, tmp_path / "resumed")
    strip = [{k: v for k, v in row.items() if k != "seconds"} for row in resumed.history]
    assert strip == [{k: v for k, v in row.items() if k != "seconds"} for row in expected.history]
    for key, value in net.state_dict().items():
        torch.testing.assert_close(value, expected.best_state[key], rtol=0, atol=0)


def test_checkpoint_of_other_settings_is_not_resumed(make_experiment, tmp_path):
    """Is a per-epoch checkpoint written with other settings discarded, not continued?"""
    row_dir = tmp_path / "row"
    one = make_experiment(epochs=1)
    finetune(one, one.model(), row_dir)
    messages = []
    two = make_experiment(epochs=2, lr=0.02)
    two.log = messages.append
    result = finetune(two, two.model(), row_dir)
    assert any("other settings" in message for message in messages)
    assert [row["epoch"] for row in result.history] == [1, 2]
    assert load_checkpoint(row_dir / CHECKPOINT)["args"] == two.settings.as_dict()
