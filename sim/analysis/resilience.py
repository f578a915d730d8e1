"""Resilience under shocks: how deep the dip and how long the recovery, under an alliance and under traditional
commissioning.

Each shock is an event preset of ``sim/conf/scenario`` (leadership turnover, a budget shock, a pandemic surge).
Both commissioning modes run with and without the preset's events, paired by seed and by ensemble member (the
same world and the same draws until the first event), so the shock's harm to a mode is the rise of its
fragmentation over the same run without the shock, month by month (mean over seeds and members):

- **depth**: the largest rise after the first event;
- **months to recover**: from the month of that peak until the rise is back within a fifth of the depth (and
  stays there to the end of the run); a shock whose harm lasts (a permanent cut) does not recover;
- **months to half**: the same, back within half the depth;
- **rise at the end**: what the shock still costs at the last month.

The seed's theories say which way this could go: shared ownership and trust can absorb a shock (partners cover
for each other, IPT 3-4), but arrangements that rest on senior buy-in unravel when the leaders go (IPT 6), and a
cut to a pooled budget hits every partner at once. The model answers for each preset; nothing here assumes it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sim.params import Params
from sim.params.events import parse_event
from sim.runtime.errors import StudyError

RECOVERED = 0.2  # back within this share of the depth counts as recovered
MODES = ("alliance", "traditional")


def preset(name: str) -> tuple[dict, str]:
    """An event preset's parameters (events, horizon) and its description."""
    from sim.conf import directory, read_yaml

    path = directory() / "scenario" / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in (directory() / "scenario").glob("*.yaml")))
        raise StudyError(f"study.resilience: {name!r} is not a scenario preset; presets: {known}")
    doc = read_yaml(path, "scenario preset", StudyError) or {}
    params = dict(doc.get("params") or {})
    if not params.get("events"):
        raise StudyError(f"study.resilience: preset {name!r} has no events (params.events); resilience needs a shock")
    return params, str(doc.get("description", name))


def resilience(presets: Sequence[str], bases: Sequence[Params], *, seeds: int = 4, seed: int = 1,
               workers: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The dip and recovery of fragmentation under each preset's shock, for each mode, over ``bases`` (one per
    ensemble member) and ``seeds`` common seeds. Returns the table (one row per preset and mode) and the monthly
    rise (columns ``preset``, ``commissioning``, ``step``, ``rise``)."""
    from sim.model.core import simulate

    rows, curves = [], []
    for name in presets:
        changes, description = preset(name)
        horizon = int(changes.get("horizon", bases[0].horizon))
        events = tuple(changes["events"])
        scenarios, seed_of = [], []
        for mode in MODES:
            for shocked in (False, True):
                for b in bases:
                    p = b.replace(commissioning=mode, horizon=horizon, events=events if shocked else ())
                    scenarios += [p] * seeds
                    seed_of += list(range(seed, seed + seeds))
        frag = simulate(scenarios, seed_of, workers=workers)["fragmentation"].values
        if not np.isfinite(frag).all():
            raise StudyError(f"resilience {name!r}: {int((~np.isfinite(frag)).any(axis=1).sum())} of {len(frag)} "
                             "runs returned no fragmentation (NaN)")
        frag = frag.reshape(len(MODES), 2, len(bases) * seeds, -1).mean(axis=2)  # mode, shocked, month
        first = min(parse_event(e, horizon).month for e in events)
        for m, mode in enumerate(MODES):
            rise = frag[m, 1] - frag[m, 0]
            after = rise[first:]
            peak = int(np.argmax(after))
            depth = float(after[peak])
            months, recovered = _months_back(after[peak:], RECOVERED * depth, depth)
            half, _ = _months_back(after[peak:], 0.5 * depth, depth)
            rows.append({"preset": name, "description": description, "commissioning": mode,
                         "first_event_month": first, "depth": depth, "peak_month": first + peak,
                         "recovered": recovered, "months_to_recover": months, "months_to_half": half,
                         "rise_at_end": float(rise[-1]),
                         "level_without_shock_at_end": float(frag[m, 0, -1]), "runs": len(bases) * seeds})
            curves.append(pd.DataFrame({"preset": name, "commissioning": mode, "step": np.arange(len(rise)),
                                        "rise": rise}))
    return pd.DataFrame(rows), pd.concat(curves, ignore_index=True)


def _months_back(rise: np.ndarray, level: float, depth: float) -> tuple[float, bool]:
    """Months from the peak (``rise[0]``) until the rise falls to ``level`` and stays there; NaN if never."""
    stays = np.flip(np.logical_and.accumulate(np.flip(rise <= level)))
    if depth <= 0 or not stays.any():
        return float("nan"), False
    return float(np.argmax(stays)), True
