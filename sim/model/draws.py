"""Counter-based random draws.

Every random number in the model is a pure function of (scenario seed, step, purpose, agent index,
second index): a SplitMix64-style hash of the key, never a value taken from a shared stream in loop
order. So a scenario gives the same numbers alone, inside any batch, or in the vectorised core, and
the Mesa agents can draw their own numbers in any order.
"""

from __future__ import annotations

import math
from enum import IntEnum

import numpy as np

from sim.engine.compiled import elementwise
from sim.engine.counters import key_prefix, uniform3_from, uniform3_one, uniform_of_key

__all__ = ["Purpose", "uniform", "uniform3", "uniform3_one", "shock", "shock_of_key", "key_prefix", "uniform3_from",
           "uniform_of_key"]

# The same hash compiled, one key at a time, for the compiled run and the walk: sim.engine.counters.

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11, _S32 = (np.uint64(k) for k in (30, 27, 31, 11, 32))


class Purpose(IntEnum):
    """What a draw is for; part of its key so that different uses never share numbers."""

    CAPACITY = 2
    TRUST0 = 3
    NEED_PROFILE = 4
    COMMITMENT0 = 5
    ALIGNMENT0 = 6
    ORIENTATION0 = 7
    EFFORT = 20
    NEED = 21
    EPISODE = 22
    CONTACT = 23
    OBSERVE = 24
    EXIT = 25
    NEWCOMER = 26


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser (Steele et al. 2014): a bijective avalanche of a 64-bit word, in place."""
    x ^= x >> _S30
    x *= _M1
    x ^= x >> _S27
    x *= _M2
    x ^= x >> _S31
    return x


def _hash(seed, step, purpose, a, b) -> np.ndarray:
    """The hash written out in numpy: the specification the compiled draws are tested against.

    SplitMix64 rounds over the key (seed, purpose, step, agent pair). ``GOLDEN + part * M2`` is formed
    on the part's own (small) shape first: uint64 arithmetic wraps, so this equals ``h + GOLDEN + part * M2``
    exactly while keeping full-size work small. The two agent indices (each below 2**32) enter as one
    64-bit word, so a draw costs one full-size round."""
    with np.errstate(over="ignore"):
        h = np.array(seed, dtype=np.uint64)  # a fresh copy: _mix works in place
        pair = (np.asarray(a, dtype=np.int64).astype(np.uint64) << _S32) | np.asarray(b, dtype=np.int64).astype(
            np.uint64)
        for part in (np.asarray(purpose, dtype=np.uint64), np.asarray(step, dtype=np.int64).astype(np.uint64), pair):
            h = _mix(np.add(h, _GOLDEN + part * _M2, dtype=np.uint64))
        return h


def uniform(seed, step, purpose: Purpose, a=0, b=0) -> np.ndarray:
    """Uniform draws on the open interval (0, 1); arguments broadcast like numpy arrays.
    Agent indices ``a`` and ``b`` must lie in [0, 2**32). Compiled (:func:`_uniform_draw`); equal bit for
    bit to the numpy specification :func:`_hash` (a test checks)."""
    return _uniform_draw(np.asarray(seed, dtype=np.uint64), np.asarray(step, dtype=np.int64), int(purpose),
                          np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64))


#: Scale of a standard logistic variable with unit variance (its sd is pi / sqrt(3)).
_UNIT_LOGISTIC = np.sqrt(3.0) / np.pi


def shock(seed, step, purpose: Purpose, a=0, b=0) -> np.ndarray:
    """Random shocks with mean 0 and variance 1: logistic, by inversion of :func:`uniform`.

    Logistic rather than normal: on the log-odds scale of an effort decision it is the classic
    random-utility (logit) choice model, and its inverse is a cheap closed form, where the normal's
    (``ndtri``) would cost a fifth of the whole vectorised step. Compiled (:func:`shock_of_key`).
    """
    return shock_of_key(np.asarray(seed, dtype=np.uint64), np.asarray(step, dtype=np.int64), int(purpose),
                        np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64))


_MASK21 = np.uint64((1 << 21) - 1)
_S43, _S22, _S1 = (np.uint64(k) for k in (43, 22, 1))


def uniform3(seed, step, purpose: Purpose, a=0, b=0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Three independent uniforms on (0, 1) from one hash: its top three 21-bit fields.

    For the care-pathway draws, which are many and only feed yes/no choices and choices among a few
    providers, a resolution of 2**-21 is ample, and one hash instead of three keeps the core fast.
    """
    h = _hash(seed, step, int(purpose), a, b)
    scale = 1.0 / 2097152.0
    out = []
    for shift in (_S43, _S22, _S1):
        u = ((h >> shift) & _MASK21).astype(np.float64)
        u += 0.5
        u *= scale
        out.append(u)
    return out[0], out[1], out[2]


@elementwise("float64(uint64, int64, int64, int64, int64)")
def _uniform_draw(seed, step, purpose, a, b):
    """:func:`uniform` compiled as a ufunc (numpy broadcasting, no full-size temporaries)."""
    return uniform_of_key(seed, step, purpose, a, b)


@elementwise("float64(uint64, int64, int64, int64, int64)")
def shock_of_key(seed, step, purpose, a, b):
    """:func:`shock` compiled as a ufunc: the logit of :func:`uniform`'s draw, scaled to variance 1.

    Written ``log(u / (1 - u))``: one ``log`` where ``log(u) - log1p(-u)`` took two calls and a slow ``log1p``
    (it was a tenth of the compiled month's time); the quotient is within an ulp or two either way."""
    u = uniform_of_key(seed, step, purpose, a, b)
    return math.log(u / (1.0 - u)) * _UNIT_LOGISTIC
