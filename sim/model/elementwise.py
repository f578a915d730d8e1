"""Formulas written once, as plain Python on numbers, and used three ways.

- The **Mesa agents** apply them to single numbers hundreds of times a month, where plain Python is fastest.
- The **vectorised core's** set-up and the agents' batch-of-one arrays apply them to arrays: :func:`elementwise`
  compiles a formula once as a numpy ufunc (one pass, no temporary array per operation).
- The **compiled month** (:mod:`sim.model.compiled_month`) calls them on numbers inside its loop: both
  decorators make a formula callable from numba-compiled code (:func:`formula` for one written with numpy
  functions that work on numbers and arrays alike).

Same arithmetic, same libm calls in each path.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from numba import vectorize
from numba.extending import overload, register_jitable

#: The model's source folder: every compiled function's on-disk cache is stamped with all of it.
MODEL_SOURCES = Path(__file__).resolve().parent


@functools.cache
def model_source_digest() -> bytes:
    """SHA-256 of every source file of :mod:`sim.model`. numba stamps a function's cache with its own file
    only, but a compiled loop here inlines formulas from many files: with this stamp, changing any of them
    recompiles every cached function of the model instead of running stale machine code."""
    digest = hashlib.sha256()
    for path in sorted(MODEL_SOURCES.rglob("*.py")):
        digest.update(str(path.relative_to(MODEL_SOURCES)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.digest()


def _stamp_caches_with_model_source() -> None:
    try:
        from numba.core.caching import CacheImpl, InTreeCacheLocator
    except ImportError:  # another numba: its own per-file stamps stay in force
        return

    class ModelSourceLocator(InTreeCacheLocator):
        def get_source_stamp(self) -> bytes:
            return model_source_digest()

        @classmethod
        def from_function(cls, py_func: Callable, py_file: str) -> Any:
            if not Path(py_file).resolve().is_relative_to(MODEL_SOURCES):
                return None
            return super().from_function(py_func, py_file)

    if not any(c.__name__ == "ModelSourceLocator" for c in CacheImpl._locator_classes):
        CacheImpl._locator_classes.insert(0, ModelSourceLocator)


_stamp_caches_with_model_source()


def formula(function: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator: a formula that works on numbers and arrays alike (numpy functions, operators) is also
    callable from compiled loops; for Python callers it is the same function, unchanged."""
    return register_jitable(function)


def elementwise(signature: str) -> Callable[[Callable[..., float]], Callable[..., Any]]:
    """Decorator: compile a scalar formula as a numpy ufunc (``signature``, e.g. ``"float64(float64)"``) for
    array arguments; numbers alone (Python or numpy scalars) go through the plain function, and so do
    compiled loops (through numba's ``overload``).

    The ufunc is built on the first call with an array (from numba's on-disk cache after the first run), not
    at import: a command that only validates its input or prints help never waits for the compiler."""

    def decorate(scalar: Callable[..., float]) -> Callable[..., Any]:
        @functools.cache
        def compiled() -> Any:
            return vectorize([signature], cache=True)(scalar)

        @functools.wraps(scalar)
        def apply(*args: Any) -> Any:
            for arg in args:
                if not isinstance(arg, float | int):  # np.float64 is a float
                    return compiled()(*args)
            return scalar(*args)

        def implementation(*args: Any) -> Callable[..., float]:  # numba's typing: the scalar formula itself
            return scalar

        implementation.__wrapped__ = scalar  # type: ignore[attr-defined]  # numba reads the signature from it
        overload(apply)(implementation)
        apply.compiled = compiled  # type: ignore[attr-defined]
        return apply

    return decorate
