"""Device choice and seeding."""

import pytest
import torch

from edu.train import resolve_device, seed_everything


def test_auto_is_cpu_without_cuda(monkeypatch):
    """Does 'auto' fall back to the CPU when CUDA is absent?"""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu")
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        resolve_device("cuda")


def test_same_seed_same_numbers():
    """Does seeding make model initialization and the data generator repeatable?"""
    g1 = seed_everything(5)
    a = torch.randn(3), torch.randn(3, generator=g1)
    g2 = seed_everything(5)
    b = torch.randn(3), torch.randn(3, generator=g2)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
