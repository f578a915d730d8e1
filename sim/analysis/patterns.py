"""Pattern-oriented tests of the model (Grimm et al. 2005, Science 310:987-991).

Each stylised fact the model must reproduce is a measured pattern with a target range. Every
measurement uses the vectorised core with paired seeds (alliance and traditional commissioning share
each seed, so their difference is not noise between worlds). ``experiments/patterns.py`` prints the
table; ``tests/test_patterns.py`` asserts it.

| # | pattern | target |
|---|---|---|
| P1 | month-0 parity | the alliance's fragmentation advantage at month 0 within ±0.01 |
| P2 | time to effect | 90% of the month-120 advantage reached between months 30 and 60 |
| P3 | modest default effect | relative fragmentation reduction at month 60 in [10%, 40%] |
| P4 | alliances can fail | worse on fragmentation in 10-50% of contexts, worse on value in some |
| P5 | contexts matter in the seed's direction | advantage higher at the top of each context's range by >= 0.01 |
| P6 | trust lost faster than gained | trust falls at least twice as fast as it rebuilds |
| P7 | traditional is stationary | traditional fragmentation drifts by at most 0.03 from month 24 to 120 |
| P8 | free-riding decays, not vanishes | low-effort share falls over time but stays above 0 |
| P9 | nothing inert | every numeric parameter moves some outcome by >= 0.01 across its range |
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.analysis.targets import target
from sim.model.core import simulate
from sim.model.outcomes import OUTCOMES
from sim.params import Params

#: Contexts the seed names, whose top must favour the alliance (P5): the schema's parameters with direction "+".
SEED_CONTEXTS: tuple[str, ...] = tuple(s.name for s in Params.schema() if s.direction == "+")


@dataclass
class Sizes:
    """Sample sizes. ``full`` for the printed table; ``fast`` for the test suite (smaller, still sufficient)."""

    parity_seeds: int = 200
    timing_seeds: int = 100
    effect_seeds: int = 100
    contexts: int = 2000
    direction_seeds: int = 100
    trust_seeds: int = 50
    stationary_seeds: int = 100
    free_riding_seeds: int = 100
    inert_seeds: int = 30

    @classmethod
    def fast(cls) -> Sizes:
        return cls(parity_seeds=200, timing_seeds=60, effect_seeds=60, contexts=1000, direction_seeds=60,
                   trust_seeds=30, stationary_seeds=60, free_riding_seeds=60, inert_seeds=16)


@dataclass
class Result:
    id: str
    pattern: str
    measured: float
    target: str
    passed: bool
    detail: str = ""
    table: pd.DataFrame | None = field(default=None, repr=False)


def paired(base: Params, seeds: int, *, keep=None, workers: int = 1, seed0: int = 1000) -> tuple:
    """Alliance and traditional runs of ``base`` over ``seeds`` paired seeds: two Datasets."""
    alliance = base.replace(commissioning="alliance")
    traditional = base.replace(commissioning="traditional")
    s = list(range(seed0, seed0 + seeds))
    ds = simulate([alliance] * seeds + [traditional] * seeds, s + s, keep=keep, workers=workers)
    return ds.isel(scenario=slice(0, seeds)), ds.isel(scenario=slice(seeds, 2 * seeds))


def advantage(base: Params, seeds: int, *, keep=None, workers: int = 1) -> np.ndarray:
    """Fragmentation advantage (traditional - alliance) per seed and kept step ``(seeds, steps)``."""
    a, t = paired(base, seeds, keep=keep, workers=workers)
    return t["fragmentation"].values - a["fragmentation"].values


def p1_parity(sizes: Sizes, workers: int = 1) -> Result:
    adv = advantage(Params(horizon=1), sizes.parity_seeds, keep=[0], workers=workers)[:, 0]
    m = float(adv.mean())
    t = target("P1")
    return Result("P1", "month-0 parity (default context)", m, f"advantage in {t.range_text}", bool(t.met(m)),
                  f"mean advantage at month 0 over {sizes.parity_seeds} paired seeds")


def p2_timing(sizes: Sizes, workers: int = 1) -> Result:
    adv = advantage(Params(horizon=120), sizes.timing_seeds, workers=workers).mean(axis=0)
    final = adv[110:121].mean()  # month-120 advantage, averaged over the last year's noise
    month = int(np.argmax(adv >= 0.9 * final)) if final > 0 else -1
    t = target("P2")
    return Result("P2", "time to 90% of the month-120 advantage", month, f"month in {t.range_text}",
                  bool(t.met(month)), f"month-120 advantage {final:.3f}")


def p3_effect(sizes: Sizes, workers: int = 1) -> Result:
    a, t = paired(Params(), sizes.effect_seeds, keep="last", workers=workers)
    trad, alli = t["fragmentation"].values.mean(), a["fragmentation"].values.mean()
    rel = float((trad - alli) / trad)
    t = target("P3")
    return Result("P3", "relative fragmentation reduction at month 60", rel, f"in {t.range_text}",
                  bool(t.met(rel)), f"traditional {trad:.3f}, alliance {alli:.3f}")


def context_sample(n: int, seed: int = 7) -> pd.DataFrame:
    """``n`` contexts drawn uniformly over every context and lever range (mechanisms at defaults)."""
    rng = np.random.default_rng(seed)
    rows = {}
    for s in Params.schema():
        if s.group in ("context", "lever") and s.type in (int, float):
            values = rng.uniform(s.low, s.high, n)
            rows[s.name] = np.rint(values).astype(int) if s.type is int else values
    return pd.DataFrame(rows)


def p4_failure(sizes: Sizes, workers: int = 1) -> Result:
    contexts = context_sample(sizes.contexts)
    table = pd.concat([contexts.assign(commissioning="alliance"), contexts.assign(commissioning="traditional")],
                      ignore_index=True)
    seeds = np.tile(np.arange(len(contexts)) + 5000, 2)
    ds = simulate(table, seeds, keep="last", workers=workers)
    n = len(contexts)
    frag = ds["fragmentation"].values[:, 0]
    value = ds["value"].values[:, 0]
    worse = frag[:n] > frag[n:]
    worse_value = value[:n] < value[n:]
    share, share_value = float(worse.mean()), float(worse_value.mean())
    # where failures concentrate: standardised difference of each context between failures and the rest
    names = [c for c in contexts.columns]
    diff = {c: (contexts.loc[worse, c].mean() - contexts.loc[~worse, c].mean()) / contexts[c].std() for c in names}
    order = sorted(diff, key=lambda c: diff[c])
    detail = (f"worse on value in {share_value:.0%}; failures have lower " +
              ", ".join(f"{c} ({diff[c]:+.2f} sd)" for c in order[:4] if diff[c] < 0))
    frame = pd.DataFrame({"context": list(diff), "failures_minus_rest_sd": [diff[c] for c in diff]})
    return Result("P4", "alliance worse than traditional on fragmentation", share,
                  "share in [0.10, 0.50], and worse on value in some", 0.10 <= share <= 0.50 and share_value > 0,
                  detail, frame.sort_values("failures_minus_rest_sd"))


def p5_directions(sizes: Sizes, workers: int = 1) -> Result:
    rows, base = [], Params()
    for name in SEED_CONTEXTS:
        spec = Params.spec(name)
        low = advantage(base.replace(**{name: spec.low}), sizes.direction_seeds, keep="last", workers=workers)
        high = advantage(base.replace(**{name: spec.high}), sizes.direction_seeds, keep="last", workers=workers)
        rows.append({"context": name, "advantage_low": low.mean(), "advantage_high": high.mean(),
                     "difference": high.mean() - low.mean()})
    frame = pd.DataFrame(rows)
    worst = frame.loc[frame["difference"].idxmin()]
    t = target("P5")
    return Result("P5", "advantage higher at the top of each seed context", float(worst["difference"]),
                  f"every difference {t.range_text}", bool(t.met(frame["difference"].to_numpy()).all()),
                  f"smallest: {worst['context']} {worst['difference']:+.3f}", frame)


def p6_trust_asymmetry(sizes: Sizes, workers: int = 1) -> Result:
    senior = Params().senior_commitment
    p = Params(horizon=108, commissioning="alliance",
               events=("leadership_change@36=0", f"leadership_change@72={senior}"))
    ds = simulate([p] * sizes.trust_seeds, list(range(sizes.trust_seeds)), workers=workers)
    trust = ds["mean_trust"].values.mean(axis=0)
    fall = (trust[36] - trust[48]) / 12.0
    rise = (trust[84] - trust[72]) / 12.0
    ratio = float(fall / rise) if rise > 0 else float("inf")
    t = target("P6")
    return Result("P6", "trust falls faster than it rebuilds (leadership to 0 and back)", ratio,
                  f"fall rate / rebuild rate {t.range_text}", bool(fall > 0 and rise > 0 and t.met(ratio)),
                  f"fall {fall:.4f}/month after month 36, rebuild {rise:.4f}/month after month 72")


def p7_stationary(sizes: Sizes, workers: int = 1) -> Result:
    p = Params(horizon=120, commissioning="traditional", austerity=0.0)
    ds = simulate([p] * sizes.stationary_seeds, list(range(sizes.stationary_seeds)), workers=workers)
    frag = ds["fragmentation"].values.mean(axis=0)
    drift = float(frag[116:121].mean() - frag[22:27].mean())
    t = target("P7")
    return Result("P7", "traditional fragmentation drift, months 24 to 120", drift, f"drift in {t.range_text}",
                  bool(t.met(drift)), f"month 24 {frag[22:27].mean():.3f}, month 120 {frag[116:121].mean():.3f}")


def p8_free_riding(sizes: Sizes, workers: int = 1) -> Result:
    p = Params(horizon=120, commissioning="alliance", pooled_share=1.0, monitoring=0.1)
    ds = simulate([p] * sizes.free_riding_seeds, list(range(sizes.free_riding_seeds)), workers=workers)
    low = ds["low_effort"].values.mean(axis=0)
    early, late = float(low[1:13].mean()), float(low[109:121].mean())
    t, fall = target("P8"), target("P8fall")
    return Result("P8", "share of low-effort providers, first year -> tenth year", late,
                  f"falls, and stays {t.range_text}", bool(late < early and fall.met(early - late) and t.met(late)),
                  f"first year {early:.3f}, tenth {late:.3f}")


def p9_nothing_inert(sizes: Sizes, workers: int = 1) -> Result:
    rows, base = [], Params()
    names = [s.name for s in Params.schema() if s.type in (int, float)]
    for name in names:
        spec = Params.spec(name)
        moved = 0.0
        for mode in ("alliance", "traditional"):
            b = base.replace(commissioning=mode)
            n = sizes.inert_seeds
            ends = []
            for value in (spec.low, spec.high):  # each at its own horizon's end
                ds = simulate([b.replace(**{name: value})] * n, list(range(n)), keep="last", workers=workers)
                ends.append({o: float(ds[o].values[:, 0].mean()) for o in OUTCOMES})
            moved = max(moved, max(abs(ends[1][o] - ends[0][o]) for o in OUTCOMES))
        rows.append({"parameter": name, "largest_move": moved})
    frame = pd.DataFrame(rows)
    worst = frame.loc[frame["largest_move"].idxmin()]
    t = target("P9")
    return Result("P9", "every numeric parameter moves some outcome", float(worst["largest_move"]),
                  f"every largest move {t.range_text}", bool(t.met(frame["largest_move"].to_numpy()).all()),
                  f"least: {worst['parameter']} {worst['largest_move']:.3f}", frame)


def ablation(seeds: int = 100, workers: int = 1) -> pd.DataFrame:
    """The default month-60 fragmentation advantage with each middle-range theory, and each rule, switched
    off (mean and 95% interval over paired seeds): how much of the effect each theory carries."""
    rows = []
    for off in [(), ("A",), ("B",), ("C",), *((f"IPT{k}",) for k in range(1, 8)), ("A", "B", "C")]:
        adv = advantage(Params(disabled=off), seeds, keep="last", workers=workers)[:, 0]
        half = 1.96 * adv.std(ddof=1) / np.sqrt(len(adv))
        rows.append({"switched_off": ",".join(off) or "(none)", "advantage": adv.mean(),
                     "low": adv.mean() - half, "high": adv.mean() + half})
    frame = pd.DataFrame(rows)
    frame["share_of_effect_removed"] = 1.0 - frame["advantage"] / frame["advantage"].iloc[0]
    return frame


PATTERNS: dict[str, Callable[[Sizes, int], Result]] = {
    "P1": p1_parity, "P2": p2_timing, "P3": p3_effect, "P4": p4_failure, "P5": p5_directions,
    "P6": p6_trust_asymmetry, "P7": p7_stationary, "P8": p8_free_riding, "P9": p9_nothing_inert,
}


def measure(which: list[str] | None = None, sizes: Sizes | None = None, workers: int = 1) -> list[Result]:
    """Measure the patterns ``which`` (default all) and return their results in order."""
    sizes = Sizes() if sizes is None else sizes
    return [PATTERNS[k](sizes, workers) for k in (which or list(PATTERNS))]


def table(results: list[Result]) -> str:
    lines = ["| # | pattern | measured | target | met | detail |", "|---|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r.id} | {r.pattern} | {r.measured:.3f} | {r.target} | {'yes' if r.passed else 'NO'} | "
                     f"{r.detail} |")
    return "\n".join(lines)
