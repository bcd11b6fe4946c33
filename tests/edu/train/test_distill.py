"""Distillation: the loss against a NumPy oracle, its gradient against Hinton's closed
form, and the training epoch that uses it against the plain one."""

import copy

import numpy as np
import pytest
import torch
from torch import nn

from edu.models import ResNetCIFAR
from edu.train import Distillation, distillation_loss, fit, train_one_epoch


def _softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _logits(seed, n=6, k=10, scale=3.0):
    generator = torch.Generator().manual_seed(seed)
    return scale * torch.randn(n, k, generator=generator, dtype=torch.float64)


@pytest.mark.parametrize(("temperature", "weight"), [(4.0, 0.9), (1.0, 0.5), (2.5, 0.0)])
def test_loss_is_hintons_objective_by_hand(temperature, weight):
    s, t = _logits(0), _logits(1)
    y = torch.tensor([0, 3, 9, 1, 1, 7])
    got = distillation_loss(s, t, y, temperature=temperature, weight=weight)
    ps, pt = _softmax(s.numpy() / temperature), _softmax(t.numpy() / temperature)
    kl = np.mean(np.sum(pt * (np.log(pt) - np.log(ps)), axis=1))
    ce = -np.mean(np.log(_softmax(s.numpy()))[np.arange(6), y.numpy()])
    expected = (1 - weight) * ce + weight * temperature**2 * kl
    assert float(got) == pytest.approx(expected, rel=1e-10)


def test_gradient_is_the_closed_form():
    """Is d/ds = ((1 - a)(softmax(s) - onehot) + a T (softmax(s/T) - softmax(t/T))) / n?"""
    temperature, weight = 3.0, 0.7
    s, t = _logits(2).requires_grad_(), _logits(3)
    y = torch.tensor([2, 2, 5, 0, 8, 4])
    distillation_loss(s, t, y, temperature=temperature, weight=weight).backward()
    onehot = np.eye(10)[y.numpy()]
    sn, tn = s.detach().numpy(), t.numpy()
    expected = (
        (1 - weight) * (_softmax(sn) - onehot)
        + weight * temperature * (_softmax(sn / temperature) - _softmax(tn / temperature))
    ) / 6
    np.testing.assert_allclose(s.grad.numpy(), expected, rtol=1e-9, atol=1e-12)


def test_teacher_is_frozen_and_in_eval_mode(random_batches):
    """Does the teacher get no gradient, and do its BatchNorm statistics stay put, even
    when something puts it back in training mode?"""
    torch.manual_seed(0)
    teacher = ResNetCIFAR(num_layers=8).train()
    before = copy.deepcopy(teacher.state_dict())
    distillation = Distillation(teacher)
    assert not teacher.training
    assert not any(p.requires_grad for p in teacher.parameters())
    teacher.train()  # e.g. a caller's net.train() that reaches it
    student = ResNetCIFAR(num_layers=8)
    optimizer = torch.optim.SGD(student.parameters(), lr=0.1)
    train_one_epoch(
        student, random_batches(2), optimizer, distillation=distillation, progress=False
    )
    for key, value in teacher.state_dict().items():
        assert torch.equal(value, before[key]), key


def test_weight_zero_trains_exactly_as_cross_entropy(random_batches):
    torch.manual_seed(0)
    net = ResNetCIFAR(num_layers=8)
    twin = copy.deepcopy(net)
    batches = random_batches(3)
    for model, distillation in ((net, None), (twin, Distillation(copy.deepcopy(net), 4.0, 0.0))):
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        train_one_epoch(model, batches, optimizer, distillation=distillation, progress=False)
    for key, value in net.state_dict().items():
        torch.testing.assert_close(twin.state_dict()[key], value, rtol=1e-6, atol=1e-7)


def test_soft_term_pulls_the_student_towards_the_teacher(random_batches):
    """With the soft term alone, do a few epochs on the same batches bring the student's
    outputs closer to the teacher's (does the KL fall)?"""
    torch.manual_seed(0)
    teacher, student = ResNetCIFAR(num_layers=8), ResNetCIFAR(num_layers=8)
    distillation = Distillation(teacher, temperature=2.0, weight=1.0)
    batches = random_batches(2)
    x = torch.cat([b[0] for b in batches])

    def gap():
        student.eval()
        with torch.no_grad():
            s, t = student(x), teacher(x)
        return float(
            distillation_loss(
                s, t, torch.zeros(len(x), dtype=torch.long), temperature=2.0, weight=1.0
            )
        )

    start = gap()
    optimizer = torch.optim.SGD(student.parameters(), lr=0.05, momentum=0.9)
    for _ in range(5):
        train_one_epoch(student, batches, optimizer, distillation=distillation, progress=False)
    assert gap() < 0.5 * start


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"temperature": 0.0}, "temperature"),
        ({"weight": 1.5}, "weight"),
        ({"weight": float("nan")}, "weight"),
    ],
)
def test_bad_settings_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Distillation(nn.Linear(2, 2), **kwargs)


def test_distillation_and_a_criterion_or_custom_epoch_are_refused(random_batches):
    net = ResNetCIFAR(num_layers=8)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    distillation = Distillation(copy.deepcopy(net))
    with pytest.raises(ValueError, match="not both"):
        train_one_epoch(
            net,
            random_batches(1),
            optimizer,
            criterion=nn.functional.cross_entropy,
            distillation=distillation,
            progress=False,
        )
    with pytest.raises(ValueError, match="distillation"):
        fit(
            net,
            optimizer,
            random_batches(1),
            random_batches(1),
            epochs=1,
            train_epoch=lambda n, e: None,
            distillation=distillation,
        )
