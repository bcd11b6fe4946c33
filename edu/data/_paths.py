"""Where the data is looked for, and where decoded tensors are cached.

The data root is the first of: the ``root`` argument, ``$EDU_DATA_ROOT``, the per-user
folder ``$XDG_CACHE_HOME/edu/data`` (default ``~/.cache/edu/data``). The decoded-tensor
cache is ``$EDU_CACHE_DIR`` or ``$XDG_CACHE_HOME/edu/cifar10`` (``~/.cache/edu/cifar10``).
"""

from __future__ import annotations

import os
from pathlib import Path

from edu.data._errors import DataNotFoundError

__all__ = ["cache_dir", "find_data_root", "resolve_data_root", "user_cache_home"]

DATA_ROOT_ENV = "EDU_DATA_ROOT"
CACHE_DIR_ENV = "EDU_CACHE_DIR"


def user_cache_home() -> Path:
    """``$XDG_CACHE_HOME/edu`` when that variable is set, else ``~/.cache/edu``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "edu"


def cache_dir() -> Path:
    """The folder of decoded-tensor caches: ``$EDU_CACHE_DIR``, else ``<user cache>/cifar10``.

    It is created on the first write, not here.
    """
    override = os.environ.get(CACHE_DIR_ENV)
    return Path(override).expanduser() if override else user_cache_home() / "cifar10"


def resolve_data_root(
    root: str | os.PathLike[str] | None = None, *, create: bool = False
) -> tuple[Path, str]:
    """:func:`find_data_root` that also says which rule chose the root.

    Returns
    -------
    path : Path
    origin : str
        ``"the root argument"``, ``"$EDU_DATA_ROOT"`` or ``"the per-user data folder"``.
    """
    if root is not None:
        path, origin = Path(root).expanduser(), "the root argument"
    elif os.environ.get(DATA_ROOT_ENV):
        path, origin = Path(os.environ[DATA_ROOT_ENV]).expanduser(), f"${DATA_ROOT_ENV}"
    else:
        path = user_cache_home() / "data"
        if create:
            path.mkdir(parents=True, exist_ok=True)
        return path, "the per-user data folder"
    if not path.exists():
        if not create:
            raise DataNotFoundError(
                f"the data root {path} (from {origin}) does not exist; point it at a folder "
                "holding CIFAR-10 (cifar-10-batches-py/, train/ and test/ image folders, or "
                "a .tar.gz of them such as cifar10-jpeg.tar.gz), or pass download=True "
                "(--download) to download CIFAR-10 into it"
            )
        path.mkdir(parents=True)
    return path, origin


def find_data_root(root: str | os.PathLike[str] | None = None, *, create: bool = False) -> Path:
    """The folder that CIFAR-10 is read from (or downloaded into).

    Parameters
    ----------
    root : str or path-like, optional
        An explicit root; it must exist (unless ``create``). It may also be a
        ``.tar.gz`` file itself.
    create : bool, default False
        Create the chosen folder when it does not exist (used for downloads).

    Returns
    -------
    Path
        The first one given of: ``root``, ``$EDU_DATA_ROOT``, and the per-user folder
        ``$XDG_CACHE_HOME/edu/data`` (``~/.cache/edu/data`` when ``XDG_CACHE_HOME`` is
        unset). The per-user folder is returned even if it does not exist yet.

    Raises
    ------
    DataNotFoundError
        If ``root`` or ``$EDU_DATA_ROOT`` names a path that does not exist.

    Notes
    -----
    The first root given wins even if it holds no CIFAR-10: silently falling back to
    another copy would make two runs of the same command read different data. A root
    that was asked for and does not exist is therefore an error (usually a typo).
    """
    return resolve_data_root(root, create=create)[0]
