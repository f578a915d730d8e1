"""The counter-based draws' hash compiled, one key at a time (the specification is :func:`sim.model.draws._hash`).

SplitMix64 rounds over (seed, purpose, step, agent pair), written for numba so that compiled loops draw without
calling back into numpy; a test checks them bit for bit against the numpy specification.

Each is compiled once and called, not inlined at numba's level (``inline="always"``): LLVM inlines these few
instructions into the loops anyway (the core's speed is the same, ``scripts/compare_core_speed.py``), while numba
copied and typed them again at every call site, 0.6 s of a cold first compile (``scripts/compile_time.py``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["key_prefix", "uniform3_from", "uniform3_one", "uniform_of_key"]

_G, _K1, _K2 = (np.uint64(k) for k in (0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB))
_BELOW_ONE = 1.0 - 2.0**-53  # the largest double below 1


@njit(cache=True)
def _mix_one(x):  # pragma: no cover - compiled
    x ^= x >> np.uint64(30)
    x *= _K1
    x ^= x >> np.uint64(27)
    x *= _K2
    x ^= x >> np.uint64(31)
    return x


@njit(cache=True)
def key_prefix(seed, step, purpose):  # pragma: no cover - compiled
    """The first two hash rounds of a key, over (seed, purpose, step): compiled loops that draw many
    numbers for one scenario and month compute it once and finish each draw with :func:`uniform3_from`."""
    h = _mix_one(np.uint64(seed) + (_G + np.uint64(purpose) * _K2))
    return _mix_one(h + (_G + np.uint64(step) * _K2))


@njit(cache=True)
def uniform3_from(prefix, a, b):  # pragma: no cover - compiled
    """:func:`uniform3` for one key, given its :func:`key_prefix`: the last hash round, over the agent pair."""
    h = _mix_one(prefix + (_G + ((np.uint64(a) << np.uint64(32)) | np.uint64(b)) * _K2))
    mask = np.uint64((1 << 21) - 1)
    scale = 1.0 / 2097152.0
    # each field is below 2**21: via int64, the conversion to float is one instruction (and exact)
    u1 = (float(np.int64((h >> np.uint64(43)) & mask)) + 0.5) * scale
    u2 = (float(np.int64((h >> np.uint64(22)) & mask)) + 0.5) * scale
    u3 = (float(np.int64((h >> np.uint64(1)) & mask)) + 0.5) * scale
    return u1, u2, u3


@njit(cache=True)
def uniform3_one(seed, step, purpose, a, b):  # pragma: no cover - compiled
    """:func:`uniform3` for one key, inside compiled loops: the same hash, bit for bit (a test checks)."""
    return uniform3_from(key_prefix(seed, step, purpose), a, b)


@njit(cache=True)
def uniform_of_key(seed, step, purpose, a, b):  # pragma: no cover - compiled
    """:func:`uniform` for one key: the 53 top bits of the hash, on (0, 1). The one top value, whose midpoint
    ``1 - 2**-54`` rounds to 1.0, is held just below 1 (the largest double below 1), so every draw is
    strictly inside (0, 1) and a shock is always finite."""
    h = key_prefix(seed, step, purpose)
    h = _mix_one(h + (_G + ((np.uint64(a) << np.uint64(32)) | np.uint64(b)) * _K2))
    return min((float(np.int64(h >> np.uint64(11))) + 0.5) * (1.0 / 9007199254740992.0), _BELOW_ONE)
