"""Would an alliance work here? One locality's answer over the calibrated ensemble and seeds.

A council gives its context (any subset of the schema's *context* parameters; the rest stay at their defaults and
are marked as assumed). Every ensemble member (a constant set the evidence cannot rule out,
:func:`sim.analysis.calibration.load_ensemble`) is run with paired seeds under both commissioning modes, so the
answer carries the model's uncertainty as well as chance:

- the expected fragmentation reduction at 2 years (months 13-24) and 5 years (months 49-60), with a 90 % interval
  over the members;
- the chance that the alliance does worse (year-5 fragmentation higher by more than 0.01);
- the months until the alliance has most (90 %) of its year-5 advantage;
- which contexts would change the answer most (the change of the year-5 reduction per 0.2 of each context around
  the locality's value: local sensitivity), and which levers help (each at the ends of its range).

``experiments/assess.py`` writes this as a two-page brief (:mod:`sim.report.brief`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.params import Params
from sim.runtime.errors import ConfigError

TWO_YEARS = tuple(range(13, 25))
FIVE_YEARS = tuple(range(49, 61))
MARGIN = 0.01  # worse by more than this counts as doing worse (as in the patterns)
STEP = 0.2  # the local sensitivity: change of the year-5 reduction per this much of a context


def contexts() -> dict[str, Any]:
    """The schema's context parameters (name -> spec)."""
    return {s.name: s for s in Params.schema() if s.group == "context"}


def levers() -> dict[str, Any]:
    """The schema's numeric levers (name -> spec): the choices a council controls."""
    return {s.name: s for s in Params.schema() if s.group == "lever" and s.type in (int, float)}


def check_context(values: Any, where: str = "context") -> dict[str, float]:
    """A locality's context values: a non-empty mapping of context names to numbers in their ranges."""
    if not isinstance(values, dict) or not values:
        raise ConfigError(f"{where}: must be a non-empty mapping of context names to values, e.g. "
                          "{senior_commitment: 0.4, initial_trust: 0.3}; contexts: " + ", ".join(contexts()))
    known, choices = contexts(), levers()
    out = {}
    for name, value in values.items():
        if name in choices or name == "commissioning":
            raise ConfigError(f"{where}.{name}: is a lever (a choice the council makes), not a context; the brief "
                              "shows what each lever does, so leave it out; contexts: " + ", ".join(known))
        if name not in known:
            raise ConfigError(f"{where}.{name}: unknown context; contexts: {', '.join(known)}")
        spec = known[name]
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value) \
                or not spec.low <= value <= spec.high:
            raise ConfigError(f"{where}.{name}={value!r}: must be a number in [{spec.low:g}, {spec.high:g}] "
                              f"({spec.label})")
        out[name] = float(value)
    return out


def load_context(path: str | Path) -> dict[str, float]:
    from sim.conf import read_yaml

    path = Path(path)
    return check_context(read_yaml(path, "context file", ConfigError), f"context file {path.name}")


@dataclass
class Assessment:
    """The answer for one locality (see the module docstring); ``curves`` holds the fragmentation advantage by
    month (members x months), ``sensitivity`` and ``lever_effects`` the tables behind the advice."""

    given: dict[str, float]
    assumed: dict[str, float]
    members: int
    seeds: int
    ensemble: str
    reduction: dict[str, dict[str, float]]  # "2 years"/"5 years" -> mean, low, high (relative), points
    chance_worse: float
    months_to_most: dict[str, float]
    curves: np.ndarray
    traditional_level: float
    sensitivity: pd.DataFrame = field(repr=False)
    lever_effects: pd.DataFrame = field(repr=False)


def _members(ensemble: pd.DataFrame | None, limit: int) -> tuple[list[Params], str]:
    from sim.analysis.calibration import member_params

    if ensemble is None or not len(ensemble):
        return [Params()], "the registry's constants (no calibrated ensemble shipped)"
    rows = ensemble.iloc[:limit]
    return [member_params(r) for _, r in rows.iterrows()], f"{len(rows)} members of the calibrated ensemble"


