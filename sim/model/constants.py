"""Where each model constant sits in a scenario's constants row, and the rows of a batch.

The constants themselves (value, plausible range, unit, meaning, source) are data in the registry,
:mod:`sim.params.constants`. A scenario's constants reach every formula as one row ``k`` of floats, so a batch can
mix constant sets with no recompiling: a formula reads ``k[kc.EFFORT_SLOPE]``, the index of ``effort_slope``.
This module defines one upper-case index per registered name (``EFFORT_SLOPE = 0``, ...), generated from the
registry, so a new constant needs no edit here.

A row also holds, after the constants, what the context gates derive from them alone (:func:`sim.model.logistic.gate`):
the logistic step's values at context 0 and 1 for a threshold at index ``t`` sit at ``GATE_LOW + t`` and
``GATE_HIGH + t``, computed once per scenario instead of in every gate.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sim.params.constants import CONSTANT_NAMES, CONSTANTS

#: Number of registered constants.
N_CONSTANTS: int = len(CONSTANTS)
#: Offsets of the gates' derived ends in a row, and the row's length.
GATE_LOW: int = N_CONSTANTS
GATE_HIGH: int = 2 * N_CONSTANTS
ROW_LENGTH: int = 3 * N_CONSTANTS
#: The registry's values, in its order.
DEFAULTS: np.ndarray = np.array([c.value for c in CONSTANTS])
DEFAULTS.flags.writeable = False

# One module-level index per constant (numba reads these as literals in compiled code).
globals().update({name.upper(): index for index, name in enumerate(CONSTANT_NAMES)})


def index(name: str) -> int:
    """The position of constant ``name`` in a row."""
    return CONSTANT_NAMES.index(name)


def constant_matrix(overrides: Sequence[tuple[tuple[str, float], ...]]) -> np.ndarray:
    """The constants rows ``(S, ROW_LENGTH)`` of ``S`` scenarios: the registry's values with each scenario's
    validated overrides (``Params.constants``), then the gates' derived ends."""
    from sim.model.logistic import gate_high, gate_low

    kinds: dict[tuple[tuple[str, float], ...], int] = {}  # few distinct constant sets, however many scenarios
    which = np.array([kinds.setdefault(tuple(pairs), len(kinds)) for pairs in overrides], dtype=np.int64)
    rows = np.empty((len(kinds), ROW_LENGTH))  # one row per distinct set, copied to its scenarios at the end
    rows[:, :N_CONSTANTS] = DEFAULTS
    for pairs, kind in kinds.items():
        for name, value in pairs:
            rows[kind, CONSTANT_NAMES.index(name)] = value
    slope = rows[:, [CONSTANT_NAMES.index("gate_slope")]]
    # every constant gets its slots; only thresholds (all in [0, 1]) are read, so the others are clipped there
    thresholds = np.clip(rows[:, :N_CONSTANTS], 0.0, 1.0)
    rows[:, GATE_LOW:GATE_HIGH] = gate_low(thresholds, slope)
    rows[:, GATE_HIGH:] = gate_high(thresholds, slope)
    return rows[which]


def constant_users() -> dict[str, tuple[str, ...]]:
    """Where each constant is read: ``module.function`` (or ``module`` for a module-level table), found in the
    source of :mod:`sim.model` and :mod:`sim.engine` (``kc.NAME``, or the constant's name as a string). Derived,
    so it cannot go stale; a constant no function reads is dead."""
    import ast
    from pathlib import Path

    by_upper = {name.upper(): name for name in CONSTANT_NAMES}
    users: dict[str, set[str]] = {name: set() for name in CONSTANT_NAMES}
    sim = Path(__file__).resolve().parents[1]
    for folder in ("model", "engine"):
        for path in sorted((sim / folder).rglob("*.py")):
            if path.name == "constants.py" and folder == "model":
                continue
            module = ".".join(path.relative_to(sim).with_suffix("").parts[1:])
            tree = ast.parse(path.read_text())
            owner = {}
            for node in ast.walk(tree):
                if isinstance(node, ast.FunctionDef):
                    for inner in ast.walk(node):
                        owner.setdefault(id(inner), f"{module}.{node.name}")
            for node in ast.walk(tree):
                name = None
                if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "kc":
                    name = by_upper.get(node.attr)
                elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in users:
                    name = node.value
                if name is not None:
                    users[name].add(owner.get(id(node), module))
    return {name: tuple(sorted(found)) for name, found in users.items()}
