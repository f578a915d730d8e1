"""Calibration targets as data: each pattern's model quantity, its range, tolerance, role and source.

One file (``sim/conf/calibration/targets.yaml``) states every target; the calibration (:mod:`sim.analysis.calibration`),
the pattern checks (:mod:`sim.analysis.patterns`, :mod:`sim.analysis.evidence_patterns`, ``experiments/patterns.py``)
and the tests read their ranges from it, so a target is changed in one place.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.runtime.errors import CalibrationError

TARGETS = Path(__file__).resolve().parents[1] / "conf" / "calibration" / "targets.yaml"
ROLES = ("calibrate", "held_out", "structural")
FIELDS = frozenset({"name", "quantity", "pattern", "low", "high", "tolerance", "role", "source"})


#: Quantities the battery computes for one constant set (name -> meaning). Structural patterns (P9, P11) are
#: measured by experiments/patterns.py, not here.
QUANTITIES: dict[str, str] = {
    "parity": "month-0 fragmentation advantage (traditional - alliance), default context",
    "timing": "month by which the paired advantage first reaches 90 % of its month-110-120 mean (-1: no advantage)",
    "effect": "relative fragmentation reduction at month 60, default context",
    "failure_share": "share of uniform contexts where the alliance is worse on year-5 fragmentation by > 0.01",
    "direction_least": "smallest rise of the month-60 advantage from the bottom to the top of a seed context",
    "trust_asymmetry": "trust's fall rate after leadership leaves / its rebuild rate after it returns",
    "stationary_drift": "traditional fragmentation, months 116-120 minus months 22-26 (no austerity)",
    "free_riding_late": "share of low-effort providers in year 10 (pooled budget, light monitoring)",
    "free_riding_fall": "low-effort share in year 1 minus year 10",
    "backed_failure_least": "least failure share among senior commitment >= 0.5, overall and in the bottom fifth of "
                            "initial trust, culture readiness, community assets and pooled share",
    "least_worse_share": "least share of contexts where the alliance is worse (year 5), over every outcome",
    "abc_off_gain": "the alliance's largest year-5 gain on any outcome with theories A, B and C off",
    "monitoring_lever": "largest move of traditional year-5 fragmentation or value, monitoring 0 vs 1",
    "early_reduction": "relative fragmentation reduction, months 19-30",
    "late_reduction": "relative fragmentation reduction, months 49-60",
    "value_gain": "relative value gain of the alliance, months 49-60",
    "lost_handoffs": "share of handoffs lost under traditional commissioning, months 49-60, default context",
    "size_ratio": "year-5 fragmentation advantage at 30 providers / at 6 (advantage at 6 <= 0: +inf)",
}
STRUCTURAL_QUANTITIES: dict[str, str] = {
    "nothing_inert": "smallest largest-move of a numeric parameter over its range (P9)",
    "ablation_largest_move": "largest rise of the advantage by a context whose rules are off (P11)",
}
@dataclass(frozen=True)
class Target:
    """One calibration target: a quantity's range, its tolerance, role and source."""

    name: str
    quantity: str
    pattern: str
    low: float  # -inf: no lower bound
    high: float  # +inf: no upper bound
    tolerance: float
    role: str
    source: str

    def distance(self, values: np.ndarray | float) -> np.ndarray:
        """How far each value lies outside the range (0 inside; infinite for a value that is not a number)."""
        return np.maximum(0.0, self.depth(values))

    def depth(self, values: np.ndarray | float) -> np.ndarray:
        """Signed distance to the range's nearer bound: positive outside (as :meth:`distance`), negative inside
        (how deep inside the value lies); infinite for a value that is not a number."""
        v = np.asarray(values, dtype=float)
        with np.errstate(invalid="ignore"):
            d = np.maximum(self.low - v, v - self.high)
        return np.where(np.isnan(v), np.inf, d)

    def met(self, values: np.ndarray | float, slack: float = 0.0) -> np.ndarray:
        """Whether each value is in the range, widened by ``slack`` tolerances (narrowed, if ``slack`` < 0: the
        value must lie at least ``-slack`` tolerances inside every bound)."""
        return self.depth(values) <= slack * self.tolerance

    def implausibility(self, mean: np.ndarray, variance: np.ndarray) -> np.ndarray:
        """Distance outside the range in standard deviations of emulator and tolerance together."""
        return self.distance(mean) / np.sqrt(np.asarray(variance) + self.tolerance ** 2)

    @property
    def range_text(self) -> str:
        if math.isinf(self.low):
            return f"<= {self.high:g}"
        if math.isinf(self.high):
            return f">= {self.low:g}"
        return f"[{self.low:g}, {self.high:g}]"


def _bound(entry: dict, key: str, where: str) -> float:
    value = entry.get(key)
    if value is None:
        return -math.inf if key == "low" else math.inf
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise CalibrationError(f"{where}.{key}={value!r}: must be a number or null (no bound)")
    return float(value)


def load_targets(path: str | Path = TARGETS) -> tuple[Target, ...]:
    """Read and check the targets file: known quantities and roles, ``low <= high``, a positive tolerance."""
    from sim.conf import read_yaml

    path = Path(path)
    data = read_yaml(path, "targets file", CalibrationError)
    entries = data.get("targets") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise CalibrationError(f"targets file {str(path)!r}: needs a non-empty list under 'targets'")
    out, names = [], set()
    for i, entry in enumerate(entries):
        where = f"{path.name}: targets[{i}]"
        if not isinstance(entry, dict):
            raise CalibrationError(f"{where}: must be a mapping with name, quantity, low, high, tolerance, role")
        name = entry.get("name")
        where = f"{path.name}: target {name or i!r}"
        if not isinstance(name, str) or not name or name in names:
            raise CalibrationError(f"{where}: needs a unique name (text)")
        extra = sorted(set(entry) - FIELDS)
        if extra:
            raise CalibrationError(f"{where}: unknown key {extra[0]!r}; keys: {', '.join(sorted(FIELDS))}")
        names.add(name)
        role = entry.get("role", "calibrate")
        if role not in ROLES:
            raise CalibrationError(f"{where}.role={role!r}: must be one of {', '.join(ROLES)}")
        quantity = entry.get("quantity")
        known = STRUCTURAL_QUANTITIES if role == "structural" else QUANTITIES
        if quantity not in known:
            raise CalibrationError(f"{where}.quantity={quantity!r}: unknown for role {role!r}; allowed: "
                                   f"{', '.join(known)}")
        low, high = _bound(entry, "low", where), _bound(entry, "high", where)
        if low > high:
            raise CalibrationError(f"{where}: low={low:g} > high={high:g}; the range must have low <= high")
        if math.isinf(low) and math.isinf(high):
            raise CalibrationError(f"{where}: low and high are both null; give at least one bound")
        tolerance = entry.get("tolerance")
        if isinstance(tolerance, bool) or not isinstance(tolerance, int | float) or not tolerance > 0:
            raise CalibrationError(f"{where}.tolerance={tolerance!r}: must be a number > 0 (the battery's noise "
                                   "plus model discrepancy, in the quantity's units)")
        out.append(Target(name, quantity, str(entry.get("pattern", "")), low, high, float(tolerance), role,
                          str(entry.get("source", ""))))
    return tuple(out)


@functools.cache
def _shipped() -> dict[str, Target]:
    return {t.name: t for t in load_targets(TARGETS)}


def target(name: str) -> Target:
    """A target of the shipped targets file, by name (``"P2"``)."""
    try:
        return _shipped()[name]
    except KeyError:
        raise CalibrationError(f"target {name!r}: not in {TARGETS.name}; targets: {', '.join(_shipped())}") from None
