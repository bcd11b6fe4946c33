"""The epoch loop: best-weights tracking, checkpoints every epoch, exact resume."""

import pytest
import torch
from torch import nn

from edu.train import fit, load_checkpoint, seed_everything


class _ShuffledBatches:
    """A minimal loader that reshuffles with ``generator`` every epoch, as BatchLoader does."""

    def __init__(self, x, y, batch_size, generator):
        self.x, self.y, self.batch_size, self.generator = x, y, batch_size, generator

    def __len__(self):
        return -(-len(self.y) // self.batch_size)

    def __iter__(self):
        order = torch.randperm(len(self.y), generator=self.generator)
        for start in range(0, len(order), self.batch_size):
            index = order[start : start + self.batch_size]
            yield self.x[index], self.y[index]


def _data():
    """The seeded training generator and 64 fixed samples of 20 features in 3 classes."""
    generator = seed_everything(0)
    data = torch.Generator().manual_seed(123)
    x = torch.randn(64, 20, generator=data)
    y = torch.randint(0, 3, (64,), generator=data)
    return generator, x, y


def _run(tmp_path, epochs, resume):
    generator, x, y = _data()
    net = nn.Sequential(nn.Linear(20, 16), nn.ReLU(), nn.Linear(16, 3))
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=4 * 8)
    result = fit(
        net,
        optimizer,
        _ShuffledBatches(x, y, 8, generator),
        [(x, y)],
        epochs=epochs,
        scheduler=scheduler,
        checkpoint_path=tmp_path / "checkpoint.pt",
        resume=resume,
        generator=generator,
        progress=False,
        log=None,
    )
    return net, result


def test_resumed_run_equals_uninterrupted_run(tmp_path):
    """Does stopping after 2 of 4 epochs and resuming give bit-identical weights?"""
    straight, straight_result = _run(tmp_path / "a", epochs=4, resume=False)
    _run(tmp_path / "b", epochs=2, resume=False)
    resumed, resumed_result = _run(tmp_path / "b", epochs=4, resume=True)
    for a, b in zip(straight.parameters(), resumed.parameters(), strict=True):
        assert torch.equal(a, b)
    assert [r["test_loss"] for r in resumed_result.history] == [
        r["test_loss"] for r in straight_result.history
    ]


def test_checkpoint_holds_everything_needed_to_resume(tmp_path):
    """Does the checkpoint carry model, optimizer, scheduler, epoch, best and RNG state?"""
    _run(tmp_path, epochs=2, resume=False)
    state = load_checkpoint(tmp_path / "checkpoint.pt")
    assert state["epoch"] == 2
    for key in ("model", "optimizer", "scheduler", "generator_state", "best_state"):
        assert state[key] is not None, key
    assert state["optimizer"]["state"], "the momentum buffers must be saved"
    assert state["scheduler"]["last_epoch"] == 2 * 8


def test_best_weights_are_those_of_the_best_epoch(tmp_path):
    """Is best_state the weights that scored the best test accuracy, re-evaluated afresh?"""
    _, result = _run(tmp_path, epochs=4, resume=False)
    accuracies = [row["test_accuracy"] for row in result.history]
    assert result.best_accuracy == max(accuracies)
    assert result.best_epoch == accuracies.index(max(accuracies)) + 1
    data = torch.Generator().manual_seed(123)
    x = torch.randn(64, 20, generator=data)
    y = torch.randint(0, 3, (64,), generator=data)
    fresh = nn.Sequential(nn.Linear(20, 16), nn.ReLU(), nn.Linear(16, 3))
    fresh.load_state_dict(result.best_state)
    with torch.no_grad():
        accuracy = (fresh(x).argmax(1) == y).float().mean().item()
    assert accuracy == pytest.approx(result.best_accuracy)


def test_masked_finetuning_checkpoints_hold_plain_weights(tmp_path):
    """Do checkpoints of a model with attached masks load into a bare model, zeros kept?"""
    from edu.prune import prepare, prune_by_percentage

    generator = seed_everything(0)
    x, y = torch.randn(32, 20), torch.randint(0, 3, (32,))
    net = nn.Sequential(nn.Linear(20, 16), nn.ReLU(), nn.Linear(16, 3))
    prune_by_percentage(net[0], 50)
    prepare(net)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    fit(
        net,
        optimizer,
        _ShuffledBatches(x, y, 8, generator),
        [(x, y)],
        epochs=1,
        checkpoint_path=tmp_path / "c.pt",
        progress=False,
        log=None,
    )
    state = load_checkpoint(tmp_path / "c.pt")
    bare = nn.Sequential(nn.Linear(20, 16), nn.ReLU(), nn.Linear(16, 3))
    bare.load_state_dict(state["model"])
    assert (bare[0].weight == 0).float().mean() >= 0.5


def _averaged_run(tmp_path, epochs, resume, snapshots=None):
    """A small net with BatchNorm, its weights averaged from the second epoch on;
    ``snapshots`` collects the weights at the start of every epoch."""
    generator, x, y = _data()
    net = nn.Sequential(nn.Linear(20, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 3))
    optimizer = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)

    def snapshot(epoch, model):
        if snapshots is not None:
            snapshots.append({k: v.detach().clone() for k, v in model.named_parameters()})

    result = fit(
        net,
        optimizer,
        _ShuffledBatches(x, y, 8, generator),
        [(x, y)],
        epochs=epochs,
        before_epoch=snapshot,
        checkpoint_path=tmp_path / "checkpoint.pt",
        resume=resume,
        generator=generator,
        progress=False,
        log=None,
        average_from=1,
    )
    return net, result, x


def test_the_average_is_the_mean_of_the_epochs_end_weights(tmp_path):
    """Are the averaged weights the plain mean of the weights at the end of epochs 2 to 4,
    and are its BatchNorm statistics those of the average run over the training data?"""
    snapshots = []
    net, result, x = _averaged_run(tmp_path, epochs=4, resume=False, snapshots=snapshots)
    ends = [*snapshots[2:], {k: v.detach() for k, v in net.named_parameters()}]
    assert result.average.epochs == 3
    for key in ends[0]:
        expected = torch.stack([end[key] for end in ends]).mean(0)
        torch.testing.assert_close(result.average.state[key], expected)
    average = nn.Sequential(nn.Linear(20, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 3))
    average.load_state_dict(result.average.state)
    with torch.no_grad():
        features = average[0](x)  # the batches cover the data once, in equal sizes
    torch.testing.assert_close(average[1].running_mean, features.mean(0))
    assert result.average.test_loss != result.final["test_loss"]


def test_a_resumed_average_equals_the_uninterrupted_one(tmp_path):
    """Is the running average checkpointed, so that a resumed run averages the same
    epochs to the same weights?"""
    _, straight, _ = _averaged_run(tmp_path / "a", epochs=4, resume=False)
    _averaged_run(tmp_path / "b", epochs=2, resume=False)
    _, resumed, _ = _averaged_run(tmp_path / "b", epochs=4, resume=True)
    assert resumed.average.epochs == straight.average.epochs == 3
    for key, value in straight.average.state.items():
        assert torch.equal(value, resumed.average.state[key]), key


def test_averaging_cannot_resume_a_run_that_did_not_average(tmp_path):
    from edu.train import save_checkpoint

    _averaged_run(tmp_path, epochs=2, resume=False)
    state = load_checkpoint(tmp_path / "checkpoint.pt")
    save_checkpoint(tmp_path / "checkpoint.pt", {**state, "average": None})
    with pytest.raises(ValueError, match="written without it"):
        _averaged_run(tmp_path, epochs=4, resume=True)
