"""Comparisons for the hidden checks whose failure messages a student can act on.

Each helper raises :class:`edu.grading.CheckFailed` with a message of the form
``<call> with <inputs>: expected <...>, got <...> (<where they differ>)``: what was
run, on which input, what should have come back and what did. Arrays are printed
rounded and shortened, so that a message stays readable and shows the input the
student can re-run, not the check's code.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from edu.grading._checks import CheckFailed

__all__ = ["expect_close", "expect_equal", "expect_shape", "show"]


def show(value: object, limit: int = 12) -> str:
    """A short, rounded rendering of an array or a value for messages.

    Examples
    --------
    >>> show(np.array([1.0, 2.123456, -3.0]))
    '[1.0, 2.1235, -3.0]'
    >>> show(np.arange(20.0), limit=4)
    '[0.0, 1.0, 2.0, 3.0, ... (20 values)]'
    """
    if isinstance(value, np.generic):
        value = value.item()
    if not isinstance(value, np.ndarray):
        return repr(value)
    flat = value.ravel()
    if flat.dtype.kind == "f":
        flat = np.round(flat, 4)
    items = [repr(v.item()) for v in flat[:limit]]
    if flat.size > limit:
        items.append(f"... ({flat.size} values)")
    shape = "" if value.ndim <= 1 else f" (shape {value.shape})"
    return "[" + ", ".join(items) + "]" + shape


def _inputs(inputs: Mapping[str, object] | None) -> str:
    if not inputs:
        return ""
    return " with " + ", ".join(f"{name} = {show(value)}" for name, value in inputs.items())


def expect_shape(got: np.ndarray, shape: tuple, call: str, inputs=None) -> None:
    """Fail unless ``got`` has ``shape``."""
    if np.shape(got) != tuple(shape):
        raise CheckFailed(
            f"{call}{_inputs(inputs)}: expected an array of shape {tuple(shape)}, "
            f"got shape {np.shape(got)}"
        )


def expect_close(
    got: np.ndarray,
    expected: np.ndarray,
    call: str,
    inputs: Mapping[str, object] | None = None,
    *,
    rtol: float = 1e-6,
    atol: float = 1e-8,
) -> None:
    """Fail unless ``got`` has ``expected``'s shape and ``np.allclose`` values.

    Examples
    --------
    >>> expect_close(np.array([1.0, 2.0]), np.array([1.0, 2.0]), "f(v)")
    >>> try:
    ...     expect_close(np.array([1.0, 2.5]), np.array([1.0, 2.0]), "f(v)", {"v": np.ones(2)})
    ... except CheckFailed as error:
    ...     print(str(error)[:88] + " ...")
    f(v) with v = [1.0, 1.0]: expected [1.0, 2.0], got [1.0, 2.5] (1 of 2 values differ; ...
    """
    expected = np.asarray(expected)
    expect_shape(got, expected.shape, call, inputs)
    got = np.asarray(got)
    if got.dtype.kind not in "biuf":
        raise CheckFailed(f"{call}{_inputs(inputs)}: expected numbers, got dtype {got.dtype}")
    close = np.isclose(got.astype(float), expected.astype(float), rtol=rtol, atol=atol)
    if close.all():
        return
    bad = np.argwhere(~close)
    first = tuple(int(i) for i in bad[0])
    index = first[0] if len(first) == 1 else first
    raise CheckFailed(
        f"{call}{_inputs(inputs)}: expected {show(expected)}, got {show(got)} "
        f"({len(bad)} of {close.size} values differ; first at index {index}: "
        f"{show(expected[first])} expected, {show(got[first])} got)"
    )


def expect_equal(got: object, expected: object, what: str) -> None:
    """Fail unless ``got == expected`` (plain values).

    Examples
    --------
    >>> expect_equal(3, 3, "the number of levels")
    """
    if got != expected:
        raise CheckFailed(f"{what}: expected {show(expected)}, got {show(got)}")
