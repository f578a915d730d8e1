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

from sim.engine.compiled import formula
from sim.model import constants as kc
from sim.model.draws import Purpose, uniform

#: Provider sectors (the statutory two first).
SECTORS: tuple[str, ...] = ("NHS", "council social care", "voluntary/community", "private")
#: The registry's constants of each sector's relative size, in the order of :data:`SECTORS`.
_SECTOR_SIZE = (kc.SECTOR_SIZE_NHS, kc.SECTOR_SIZE_COUNCIL, kc.SECTOR_SIZE_VOLUNTARY, kc.SECTOR_SIZE_PRIVATE)


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


#: A provider's inherited states, and each one's (base, spread, purpose of its draw) in the registry: spread
#: ``None`` means the same for every provider, no draw.
PROVIDER_STATES = ("commitment", "alignment", "orientation", "role_flexibility", "practice")
_INHERITED = {"commitment": (kc.INHERITED_COMMITMENT_BASE, kc.INHERITED_COMMITMENT_SPREAD, Purpose.COMMITMENT0),
              "alignment": (kc.INHERITED_ALIGNMENT_BASE, kc.INHERITED_ALIGNMENT_SPREAD, Purpose.ALIGNMENT0),
              "orientation": (kc.INHERITED_ORIENTATION_BASE, kc.INHERITED_ORIENTATION_SPREAD, Purpose.ORIENTATION0),
              "role_flexibility": (kc.INHERITED_ROLE_FLEXIBILITY, None, None),
              "practice": (kc.INHERITED_PRACTICE, None, None)}


@formula
def inherited_value(base, spread, u):
    """A provider's starting value of an inherited state: ``base`` plus up to ``spread``, by the draw ``u``."""
    return base + spread * u


def fresh_provider(K, seed, month, index, key: str) -> np.ndarray:
    """A provider's starting value of an inherited state (drawn per provider where it varies) for scenarios with
    constants ``K (S, ...)``; ``month`` 0 at the start, or the month a newcomer arrives."""
    base, spread, purpose = _INHERITED[key]
    if spread is not None:
        return inherited_value(K[:, base, None], K[:, spread, None], uniform(seed, month, purpose, index))
    return np.broadcast_to(K[:, base, None], np.broadcast(np.asarray(seed), np.asarray(index)).shape).copy()


def initial_world(p: dict[str, np.ndarray], K: np.ndarray, seeds: np.ndarray, n_providers: int, n_localities: int,
                  n_domains: int) -> dict[str, np.ndarray]:
    """Initial state arrays for ``S`` scenarios that share the numbers of providers, localities, domains.

    ``p`` maps parameter names to arrays of shape ``(S,)``; ``K`` holds the scenarios' constants ``(S, ...)``
    (:func:`sim.model.constants.constant_matrix`); ``seeds`` has shape ``(S,)``.
    """
    P, L, D = n_providers, n_localities, n_domains
    seed = np.asarray(seeds, dtype=np.uint64)
    S = len(seed)
    s3, s2 = seed[:, None, None], seed[:, None]
    i, loc, d = np.arange(P), np.arange(L), np.arange(D)

    column = {name: K[:, getattr(kc, name.upper()), None, None] for name in (
        "secondary_capacity_share", "capacity_variation", "home_focus", "cross_sector_distrust", "need_profile_floor")}
    sector = sectors(p["sector_mix"], P)
    primary = (i % D)[:, None] == d[None, :]
    size = np.take_along_axis(K[:, _SECTOR_SIZE], sector, axis=-1)
    secondary, variation = column["secondary_capacity_share"], column["capacity_variation"]
    raw = size[..., None] * (secondary + (1.0 - secondary) * primary) * (
        (1.0 - 0.5 * variation) + variation * uniform(s3, 0, Purpose.CAPACITY, i[None, :, None], d[None, None, :]))
    capacity = raw * (p["capacity_ratio"] * K[:, kc.BASE_NEED] * L / raw.sum(axis=(-2, -1)))[:, None, None]
    home = column["home_focus"]
    coverage = np.broadcast_to((1.0 - home) / L + home * ((i % L)[:, None] == loc[None, :]), (S, P, L)).copy()
    norm = np.sqrt(np.sum(coverage * coverage, axis=-1))
    interaction = (coverage @ np.swapaxes(coverage, -1, -2)) / (norm[..., :, None] * norm[..., None, :])
    off_diagonal = 1.0 - np.eye(P)
    interaction = interaction * off_diagonal

    cross = cross_sector(sector)
    u_trust = uniform(s3, 0, Purpose.TRUST0, i[None, :, None], i[None, None, :])
    trust = p["initial_trust"][:, None, None] * (1.0 - column["cross_sector_distrust"] * cross * u_trust) * off_diagonal

    profile = column["need_profile_floor"] + uniform(s3, 0, Purpose.NEED_PROFILE, loc[None, :, None], d[None, None, :])
    start = p["initial_trust"][:, None] * np.ones(P)
    return {
        "sector": sector, "capacity": capacity, "coverage": coverage, "interaction": interaction,
        "cross": cross, "trust": trust,
        "commissioner_trust": start.copy(), "trust_in_commissioner": start.copy(),
        **{key: fresh_provider(K, s2, 0, i[None, :], key) for key in PROVIDER_STATES},
        "innovation": np.zeros((S, P)),
        "need_profile": profile / profile.sum(axis=-1, keepdims=True),
        "participation": np.broadcast_to(K[:, kc.INHERITED_PARTICIPATION, None], (S, L)).copy(),
        "confidence": p["community_confidence"][:, None] * np.ones(L),
        "experience": np.broadcast_to(K[:, kc.INITIAL_EXPERIENCE, None], (S, L)).copy(),
        "backlog": np.zeros((S, L, D)),
        "formal": np.broadcast_to(K[:, kc.INHERITED_FORMAL, None], (S, L)).copy(),
        "tailoring": np.zeros((S, L)),
        "pressure": np.zeros((S, L)),
        "whole_system": np.zeros(S),
        "arrangements": np.zeros(S),
        "pooled_share": p["pooled_share"] * p["alliance"],
    }


@formula
def new_need(k, need_profile, shock):
    """This month's new need in a domain: the locality's profile of base need, with multiplicative noise of
    mean 1."""
    noise = k[kc.NEED_NOISE]
    return k[kc.BASE_NEED] * need_profile * np.exp(noise * shock - 0.5 * noise * noise)


def budget_factor(austerity, cut_rate, month):
    """Real budget relative to month 0: austerity 1 cuts it by ``cut_rate`` a year, compounding monthly."""
    return (1.0 - cut_rate * austerity) ** (month / 12.0)
