"""Model uncertainty in a study: the calibrated ensemble's constant sets, and how robust each factor's effect is.

A study varies what a council has or chooses (contexts and levers). What the model itself assumes (its constants
and mechanism parameters) is not ranked beside them: it is drawn from the calibrated ensemble
(:func:`sim.analysis.calibration.load_ensemble`), the constant sets the evidence cannot rule out. Each factor's
effect then carries a **robustness**: the share of ensemble members under which moving the factor across its
range changes the alliance's effect in the same direction as over the whole ensemble, and ranks it within one place
of its rank there. A factor robust in 90 % of members is a finding about the contexts; one robust in 50 % depends on
what the model assumes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from sim.params import Params
from sim.runtime.errors import StudyError

#: Rank places a member's ranking of a factor may differ from the ensemble's and still count as the same rank.
RANK_SLACK = 1


def study_members(choice: str, error: type[Exception] = StudyError) -> tuple[pd.DataFrame | None, str]:
    """The constant sets a study or brief runs: ``"shipped"`` (the calibrated ensemble of ``sim/conf/calibration``,
    or the registry's constants if none ships), ``"none"`` (the registry's constants) or an ensemble CSV's path.
    Returns the ensemble (None for the registry's constants) and a plain description of it."""
    from sim.analysis import calibration as cal

    choice = str(choice)
    if choice == "none":
        return None, "the registry's constants (one constant set)"
    if choice == "shipped":
        if not cal.ENSEMBLE.exists():
            return None, "the registry's constants (one constant set: no calibrated ensemble ships)"
        frame = cal.load_ensemble()
        return frame, f"{len(frame)} constant sets of the calibrated ensemble"
    path = Path(choice)
    if not path.is_file():
        raise error(f"ensemble={choice!r}: must be shipped, none or the path of an ensemble CSV")
    frame = cal.load_ensemble(path)
    return frame, f"{len(frame)} constant sets of {path.name}"


def member_bases(base: Params, members: pd.DataFrame | None, n: int) -> list[Params]:
    """``n`` copies of ``base``, the ``i``-th with member ``i mod len(members)`` applied (or ``base`` alone)."""
    if members is None or not len(members):
        return [base] * n
    from sim.analysis.calibration import member_params

    applied = [member_params(row, base) for _, row in members.iterrows()]
    return [applied[i % len(applied)] for i in range(n)]


def distinct_bases(base: Params, members: pd.DataFrame | None, limit: int) -> list[Params]:
    """``base`` under each of the first ``limit`` members (each once), or ``[base]`` without an ensemble."""
    count = 1 if members is None or not len(members) else min(limit, len(members))
    return member_bases(base, members, count)


def robustness(names: Sequence[str], bounds: dict[str, tuple[float, float]], base: Params,
               members: pd.DataFrame | None, outcome: str, *, seeds: int = 2, seed: int = 1, limit: int = 100,
               workers: int = 1) -> pd.DataFrame:
    """Each factor's effect and its robustness over ensemble members.

    Under each member (at most ``limit``), each factor moves from the low to the high end of its studied range
    with the others at ``base``; the change in the alliance's paired effect ``outcome`` (mean over ``seeds``
    common seeds) is the factor's effect under that member. Columns: ``parameter``, ``role``, ``change`` (mean
    over members), ``direction`` (+1: the higher the factor, the larger the alliance's effect; 0: no change),
    ``rank`` (1 = largest mean absolute change), ``sign_robustness`` (share of members with the same direction),
    ``robustness`` (same direction and rank within :data:`RANK_SLACK`) and ``members``."""
    from sim.analysis.sensitivity import PairedEffects, role

    names = list(names)
    sets = distinct_bases(base, members, limit)
    centre = np.array([float(getattr(base, n)) for n in names])
    X = np.repeat(centre[None, :], 2 * len(names), axis=0)
    for k, name in enumerate(names):
        X[2 * k, k], X[2 * k + 1, k] = bounds[name]
    evaluator = PairedEffects(names, [outcome], base=base, seed=seed, workers=workers)
    effects = evaluator.run_batch([(X, p) for p in sets], seeds)
    change = np.array([e[outcome].mean(axis=1)[1::2] - e[outcome].mean(axis=1)[0::2] for e in effects])
    if not np.isfinite(change).all():
        bad = int((~np.isfinite(change)).any(axis=1).sum())
        raise StudyError(f"robustness: {bad} of {len(sets)} members returned no value for {outcome} (NaN) when "
                         f"moving {', '.join(names)}; check the ensemble and the study's ranges")
    mean = change.mean(axis=0)
    direction = np.sign(np.round(mean, 12))
    overall_rank = _ranks(np.abs(mean))
    member_rank = np.array([_ranks(np.abs(c)) for c in change])
    same_sign = np.sign(np.round(change, 12)) == direction[None, :]
    same_rank = np.abs(member_rank - overall_rank[None, :]) <= RANK_SLACK
    return pd.DataFrame({"parameter": names, "role": [role(n) for n in names], "change": mean,
                         "direction": direction.astype(int), "rank": overall_rank,
                         "sign_robustness": same_sign.mean(axis=0),
                         "robustness": (same_sign & same_rank).mean(axis=0), "members": len(sets)})


def _ranks(values: np.ndarray) -> np.ndarray:
    """1 for the largest value, 2 for the next, ... (ties broken by position)."""
    order = np.argsort(-values, kind="stable")
    ranks = np.empty(len(values), dtype=int)
    ranks[order] = np.arange(1, len(values) + 1)
    return ranks
