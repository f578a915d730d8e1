"""Initial state of the world, for one scenario or a batch of scenarios of the same size.

Written once over arrays with a leading scenario axis; the Mesa model calls it with a batch of one
and builds its agents from the result, the vectorised core calls it with the whole batch. All
randomness comes from counter-based draws keyed by the scenario seed (:mod:`sim.draws`).
"""

from __future__ import annotations

import numpy as np

from sim.draws import Purpose, uniform

#: Need arriving per locality per month (arbitrary units; outcomes are shares or ratios).
BASE_NEED = 100.0
#: Month-to-month variation in need (sd of the log).
NEED_NOISE = 0.2
SECTORS: tuple[str, ...] = ("NHS", "council social care", "voluntary/community", "private")
#: Relative size of a provider of each sector.
SECTOR_SIZE = np.array([1.5, 1.2, 0.6, 1.0])
#: Share of a cross-sector pair's starting trust that may be missing (drawn uniformly up to this).
CROSS_SECTOR_DISTRUST = 0.25


def sectors(sector_mix: np.ndarray, n_providers: int) -> np.ndarray:
    """Sector index of each provider ``(S, P)``: statutory providers alternate NHS and council; the
    ``round(sector_mix * P)`` others are voluntary/community and private, two to one."""
    i = np.arange(n_providers)[None, :]
    n_statutory = n_providers - np.rint(sector_mix * n_providers).astype(np.int64)[:, None]
    k = i - n_statutory
    return np.where(i < n_statutory, i % 2, np.where(k % 3 == 2, 3, 2))


def initial_world(p: dict[str, np.ndarray], seeds: np.ndarray, n_providers: int, n_localities: int,
                  n_domains: int) -> dict[str, np.ndarray]:
    """Initial state arrays for ``S`` scenarios that share the numbers of providers, localities, domains.

    ``p`` maps parameter names to arrays of shape ``(S,)``; ``seeds`` has shape ``(S,)``.
    """
    P, L, D = n_providers, n_localities, n_domains
    seed = np.asarray(seeds, dtype=np.uint64)
    s3 = seed[:, None, None]
    i, loc, d = np.arange(P), np.arange(L), np.arange(D)

    sector = sectors(p["sector_mix"], P)
    primary = (i % D)[:, None] == d[None, :]
    raw = SECTOR_SIZE[sector][..., None] * (0.3 + 0.7 * primary) * (
        0.75 + 0.5 * uniform(s3, 0, Purpose.CAPACITY, i[None, :, None], d[None, None, :]))
    capacity = raw * (p["capacity_ratio"] * BASE_NEED * L / raw.sum(axis=(-2, -1)))[:, None, None]

    focus = p["place_based"][:, None, None]
    coverage = (1.0 - focus) / L + focus * ((i % L)[None, :, None] == loc[None, None, :])
    norm = np.sqrt(np.sum(coverage * coverage, axis=-1))
    cosine = (coverage @ np.swapaxes(coverage, -1, -2)) / (norm[..., :, None] * norm[..., None, :])
    off_diagonal = 1.0 - np.eye(P)
    interaction = cosine * (0.3 + 0.7 * p["need_complexity"])[:, None, None] * off_diagonal

    cross = sector[:, :, None] != sector[:, None, :]
    u_trust = uniform(s3, 0, Purpose.TRUST0, i[None, :, None], i[None, None, :])
    trust = p["initial_trust"][:, None, None] * (1.0 - CROSS_SECTOR_DISTRUST * cross * u_trust) * off_diagonal

    s2 = seed[:, None]
    profile = 0.5 + uniform(s3, 0, Purpose.NEED_PROFILE, loc[None, :, None], d[None, None, :])
    assets = (p["community_confidence"] + p["community_capacity"] + p["community_connectedness"]) / 3.0
    return {
        "sector": sector,
        "capacity": capacity,
        "coverage": coverage,
        "interaction": interaction,
        "trust": trust,
        "commitment": 0.3 + 0.2 * uniform(s2, 0, Purpose.COMMITMENT0, i[None, :]),
        "alignment": 0.2 + 0.2 * uniform(s2, 0, Purpose.ALIGNMENT0, i[None, :]),
        "orientation": 0.1 + 0.2 * uniform(s2, 0, Purpose.ORIENTATION0, i[None, :]),
        "innovation": np.zeros((len(seed), P)),
        "need_profile": profile / profile.sum(axis=-1, keepdims=True),
        "community_assets": assets,
        "participation": np.full((len(seed), L), 0.1),
        "experience": np.full((len(seed), L), 0.5),
        "backlog": np.zeros((len(seed), L, D)),
    }


def new_need(need_profile: np.ndarray, shock: np.ndarray) -> np.ndarray:
    """This month's new need ``(..., L, D)``: the locality's profile with multiplicative noise of mean 1 (to 1e-4)."""
    return BASE_NEED * need_profile * np.exp(NEED_NOISE * shock - 0.5 * NEED_NOISE * NEED_NOISE)


def budget_factor(austerity, month):
    """Real budget relative to month 0: austerity 1 cuts it by 20% a year, compounding monthly."""
    return (1.0 - 0.2 * austerity) ** (month / 12.0)
