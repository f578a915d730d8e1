"""Initial state of the world, for one scenario or a batch of scenarios of the same size.

Both commissioning modes start from the **same** world: the arrangement inherited from years of
separate contracts (low commitment to joint work, little alignment, fixed roles, activity-based
assessment habits, no joint pathways, no tailoring). An alliance's advantage has to be built.

Written once over arrays with a leading scenario axis; the Mesa model calls it with a batch of one and
builds its agents from the result, the vectorised core calls it with the whole batch. All randomness
comes from counter-based draws keyed by the scenario seed (:mod:`sim.model.draws`).
"""

from __future__ import annotations

import numpy as np

from sim.model.draws import Purpose, uniform
from sim.model.elementwise import formula

#: Need arriving per locality per month (arbitrary units; outcomes are shares or ratios).
BASE_NEED = 100.0
#: Month-to-month variation in need (sd of the log; assumed).
NEED_NOISE = 0.2
#: Provider sectors (the statutory two first).
SECTORS: tuple[str, ...] = ("NHS", "council social care", "voluntary/community", "private")
#: Relative size of a provider of each sector (assumed).
SECTOR_SIZE = np.array([1.5, 1.2, 0.6, 1.0])
#: Share of a cross-sector pair's starting trust that may be missing (drawn uniformly up to this; assumed).
#: Cross-sector pairs are those across the statutory/non-statutory line (:func:`cross_sector`).
CROSS_SECTOR_DISTRUST = 0.25
#: Share of a provider's capacity spent in its home locality (the rest spread evenly; assumed).
HOME_FOCUS = 0.5
#: Trust toward and from a newcomer, as a share of the starting trust: no relationships yet (assumed).
STRANGER_TRUST = 0.5
#: Inherited state of separate contracts (assumed: near the traditional steady state, so traditional
#: commissioning does not drift).
INHERITED = {"commitment": (0.3, 0.2), "alignment": (0.1, 0.1), "orientation": (0.05, 0.1),
             "role_flexibility": 0.02, "practice": 1.0, "participation": 0.1, "formal": 0.05}


def sectors(sector_mix: np.ndarray, n_providers: int) -> np.ndarray:
    """Sector index of each provider ``(S, P)``: statutory providers alternate NHS and council; the
    ``round(sector_mix * P)`` others are voluntary/community and private, two to one."""
    i = np.arange(n_providers)[None, :]
    n_statutory = n_providers - np.rint(sector_mix * n_providers).astype(np.int64)[:, None]
    k = i - n_statutory
    return np.where(i < n_statutory, i % 2, np.where(k % 3 == 2, 3, 2))


def cross_sector(sector: np.ndarray) -> np.ndarray:
    """1 for a pair ``(S, P, P)`` across the statutory/non-statutory line: different sectors, at least one
    voluntary/community or private (different records, governance and cultures); the NHS-council
    boundary is part of every handoff's base loss."""
    outside = sector >= 2
    return ((sector[:, :, None] != sector[:, None, :]) & (outside[:, :, None] | outside[:, None, :])).astype(float)


# A provider's inherited states, and (derived from INHERITED, not constants of their own) each one's
# (base, spread, purpose of its draw; spread 0: the same for every provider, no draw): numbers that compiled
# code (a newcomer in the core) reads as constants.
PROVIDER_STATES = ("commitment", "alignment", "orientation", "role_flexibility", "practice")
_PURPOSE = {"commitment": Purpose.COMMITMENT0, "alignment": Purpose.ALIGNMENT0, "orientation": Purpose.ORIENTATION0}
PROVIDER_DRAWS = tuple((float(INHERITED[k][0]), float(INHERITED[k][1]), int(_PURPOSE[k])) if k in _PURPOSE
                       else (float(INHERITED[k]), 0.0, 0) for k in PROVIDER_STATES)


@formula
def inherited_value(base, spread, u):
    """A provider's starting value of an inherited state: ``base`` plus up to ``spread``, by the draw ``u``."""
    return base + spread * u


