"""Elementwise formulas compiled once, for arrays, and kept plain for single numbers.

The vectorised core applies each formula to whole arrays; numpy would make a temporary array per
operation, a compiled ufunc makes one pass. The Mesa agents apply the same formulas to single numbers
hundreds of times a month, where a ufunc call costs microseconds and plain Python a tenth of that. So a
formula is written once, as plain Python on numbers, and :func:`elementwise` gives it both paths: same
arithmetic, same libm calls, the same result bit for bit.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from numba import vectorize


def elementwise(signature: str) -> Callable[[Callable[..., float]], Callable[..., Any]]:
    """Decorator: compile a scalar formula as a numpy ufunc (``signature``, e.g. ``"float64(float64)"``) for
    array arguments; numbers alone (Python or numpy scalars) go through the plain function.

    The ufunc is built on the first call with an array (from numba's on-disk cache after the first run), not
    at import: a command that only validates its input or prints help never waits for the compiler."""

    def decorate(formula: Callable[..., float]) -> Callable[..., Any]:
        @functools.cache
        def compiled() -> Any:
            return vectorize([signature], cache=True)(formula)

        @functools.wraps(formula)
        def apply(*args: Any) -> Any:
            for arg in args:
                if not isinstance(arg, float | int):  # np.float64 is a float
                    return compiled()(*args)
            return formula(*args)

        apply.compiled = compiled  # type: ignore[attr-defined]
        return apply

    return decorate
