"""Formulas written once, as plain Python on numbers, and used three ways.

- The **Mesa agents** apply them to single numbers hundreds of times a month, where plain Python is fastest.
- The **vectorised core's** set-up and the agents' batch-of-one arrays apply them to arrays: :func:`elementwise`
  compiles a formula once as a numpy ufunc (one pass, no temporary array per operation).
- The **compiled run** (:mod:`sim.engine.batch`, through the phases of :mod:`sim.model.phases`) calls them on
  numbers inside its loop: both decorators make a formula callable from numba-compiled code (:func:`formula`
  for one written with numpy functions that work on numbers and arrays alike).

Same arithmetic, same libm calls in each path.
"""

from __future__ import annotations

import functools
import hashlib
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

from numba import njit, vectorize
from numba.extending import overload, register_jitable

#: The source folders of compiled code: the model (formulas, phases) and this engine. Every compiled function's
#: on-disk cache is stamped with all of them.
_SIM = Path(__file__).resolve().parents[1]
MODEL_SOURCES: tuple[Path, ...] = (_SIM / "model", _SIM / "engine")


@functools.cache
def model_source_digest() -> bytes:
    """SHA-256 of every source file of :mod:`sim.model` and :mod:`sim.engine`. numba stamps a function's cache
    with its own file only, but a compiled loop inlines formulas from many files: with this stamp, changing any of
    them recompiles every cached function instead of running stale machine code. It is also the code identity
    of a result (a result made by other model code is not reused)."""
    digest = hashlib.sha256()
    for folder in MODEL_SOURCES:
        for path in sorted(folder.rglob("*.py")):
            digest.update(str(path.relative_to(_SIM)).encode() + b"\0" + path.read_bytes() + b"\0")
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
            if not any(Path(py_file).resolve().is_relative_to(folder) for folder in MODEL_SOURCES):
                return None
            return super().from_function(py_func, py_file)

    if not any(c.__name__ == "ModelSourceLocator" for c in CacheImpl._locator_classes):
        CacheImpl._locator_classes.insert(0, ModelSourceLocator)


_stamp_caches_with_model_source()


def formula(function: Callable[..., Any] | None = None, *, inline: bool = False) -> Any:
    """Decorator: a formula that works on numbers and arrays alike (numpy functions, operators) is also
    callable from compiled loops; for Python callers it is the same function, unchanged. ``@formula(inline=True)``
    is for a small loop over an agent's row (a weighted mean): compiled, also when Python calls it, and inlined
    into its compiled callers at numba's level. Use it only where it is measured faster: the five such loops of
    :mod:`sim.model.phases` made plain formulas cost the core 5-8 %, ``phases.total`` alone nothing; and every
    call site is one more copy to compile, so ``total`` (16 call sites) is a plain formula, which LLVM inlines.
    (``scripts/compare_core_speed.py`` and ``scripts/compile_time.py``, 2026-12-07.)"""
    if function is None:
        return lambda f: formula(f, inline=inline)
    return njit(cache=True, inline="always")(function) if inline else register_jitable(function)


def phase(function: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator: a phase of the month (:mod:`sim.model.phases`). The function stays plain Python (the Mesa
    agents call it); its compiled twin, ``function.inlined``, is inlined into the compiled loop that calls it
    (at numba's level, before LLVM): a phase takes the scenario's records, dozens of arrays, which a call would
    copy every time. The compiled loop reaches the twins through :func:`inlined_phases`.

    Why not ``register_jitable(inline="always")``: numba then compiles every phase on its own as well, once
    per call site, and throws the result away (about 5 s of a cold first compile); an ``njit`` twin that is only
    ever inlined is typed once, in its caller."""
    function.inlined = njit(inline="always")(function)  # type: ignore[attr-defined]
    return function


def inlined_phases(module: types.ModuleType) -> types.ModuleType:
    """``module`` as the compiled loop sees it: each :func:`phase` replaced by its inlined twin, every other
    name (formulas, constants' indices) as it is."""
    twin = types.ModuleType(module.__name__ + "[inlined]", module.__doc__)
    for name, value in vars(module).items():
        if not name.startswith("__"):
            setattr(twin, name, getattr(value, "inlined", value))
    return twin


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
