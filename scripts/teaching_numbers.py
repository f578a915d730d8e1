"""Recompute every number quoted in docs/teaching.md (seed 7 as in the app, and the mean of seeds 0-9).

    .venv/bin/python scripts/teaching_numbers.py

The core gives the Mesa model's numbers to within 1e-9, so this is what the app shows.
"""

from __future__ import annotations

import yaml

from sim import Params, simulate
from sim.app.teaching import SCENARIO_DIR

MONTHS = [0, 12, 24, 60]


def preset(name: str, **changes) -> Params:
    doc = yaml.safe_load((SCENARIO_DIR / f"{name}.yaml").read_text()) if name != "default" else {}
    values = {**(doc.get("params") or {}), **changes}
    return Params.from_dict({**Params().to_dict(), **values})


def row(label: str, p: Params, outcome: str, months=MONTHS) -> None:
    horizon = max(months)
    p = p.replace(horizon=max(p.horizon, horizon))
    one = simulate([p], [7], steps=horizon, keep=months)[outcome].values[0]
    ten = simulate([p] * 10, list(range(10)), steps=horizon, keep=[horizon])[outcome].values[:, 0].mean()
    print(f"| {label} | " + " | ".join(f"{v:.2f}" for v in one) + f" | {ten:.2f} |")


def both(label: str, p: Params, outcome: str, month: int = 60) -> None:
    vals = []
    for mode in ("alliance", "traditional"):
        q = p.replace(commissioning=mode, horizon=max(p.horizon, month))
        one = simulate([q], [7], steps=month, keep=[month])[outcome].values[0, 0]
        ten = simulate([q] * 10, list(range(10)), steps=month, keep=[month])[outcome].values[:, 0].mean()
        vals.append((one, ten))
    print(f"| {label} | {vals[0][0]:.2f} / {vals[1][0]:.2f} | {vals[0][1]:.2f} / {vals[1][1]:.2f} |")


if __name__ == "__main__":
    d = preset("default")
    print("## 1 fragmentation")
    row("fragmentation, alliance", d, "fragmentation")
    row("fragmentation, traditional", d.replace(commissioning="traditional"), "fragmentation")
    row("fragmentation, alliance with A off", d.replace(disabled=("A",)), "fragmentation")
    row("governance cost, alliance", d, "governance_cost")
    both("access month 60", d, "access")
    both("fragmentation simple_needs", preset("simple_needs"), "fragmentation")
    both("mean trust", d, "mean_trust")
    print("## 2 senior")
    s = preset("no_senior_buy_in")
    for o in ("mean_trust", "low_effort", "fragmentation", "governance_cost"):
        row(f"{o}, no_senior_buy_in", s, o)
    for o in ("mean_trust", "fragmentation"):
        row(f"{o}, traditional", s.replace(commissioning="traditional"), o)
    both("value no_senior", s, "value")
    row("fragmentation, default IPT6 off", d.replace(disabled=("IPT6",)), "fragmentation")
    row("fragmentation, no_senior + monitoring 1", s.replace(monitoring=1.0), "fragmentation")
    print("## 3 trust")
    lt = preset("low_trust_start")
    row("trust alliance low_trust", lt, "mean_trust")
    row("trust traditional low_trust", lt.replace(commissioning="traditional"), "mean_trust")
    row("frag alliance low_trust", lt, "fragmentation")
    row("frag traditional low_trust", lt.replace(commissioning="traditional"), "fragmentation")
    row("trust alliance low_trust senior 0", lt.replace(senior_commitment=0.0), "mean_trust")
    au = preset("austerity")
    both("fragmentation austerity", au, "fragmentation")
    both("fragmentation austerity monitoring 0.1", au.replace(monitoring=0.1), "fragmentation")
    both("access austerity", au, "access")
    lt2 = preset("leadership_turnover")
    row("trust leadership_turnover", lt2, "mean_trust", [0, 30, 42, 54, 66, 84])
    row("frag leadership_turnover", lt2, "fragmentation", [0, 30, 42, 54, 66, 84])
    row("frag leadership_turnover trad", lt2.replace(commissioning="traditional"), "fragmentation",
        [0, 30, 42, 54, 66, 84])
    print("## 4 local")
    pb = preset("place_based")
    for label, p in (("default", d), ("place_based", pb), ("default, B off", d.replace(disabled=("B",))),
                     ("default, IPT3 off", d.replace(disabled=("IPT3",)))):
        vals = []
        for o in ("fragmentation", "discontinuity", "access", "needs_met", "experience", "goal_alignment"):
            vals.append(simulate([p] * 10, list(range(10)), keep="last")[o].values[:, 0].mean())
        print(f"| {label} | " + " | ".join(f"{v:.2f}" for v in vals) + " |")
    both("fragmentation place_based", pb, "fragmentation")
    print("## 5 culture")
    cr = preset("culture_ready")
    for label, p in (("default", d), ("culture_ready", cr), ("culture_ready, IPT5+7 off",
                                                              cr.replace(disabled=("IPT5", "IPT7"))),
                     ("default, readiness 0.1", d.replace(culture_readiness=0.1))):
        sc = [simulate([p.replace(commissioning=m)] * 10, list(range(10)), keep="last")["systemic_change"].values[:, 0]
              .mean() for m in ("alliance", "traditional")]
        ds = simulate([p] * 10, list(range(10)), keep="last")
        print(f"| {label} | {sc[0]:.2f} / {sc[1]:.2f} | {ds['handoffs'].values.mean():.2f} | "
              f"{ds['access'].values.mean():.2f} | {ds['fragmentation'].values.mean():.2f} |")
