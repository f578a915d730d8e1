"""Care pathways: service users' need episodes walked through providers, and fragmentation counted from them.

Each month every locality sends :data:`EPISODES` sampled need episodes through its providers. An
episode is simple (one component) or, with chance ``need_complexity``, complex: 2 to D components in
consecutive need domains, starting from a domain drawn from the locality's need profile. Each
component goes to a provider:

- after the first, the provider that has the person keeps the next component with chance
  ``keep`` (its role flexibility, IPT7, or the locality team, IPT3); otherwise
- a provider is drawn in proportion to its capacity in that domain in that locality.

A change of provider is a **handoff**. A handoff is *lost* (no one takes responsibility: a **gap**)
with chance ``handoff_loss × (1 + cross-sector penalty) × (1 + pressure) × (1 - coordination)``:
stretched services (last month's unmet share) drop more referrals; coordination combines the pair's
informal cooperation (trust and effort), the locality's formal pathways (IPT1), community navigation
(IPT3) and the accountability that monitoring brings (either mode). A completed handoff is **duplicated** (the receiving provider repeats the
assessment) with chance ``reassessment × practice × (1 - information shared)``.

From each episode's actual contact sequence: Bice-Boxerman continuity of care
``COC = (Σ n_j² - n) / (n (n - 1))`` and usual-provider continuity ``UPC = max n_j / n`` (n contacts,
n_j with provider j; Bice & Boxerman 1977, Med Care 15(4):347-349).

Every draw is keyed by (seed, month, locality, episode, component) (:func:`sim.draws.uniform3`), so a
locality's pathways are the same numbers in the Mesa model (one community at a time) and in the core.
"""

from __future__ import annotations

import numpy as np

from sim.draws import Purpose, uniform3

#: Episodes sampled per locality and month (a sampling resolution, not a model constant).
EPISODES = 12
#: Extra chance of loss and repetition at a handoff across sectors (different records, cultures; assumed).
CROSS_SECTOR_PENALTY = 1.0

#: How much more often a handoff is lost into a fully stretched service (1 - access last month; assumed).
PRESSURE_LOSS = 2.0

#: Most of a handoff's loss that informal cooperation, or formal joint pathways, can prevent (assumed).
INFORMAL_REACH = 0.25
FORMAL_REACH = 0.3
#: Most of a repeat assessment that records shared through formal pathways can prevent (assumed).
SHARED_RECORDS = 0.5

#: Counts returned per locality by :func:`walk`.
COUNTS = ("episodes", "gap_episodes", "components", "duplicated", "handoffs", "kept", "later",
          "multi", "coc", "upc", "discontinuity")


def choice_table(coverage, capacity):
    """Walker alias tables ``(prob, alias)``, each ``(..., L, D, P)``, for drawing the provider of a component
    in locality l, domain d in proportion to its capacity there (fixed for a run). One uniform draw
    picks a provider exactly, in constant time (Walker 1977; Vose 1991)."""
    weight = np.swapaxes(coverage, -1, -2)[..., :, None, :] * np.swapaxes(capacity, -1, -2)[..., None, :, :]
    return alias_table(weight)


def alias_table(weight):
    """Alias tables for the last axis of ``weight``: pair the column with least mass with the one with most."""
    P = weight.shape[-1]
    q = weight * (P / np.sum(weight, axis=-1, keepdims=True))
    prob = np.ones(weight.shape)
    alias = np.broadcast_to(np.arange(P), weight.shape).copy()
    done = np.zeros(weight.shape, dtype=bool)
    for _ in range(P - 1):
        small = np.argmin(np.where(done, np.inf, q), axis=-1)[..., None]
        large = np.argmax(np.where(done, -np.inf, q), axis=-1)[..., None]
        q_small = np.take_along_axis(q, small, axis=-1)
        np.put_along_axis(prob, small, np.minimum(q_small, 1.0), axis=-1)
        np.put_along_axis(alias, small, large, axis=-1)
        np.put_along_axis(q, large, np.take_along_axis(q, large, axis=-1) - (1.0 - q_small), axis=-1)
        np.put_along_axis(done, small, True, axis=-1)
    return prob, alias


