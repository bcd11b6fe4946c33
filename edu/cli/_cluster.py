"""Grading on a Dask ``distributed`` cluster: the executor behind ``edu grade --scheduler``.

The jobs travel as plain values (a student, a folder path, the settings) and the
results come back as plain values; the submissions, the hidden checks and CIFAR-10 are
read by the workers at the same paths as on the machine that runs ``edu grade``. So the
course folder and the data root must be on a file system every worker mounts at the
same place (``grader/README.md``, "Grading on several machines").
"""

from __future__ import annotations

import concurrent.futures
import contextlib
from collections.abc import Iterator

__all__ = ["cluster_executor"]

CONNECT_TIMEOUT_S = 30
"""How long to wait for the scheduler before giving up with an error."""


@contextlib.contextmanager
def cluster_executor(address: str) -> Iterator[concurrent.futures.Executor]:
    """A ``concurrent.futures`` executor on the Dask scheduler at ``address``.

    Parameters
    ----------
    address : str
        The scheduler, e.g. ``tcp://10.0.0.5:8786`` (what ``dask scheduler`` prints).

    Yields
    ------
    concurrent.futures.Executor
        ``distributed.Client(address).get_executor()``; the client is closed on exit.

    Raises
    ------
    ModuleNotFoundError
        If ``distributed`` is not installed; the message says which extra installs it.
    ValueError
        If no scheduler answers at ``address`` within :data:`CONNECT_TIMEOUT_S`.
    """
    try:
        import distributed
    except ModuleNotFoundError as error:
        raise ModuleNotFoundError(
            "grading on a cluster needs Dask's distributed: "
            "pip install 'edu-dnn-compression[cluster]'"
        ) from error
    try:
        client = distributed.Client(address, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError) as error:
        raise ValueError(f"no Dask scheduler answered at {address}: {error}") from error
    try:
        yield client.get_executor(pure=False)
    finally:
        client.close()
