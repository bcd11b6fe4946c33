"""Decode once: the decoded tensors of an image tree or archive, cached with ``torch.save``.

One file per source and split, ``<cache dir>/<name>-<hash of path>-<split>.pt``, holding
the tensors and the source's *identity* (size and modification time of an archive; a
digest of every file's name, size and time for a folder). A file whose identity no
longer matches (the data changed), or that cannot be read (interrupted write, another
torch version), is rebuilt and overwritten without a word: the cache is only ever a
faster way to get what decoding would give.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import warnings
from pathlib import Path

import torch

from edu.data._cifar10 import IMAGE_SHAPE, CIFAR10Tensors
from edu.data._paths import cache_dir

__all__ = ["CACHE_VERSION", "cache_file", "load_cached", "save_cached"]

CACHE_VERSION = 2
"""Bumped whenever what is cached changes meaning (order, decoder, the source named with
its resolved path since version 2), to orphan old files."""


def cache_file(source: Path, split: str) -> Path:
    """Where the decoded ``split`` of ``source`` (an archive or a tree root) is cached."""
    resolved = source.resolve()
    name = re.sub(r"[^A-Za-z0-9._-]", "_", resolved.name)[:60] or "root"
    digest = hashlib.sha256(str(resolved).encode()).hexdigest()[:16]
    return cache_dir() / f"{name}-{digest}-{split}.pt"


def load_cached(path: Path, identity: str) -> CIFAR10Tensors | None:
    """The cached tensors at ``path`` if the file is intact and ``identity`` matches."""
    if not path.is_file():
        return None
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
        if payload["version"] != CACHE_VERSION or payload["identity"] != identity:
            return None
        images, labels = payload["images"], payload["labels"]
        if tuple(images.shape[1:]) != IMAGE_SHAPE or not images.is_contiguous():
            return None
        return CIFAR10Tensors(images, labels, payload["source"])
    except Exception:  # any unreadable or malformed cache file is rebuilt, never an error
        return None


def save_cached(path: Path, tensors: CIFAR10Tensors, identity: str) -> None:
    """Write ``tensors`` to ``path`` atomically; warn (only) if that is not possible."""
    payload = {
        "version": CACHE_VERSION,
        "identity": identity,
        "source": tensors.source,
        "images": tensors.images,
        "labels": tensors.labels,
    }
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(payload, partial)
        os.replace(partial, path)  # readers see the old file or the new one, never half
    except OSError as exc:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        warnings.warn(
            f"could not write the CIFAR-10 cache {path} ({exc}); the images will be decoded "
            "again next time (set EDU_CACHE_DIR to a writable folder to fix this)",
            RuntimeWarning,
            stacklevel=3,
        )