def _draw_provider(table, flat_cell, u):
    """Provider for each draw: column ``floor(u P)``, kept with its probability or swapped for its alias."""
    prob, alias = table
    P = prob.shape[-1]
    x = u * P
    column = np.minimum(x.astype(np.int64), P - 1)
    index = flat_cell * P + column
    keep = (x - column) < _take(prob, index)
    return np.where(keep, column, _take(alias, index))


def profile_table(need_profile):
    """Cumulative need profile ``(..., L, D)`` for drawing an episode's first domain."""
    cdf = np.cumsum(need_profile, axis=-1)
    cdf[..., -1] = 2.0
    return cdf


def pair_informal(trust, effort):
    """Informal cooperation of each provider pair ``(..., P, P)``: mutual trust times both efforts."""
    return 0.5 * (trust + np.swapaxes(trust, -1, -2)) * effort[..., :, None] * effort[..., None, :]


def _take(table, index):
    """``table[s, ..., index[s, ...]]`` with the table's trailing axes flattened: ``index`` ``(S, ...)``
    holds flat positions within each scenario's slice. Plain fancy indexing on a flat view, which is
    much cheaper than ``take_along_axis`` for these small gathers."""
    S = table.shape[0]
    size = table.size // S
    offset = (np.arange(S, dtype=np.int64) * size).reshape((S,) + (1,) * (index.ndim - 1))
    return table.reshape(-1)[index + offset]


def _gather_pair(table, a, b):
    """``table[s, a, b]`` for index arrays ``a, b`` ``(S, L, E)``; ``table`` is ``(S, P, P)``."""
    return _take(table, a * table.shape[-1] + b)


def _gather_provider(values, p):
    """``values[s, p]`` for ``values`` ``(S, P)`` and ``p`` ``(S, L, E)``."""
    return _take(values, p)


