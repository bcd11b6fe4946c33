"""Training and evaluation loops on tiny synthetic data."""

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from edu.models import ResNetCIFAR
from edu.train import evaluate, seed_everything, train_one_epoch


def _batches(num_batches=4, batch_size=16, seed=0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(num_batches * batch_size, 3, 32, 32, generator=generator)
    y = torch.randint(0, 10, (num_batches * batch_size,), generator=generator)
    return list(zip(x.split(batch_size), y.split(batch_size), strict=True))


def test_a_few_steps_reduce_the_loss():
    """Does training on a fixed tiny set lower its loss?"""
    seed_everything(0)
    net = ResNetCIFAR()
    batches = _batches()
    before = evaluate(net, batches)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    for _ in range(5):
        train_one_epoch(net, batches, optimizer, progress=False)
    after = evaluate(net, batches)
    assert after.loss < 0.8 * before.loss


def test_evaluate_matches_a_direct_computation():
    """Are loss and accuracy the batch-size weighted means of cross-entropy and hits?"""
    seed_everything(1)
    net = ResNetCIFAR().eval()
    batches = _batches(num_batches=3, batch_size=7)
    x = torch.cat([b[0] for b in batches])
    y = torch.cat([b[1] for b in batches])
    with torch.no_grad():
        logits = net(x)
    result = evaluate(net, batches)
    assert result.num_images == 21
    assert result.loss == pytest.approx(F.cross_entropy(logits, y).item(), rel=1e-5)
    assert result.accuracy == pytest.approx((logits.argmax(1) == y).float().mean().item())


def test_after_step_hook_runs_after_every_optimizer_step():
    """Is the hook called once per batch, after the weights changed?"""
    net = nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 10))
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    seen = []
    train_one_epoch(
        net,
        _batches(num_batches=3),
        optimizer,
        after_step=lambda model: seen.append(model[1].weight.detach().clone()),
        progress=False,
    )
    assert len(seen) == 3
    assert not torch.equal(seen[0], seen[1])


def test_empty_loader_is_an_error():
    """Does an empty loader raise instead of dividing by zero?"""
    net = nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 10))
    with pytest.raises(ValueError, match="no batches"):
        evaluate(net, [])