def fresh_provider(seed, month, index, key: str) -> np.ndarray:
    """A provider's starting value of an inherited state (drawn per provider where it varies); ``month``
    0 at the start, or the month a newcomer arrives."""
    base, spread, purpose = PROVIDER_DRAWS[PROVIDER_STATES.index(key)]
    if spread:
        return inherited_value(base, spread, uniform(seed, month, purpose, index))
    return np.full(np.broadcast(np.asarray(seed), np.asarray(index)).shape, base)


def initial_world(p: dict[str, np.ndarray], seeds: np.ndarray, n_providers: int, n_localities: int,
                  n_domains: int) -> dict[str, np.ndarray]:
    """Initial state arrays for ``S`` scenarios that share the numbers of providers, localities, domains.

    ``p`` maps parameter names to arrays of shape ``(S,)``; ``seeds`` has shape ``(S,)``.
    """
    P, L, D = n_providers, n_localities, n_domains
    seed = np.asarray(seeds, dtype=np.uint64)
    S = len(seed)
    s3, s2 = seed[:, None, None], seed[:, None]
    i, loc, d = np.arange(P), np.arange(L), np.arange(D)

    sector = sectors(p["sector_mix"], P)
    primary = (i % D)[:, None] == d[None, :]
    raw = SECTOR_SIZE[sector][..., None] * (0.3 + 0.7 * primary) * (
        0.75 + 0.5 * uniform(s3, 0, Purpose.CAPACITY, i[None, :, None], d[None, None, :]))
    capacity = raw * (p["capacity_ratio"] * BASE_NEED * L / raw.sum(axis=(-2, -1)))[:, None, None]
    coverage = np.broadcast_to((1.0 - HOME_FOCUS) / L + HOME_FOCUS * ((i % L)[:, None] == loc[None, :]),
                               (S, P, L)).copy()
    norm = np.sqrt(np.sum(coverage * coverage, axis=-1))
    interaction = (coverage @ np.swapaxes(coverage, -1, -2)) / (norm[..., :, None] * norm[..., None, :])
    off_diagonal = 1.0 - np.eye(P)
    interaction = interaction * off_diagonal

    cross = cross_sector(sector)
    u_trust = uniform(s3, 0, Purpose.TRUST0, i[None, :, None], i[None, None, :])
    trust = p["initial_trust"][:, None, None] * (1.0 - CROSS_SECTOR_DISTRUST * cross * u_trust) * off_diagonal

    profile = 0.5 + uniform(s3, 0, Purpose.NEED_PROFILE, loc[None, :, None], d[None, None, :])
    start = p["initial_trust"][:, None] * np.ones(P)
    return {
        "sector": sector, "capacity": capacity, "coverage": coverage, "interaction": interaction,
        "cross": cross, "trust": trust,
        "commissioner_trust": start.copy(), "trust_in_commissioner": start.copy(),
        **{k: fresh_provider(s2, 0, i[None, :], k) for k in PROVIDER_STATES},
        "innovation": np.zeros((S, P)),
        "need_profile": profile / profile.sum(axis=-1, keepdims=True),
        "participation": np.full((S, L), INHERITED["participation"]),
        "confidence": p["community_confidence"][:, None] * np.ones(L),
        "experience": np.full((S, L), 0.5),
        "backlog": np.zeros((S, L, D)),
        "formal": np.full((S, L), INHERITED["formal"]),
        "tailoring": np.zeros((S, L)),
        "pressure": np.zeros((S, L)),
        "whole_system": np.zeros(S),
        "arrangements": np.zeros(S),
        "pooled_share": p["pooled_share"] * p["alliance"],
    }


@formula
def new_need(need_profile: np.ndarray, shock: np.ndarray) -> np.ndarray:
    """This month's new need ``(..., L, D)``: the locality's profile with multiplicative noise of mean 1."""
    return BASE_NEED * need_profile * np.exp(NEED_NOISE * shock - 0.5 * NEED_NOISE * NEED_NOISE)


def budget_factor(austerity, month):
    """Real budget relative to month 0: austerity 1 cuts it by 20% a year, compounding monthly."""
    return (1.0 - 0.2 * austerity) ** (month / 12.0)
