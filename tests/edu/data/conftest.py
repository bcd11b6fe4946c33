"""A tiny fake CIFAR-10, written in every form ``edu.data`` reads, and an isolated environment.

The fake has random uint8 images, saved as PNG (lossless), so every form must load to
exactly the same tensors. Its "expected" order is the one ``load_cifar10`` documents for
image trees (class-interleaved: file 0 of every class, then file 1, ...), and the
pickled batches are written in that same order, so all forms compare directly.
"""

from __future__ import annotations

import pickle
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from edu.data import CIFAR10_CLASSES

PER_CLASS = {"train": 3, "test": 2}


@dataclass
class FakeCIFAR10:
    """Images and labels of each split in the documented order, and writers of each form."""

    images: dict[str, torch.Tensor]  # split -> (N, 3, 32, 32) uint8
    labels: dict[str, torch.Tensor]  # split -> (N,) int64

    def _files(self, split: str):
        """(class name, file name, image (3, 32, 32)) in the class-interleaved order."""
        count = {name: 0 for name in CIFAR10_CLASSES}
        for image, label in zip(self.images[split], self.labels[split], strict=True):
            name = CIFAR10_CLASSES[int(label)]
            yield name, f"{count[name]:04d}.png", image
            count[name] += 1

    def write_tree(self, root: Path, splits=("train", "test")) -> Path:
        """``root/<split>/<class>/NNNN.png``; returns ``root``."""
        for split in splits:
            for name in CIFAR10_CLASSES:
                (root / split / name).mkdir(parents=True, exist_ok=True)
            for name, filename, image in self._files(split):
                Image.fromarray(image.permute(1, 2, 0).numpy()).save(root / split / name / filename)
        return root

    def write_archive(self, path: Path, *, prefix: str = "") -> Path:
        """A tar.gz at ``path`` of :meth:`write_tree`'s tree (under ``prefix/`` if given)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as scratch, tarfile.open(path, "w:gz") as archive:
            tree = self.write_tree(Path(scratch))
            for split in ("train", "test"):
                archive.add(tree / split, arcname=f"{prefix}/{split}" if prefix else split)
        return path

    def write_batches(self, root: Path) -> Path:
        """torchvision's ``root/cifar-10-batches-py/`` with 5 training batches + test."""
        folder = root / "cifar-10-batches-py"
        folder.mkdir(parents=True)
        meta = {"label_names": list(CIFAR10_CLASSES), "num_vis": 3072}
        (folder / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))
        parts = {
            "train": [f"data_batch_{i}" for i in range(1, 6)],
            "test": ["test_batch"],
        }
        for split, names in parts.items():
            chunks = np.array_split(np.arange(len(self.labels[split])), len(names))
            for name, chunk in zip(names, chunks, strict=True):
                batch = {
                    "batch_label": name,
                    "data": self.images[split][chunk].reshape(len(chunk), -1).numpy(),
                    "labels": self.labels[split][chunk].tolist(),
                    "filenames": [f"{i}.png" for i in chunk],
                }
                (folder / name).write_bytes(pickle.dumps(batch, protocol=2))
        return root


def make_fake(seed: int = 0) -> FakeCIFAR10:
    generator = torch.Generator().manual_seed(seed)
    images, labels = {}, {}
    for split, per_class in PER_CLASS.items():
        labels[split] = torch.arange(10).repeat(per_class)  # 0..9, 0..9, ...: interleaved
        images[split] = torch.randint(
            0, 256, (10 * per_class, 3, 32, 32), generator=generator, dtype=torch.uint8
        )
    return FakeCIFAR10(images, labels)


@pytest.fixture
def fake() -> FakeCIFAR10:
    return make_fake()


@pytest.fixture
def fake_factory():
    """``make_fake(seed)``, for tests that need a second, different fake."""
    return make_fake


@pytest.fixture
def isolated_env(tmp_path, monkeypatch) -> Path:
    """No ``EDU_DATA_ROOT``; caches and the per-user folder in ``tmp_path``."""
    monkeypatch.delenv("EDU_DATA_ROOT", raising=False)
    monkeypatch.setenv("EDU_CACHE_DIR", str(tmp_path / "edu-cache"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    return tmp_path