def walk(seed, month, localities, *, complexity, profile_cdf, choice, keep, informal, formal, navigation,
         pressure, accountability, cross, whole_system, handoff_loss, reassessment, practice, alignment,
         n_domains) -> dict[str, np.ndarray]:
    """Walk this month's sampled episodes through providers; returns counts per locality ``(S, L)``.

    Shapes: ``seed (S,)``, ``localities (L,)`` (their indices, which key the draws),
    ``complexity, whole_system, handoff_loss, reassessment (S,)``, ``profile_cdf (S, L, D)``,
    ``choice (prob, alias)`` each ``(S, L, D, P)`` from :func:`choice_table`, ``keep (S, L, P)``, ``informal, cross (S, P, P)``,
    ``formal, navigation, pressure (S, L)``, ``accountability (S,)``, ``practice, alignment (S, P)``.
    """
    D, E = n_domains, EPISODES
    S, L = len(seed), len(localities)
    seed3 = np.asarray(seed, dtype=np.uint64)[:, None, None]
    episode_key = np.asarray(localities, dtype=np.int64)[None, :, None] * E + np.arange(E)[None, None, :]
    u_complex, u_size, u_start = uniform3(seed3, month, Purpose.EPISODE, episode_key, 0)
    complex_ = u_complex < complexity[:, None, None]
    size = np.where(complex_, 2 + np.floor(u_size * (D - 1)).astype(np.int64), 1)  # contacts, 1..D
    first = np.zeros((S, L, E), dtype=np.int64)  # domain of the first component, by inverse CDF
    for d in range(D - 1):
        first += profile_cdf[:, :, None, d] < u_start

    formal3 = formal[:, :, None]
    unmanaged = (1.0 - navigation[:, :, None]) * (1.0 - FORMAL_REACH * formal3) * (1.0 - accountability[:, None, None])
    loss_base = handoff_loss[:, None, None] * (1.0 + PRESSURE_LOSS * pressure[:, :, None])
    cross_weight = CROSS_SECTOR_PENALTY * (1.0 - whole_system)[:, None, None]
    reassess = reassessment[:, None, None]
    providers = np.empty((S, L, E, D), dtype=np.int64)
    gap = np.zeros((S, L, E), dtype=bool)
    duplicated = np.zeros((S, L, E))
    handoffs = np.zeros((S, L, E))
    kept = np.zeros((S, L, E))
    row = np.arange(L)[None, :, None] * D  # (locality, domain) cell of each draw, flattened
    for k in range(D):
        u_choice, u_loss, u_repeat = uniform3(seed3, month, Purpose.CONTACT, episode_key, k)
        cell = row + np.mod(first + k, D)
        if k == 0:
            providers[..., 0] = _draw_provider(choice, cell, u_choice)
            continue
        active = k < size
        prev = providers[..., k - 1]
        stay = _take(keep, np.arange(L)[None, :, None] * keep.shape[-1] + prev)
        keeps = u_choice < stay
        redrawn = _draw_provider(choice, cell, np.minimum((u_choice - stay) / np.maximum(1.0 - stay, 1e-12), 1.0))
        current = np.where(keeps, prev, redrawn)
        providers[..., k] = current
        handoff = active & (current != prev)
        uncoordinated = (1.0 - INFORMAL_REACH * _gather_pair(informal, prev, current)) * unmanaged
        loss = loss_base * (1.0 + cross_weight * _gather_pair(cross, prev, current)) * uncoordinated
        lost = handoff & (u_loss < loss)
        shared = SHARED_RECORDS * formal3 * (0.5 + 0.5 * _gather_provider(alignment, current))
        repeat = reassess * _gather_provider(practice, current) * (1.0 - shared) \
            * (1.0 + cross_weight * _gather_pair(cross, prev, current))
        duplicated += handoff & ~lost & (u_repeat < repeat)
        gap |= lost
        handoffs += handoff
        kept += active & keeps

    # continuity of each episode's contact sequence: same-provider pairs (COC) and the usual provider (UPC)
    n = size.astype(np.float64)
    multi = size > 1
    pairs = np.zeros((S, L, E))
    usual = np.ones((S, L, E))
    for i in range(1, D):
        with_i = np.ones((S, L, E))
        for j in range(D):
            if j != i:
                with_i += (providers[..., i] == providers[..., j]) & (j < size)
            if j < i:
                pairs += (providers[..., i] == providers[..., j]) & (i < size)
        usual = np.maximum(usual, np.where(i < size, with_i, 1.0))
    first_count = np.ones((S, L, E))
    for j in range(1, D):
        first_count += (providers[..., 0] == providers[..., j]) & (j < size)
    usual = np.maximum(usual, first_count)
    denominator = np.where(multi, n * (n - 1.0), 1.0)
    coc = np.where(multi, 2.0 * pairs / denominator, 0.0)
    upc = np.where(multi, usual / n, 0.0)
    ones_e = np.ones(E)
    return {
        "episodes": np.full((S, L), float(E)),
        "gap_episodes": gap @ ones_e,
        "components": n @ ones_e,
        "duplicated": duplicated @ ones_e,
        "handoffs": handoffs @ ones_e,
        "kept": kept @ ones_e,
        "later": (n - 1.0) @ ones_e,
        "multi": multi @ ones_e,
        "coc": coc @ ones_e,
        "upc": upc @ ones_e,
        "discontinuity": np.where(multi, 1.0 - coc, 0.0) @ ones_e,
    }


def locality_fragmentation(counts):
    """Gaps, duplication and discontinuity per locality ``(S, L)`` from :func:`walk`'s counts."""
    return {"gaps": counts["gap_episodes"] / counts["episodes"],
            "duplication": counts["duplicated"] / counts["components"],
            "discontinuity": counts["discontinuity"] / counts["episodes"]}