def _runs(bases: list[Params], seeds: int, workers: int, keep: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Fragmentation (alliance, traditional), each ``(len(bases), seeds, months)``."""
    from sim.model.core import simulate

    rows, seed_of = [], []
    for base in bases:
        for mode in ("alliance", "traditional"):
            rows += [base.replace(commissioning=mode, horizon=60)] * seeds
            seed_of += list(range(7000, 7000 + seeds))
    frag = simulate(rows, seed_of, keep=keep, workers=workers)["fragmentation"].values
    frag = frag.reshape(len(bases), 2, seeds, len(keep))
    return frag[:, 0], frag[:, 1]


def _relative_year5(bases: list[Params], seeds: int, workers: int) -> np.ndarray:
    a, t = _runs(bases, seeds, workers, list(FIVE_YEARS))
    return (t.mean(axis=(1, 2)) - a.mean(axis=(1, 2))) / t.mean(axis=(1, 2))


def assess(given: dict[str, float], ensemble: pd.DataFrame | None = None, *, members: int = 100, seeds: int = 4,
           sensitivity_members: int = 30, sensitivity_seeds: int = 2, workers: int = 1) -> Assessment:
    """The locality's answer (see the module docstring)."""
    given = check_context(given)
    constant_sets, source = _members(ensemble, members)
    bases = [p.replace(**given) for p in constant_sets]
    months = list(range(61))
    a, t = _runs(bases, seeds, workers, months)
    advantage = (t - a).mean(axis=1)  # members x months
    trad = t.mean(axis=1)
    reduction = {}
    for label, window in (("2 years", TWO_YEARS), ("5 years", FIVE_YEARS)):
        rel = advantage[:, list(window)].mean(axis=1) / trad[:, list(window)].mean(axis=1)
        reduction[label] = {"mean": float(rel.mean()), "low": float(np.quantile(rel, 0.05)),
                            "high": float(np.quantile(rel, 0.95)),
                            "points": float(advantage[:, list(window)].mean())}
    year5 = (t - a)[:, :, list(FIVE_YEARS)].mean(axis=2)  # members x seeds
    chance_worse = float((year5 < -MARGIN).mean())
    final = advantage[:, list(FIVE_YEARS)].mean(axis=1)
    reached = np.where(final > 0, np.argmax(advantage >= 0.9 * final[:, None], axis=1), np.nan)
    low, median, high = np.nanquantile(reached, (0.05, 0.5, 0.95)) if np.isfinite(reached).any() else [np.nan] * 3
    months_to_most = {"median": float(median), "low": float(low), "high": float(high),
                      "share_without_advantage": float(np.mean(final <= 0))}
    # local sensitivity and levers, on fewer members
    few = bases[:sensitivity_members]
    base_rel = _relative_year5(few, sensitivity_seeds, workers).mean()  # the levers' reference
    rows = []
    for name, spec in contexts().items():
        current = getattr(few[0], name)
        low = max(spec.low, current - STEP / 2)
        high = min(spec.high, current + STEP / 2)
        ends = [_relative_year5([b.replace(**{name: v}) for b in few], sensitivity_seeds, workers).mean()
                for v in (low, high)]
        rows.append({"context": name, "label": spec.label, "now": current, "given": name in given,
                     "change_per_step": float((ends[1] - ends[0]) * STEP / (high - low))})
    sensitivity = (pd.DataFrame(rows).sort_values("change_per_step", key=np.abs, ascending=False)
                   .reset_index(drop=True))
    rows = []
    for name, spec in levers().items():
        for value in (spec.low, spec.high):
            rel = _relative_year5([b.replace(**{name: value}) for b in few], sensitivity_seeds, workers).mean()
            rows.append({"lever": name, "label": spec.label, "default": spec.default, "value": value,
                         "reduction_5y": float(rel), "change": float(rel - base_rel)})
    lever_effects = pd.DataFrame(rows)
    assumed = {name: float(spec.default) for name, spec in contexts().items() if name not in given}
    return Assessment(given, assumed, len(bases), seeds, source, reduction, chance_worse, months_to_most,
                      advantage, float(trad[:, list(FIVE_YEARS)].mean()), sensitivity, lever_effects)
