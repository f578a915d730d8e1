"""Care pathways: service users' need episodes walked through providers, and fragmentation counted from them.

Each month every locality sends :data:`EPISODES` sampled need episodes through its providers. An
episode is simple (one component) or, with chance ``need_complexity``, complex: 2 to D components in
consecutive need domains, starting from a domain drawn from the locality's need profile. Each
component goes to a provider:

- after the first, the provider that has the person keeps the next component with chance
  ``keep`` (its role flexibility, IPT7, or the locality team, IPT3); otherwise
- a provider is drawn in proportion to its capacity in that domain in that locality.

A change of provider is a **handoff**. The three components of fragmentation are distinct: **gaps** are
the share of handoffs that are lost (safety), **duplication** the share followed by a repeated
assessment (waste), **discontinuity** ``1 - COC`` of each episode's contact sequence (how many
providers a person passes through; 0 for a simple episode). A handoff is *lost* (no one takes responsibility)
with chance ``handoff_loss × (1 + cross-sector penalty) × (1 + pressure) × (1 - coordination)``:
stretched services (last month's unmet share) drop more referrals; coordination combines the pair's
informal cooperation (trust and effort), the locality's formal pathways (IPT1), community navigation
(IPT3) and the accountability that monitoring brings (either mode). A completed handoff is
**duplicated** (the receiving provider repeats the
assessment) with chance ``reassessment × practice × (1 - information shared)``.

From each episode's actual contact sequence: Bice-Boxerman continuity of care
``COC = (Σ n_j² - n) / (n (n - 1))`` and usual-provider continuity ``UPC = max n_j / n`` (n contacts,
n_j with provider j; Bice & Boxerman 1977, Med Care 15(4):347-349).

Every draw is keyed by (seed, month, locality, episode, component) (:func:`sim.model.draws.uniform3`), so a
locality's pathways are the same numbers in the Mesa model (one community at a time) and in the core.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.model.draws import Purpose, key_prefix, uniform3_from
from sim.model.elementwise import formula
from sim.model.services import share

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
SHARED_RECORDS = 0.4

_EPISODE, _CONTACT = int(Purpose.EPISODE), int(Purpose.CONTACT)  # plain ints for the compiled loop

#: Counts returned per locality by :func:`walk`.
COUNTS = ("episodes", "gap_episodes", "components", "duplicated", "handoffs", "kept", "later",
          "multi", "coc", "upc", "discontinuity", "lost")


def choice_table(coverage, capacity):
    """Walker alias tables ``(prob, alias)``, each ``(..., L, D, P)``, for drawing the provider of a component
    in locality l, domain d in proportion to its capacity there (fixed for a run). One uniform draw
    picks a provider exactly, in constant time (Walker 1977; Vose 1991)."""
    weight = np.swapaxes(coverage, -1, -2)[..., :, None, :] * np.swapaxes(capacity, -1, -2)[..., None, :, :]
    return alias_table(weight)


def alias_table(weight):
    """Alias tables for the last axis of ``weight``: pair the column with least mass with the one with most."""
    P = weight.shape[-1]
    q = np.ascontiguousarray(weight * (P / np.sum(weight, axis=-1, keepdims=True)), dtype=float)
    prob, alias = np.ones(q.shape), np.empty(q.shape, dtype=np.int64)
    _pair_columns(q.reshape(-1, P), prob.reshape(-1, P), alias.reshape(-1, P))
    return prob, alias


@njit(cache=True)
def _pair_columns(q, prob, alias):  # pragma: no cover - compiled
    """Vose's pairing, row by row, in place: P - 1 times, the unfinished column with least mass (first if
    tied) takes its alias from the one with most, which gives up what the first lacked."""
    rows, P = q.shape
    done = np.zeros(P, dtype=np.bool_)
    for r in range(rows):
        done[:] = False
        for j in range(P):
            alias[r, j] = j
        for _ in range(P - 1):
            small, large = -1, -1
            for j in range(P):
                if not done[j]:
                    if small < 0 or q[r, j] < q[r, small]:
                        small = j
                    if large < 0 or q[r, j] > q[r, large]:
                        large = j
            q_small = q[r, small]
            prob[r, small] = min(q_small, 1.0)
            alias[r, small] = large
            q[r, large] = q[r, large] - (1.0 - q_small)
            done[small] = True


def profile_table(need_profile):
    """Cumulative need profile ``(..., L, D)`` for drawing an episode's first domain."""
    cdf = np.cumsum(need_profile, axis=-1)
    cdf[..., -1] = 2.0
    return cdf


@njit(cache=True, inline="always")
def pair_informal(trust, effort, a, b):  # pragma: no cover - compiled
    """Informal cooperation of providers ``a`` and ``b``: mutual trust times both efforts (computed only
    for the pairs a handoff joins)."""
    return 0.5 * (trust[a, b] + trust[b, a]) * effort[a] * effort[b]


def walk(seed, month, localities, *, complexity, profile_cdf, choice, keep, trust, effort, formal, navigation,
         pressure, accountability, cross, whole_system, handoff_loss, reassessment, practice, alignment,
         n_domains) -> dict[str, np.ndarray]:
    """Walk this month's sampled episodes through providers; returns counts per locality ``(S, L)``.

    Shapes: ``seed (S,)``, ``localities (L,)`` (their indices, which key the draws),
    ``complexity, whole_system, handoff_loss, reassessment, accountability (S,)``,
    ``profile_cdf (S, L, D)``, ``choice (prob, alias)`` each ``(S, L, D, P)`` from :func:`choice_table`,
    ``keep (S, L, P)``, ``trust, cross (S, P, P)``, ``formal, navigation, pressure (S, L)``,
    ``effort, practice, alignment (S, P)``.

    Each scenario's walk is one compiled loop (:func:`walk_scenario`, numba) that the Mesa model (one
    locality at a time) and the compiled month (:mod:`sim.model.compiled_month`) both call, so they do the
    same arithmetic in the same order; its draws are :func:`sim.model.draws.uniform3` (compiled:
    :func:`sim.model.draws.uniform3_from`) keyed by (seed, month, locality x episode, component).
    """
    S, L = len(seed), len(localities)
    out = np.zeros((S, L, len(COUNTS)))
    f, shape = np.ascontiguousarray, (S, L)
    _walk_episodes(f(np.asarray(seed, dtype=np.uint64)), int(month), f(np.asarray(localities, dtype=np.int64)),
                   int(n_domains), f(np.broadcast_to(complexity, S), dtype=float), f(profile_cdf), f(choice[0]),
                   f(choice[1]), f(keep), f(trust), f(effort), f(cross), f(np.broadcast_to(navigation, shape)),
                   f(np.broadcast_to(formal, shape), dtype=float), f(np.broadcast_to(pressure, shape)),
                   f(np.broadcast_to(accountability, S), dtype=float), f(np.broadcast_to(whole_system, S)),
                   f(np.broadcast_to(handoff_loss, S), dtype=float), f(np.broadcast_to(reassessment, S), dtype=float),
                   f(practice), f(alignment), out)
    return {name: out[..., k] for k, name in enumerate(COUNTS)}


@njit(cache=True)
def _walk_episodes(seed, month, localities, D, complexity, profile_cdf, prob, alias, keep, trust, effort, cross,
                   navigation, formal, pressure, accountability, whole_system, handoff_loss, reassessment, practice,
                   alignment, out):  # pragma: no cover - compiled
    for s in range(len(seed)):
        walk_scenario(seed[s], month, localities, D, complexity[s], profile_cdf[s], prob[s], alias[s], keep[s],
                      trust[s], effort[s], cross[s], navigation[s], formal[s], pressure[s], accountability[s],
                      whole_system[s], handoff_loss[s], reassessment[s], practice[s], alignment[s], out[s])


@njit(cache=True, error_model="numpy")
def walk_scenario(seed, month, localities, D, complexity, profile_cdf, prob, alias, keep, trust, effort, cross,
                  navigation, formal, pressure, accountability, whole_system, handoff_loss, reassessment, practice,
                  alignment, out):  # pragma: no cover - compiled
    """One scenario's month of episodes: adds its counts into ``out (L, len(COUNTS))``. Arguments are the
    scenario's own slices of :func:`walk`'s (``profile_cdf (L, D)``, ``prob, alias (L, D, P)``,
    ``keep (L, P)``, ``trust, cross (P, P)``, ``navigation, formal, pressure (L,)``, ``effort, practice,
    alignment (P,)``) and its numbers."""
    L, E, P = len(localities), EPISODES, prob.shape[2]
    providers = np.empty(D, dtype=np.int64)
    # the (seed, purpose, month) part of every key of this scenario's month, hashed once
    episode_key, contact_key = key_prefix(seed, month, _EPISODE), key_prefix(seed, month, _CONTACT)
    cross_weight = CROSS_SECTOR_PENALTY * (1.0 - whole_system)
    for loc in range(L):
        # what makes a handoff here lost or repeated, before the pair and the draw
        unmanaged = (1.0 - navigation[loc]) * (1.0 - FORMAL_REACH * formal[loc]) * (1.0 - accountability)
        loss_base = handoff_loss * (1.0 + PRESSURE_LOSS * pressure[loc])
        shared_base = SHARED_RECORDS * formal[loc]
        episodes = gap_episodes = components = repeats = changes = kept_later = later = multi = 0.0
        coc_sum = upc_sum = discontinuity = losses = 0.0
        for e in range(E):
            key = localities[loc] * E + e
            # the episode: simple, or complex with 2..D components in consecutive domains
            u_complex, u_size, u_start = uniform3_from(episode_key, key, 0)
            size = 1
            if u_complex < complexity:
                size = 2 + int(u_size * (D - 1))
            first = 0
            for d in range(D - 1):
                if profile_cdf[loc, d] < u_start:
                    first += 1
            gap = False
            duplicated = 0.0
            handoffs = 0.0
            kept = 0.0
            lost = 0.0
            # the first component: a provider drawn in proportion to capacity
            u, u_loss, u_repeat = uniform3_from(contact_key, key, 0)
            prev = _draw_provider(u, prob, alias, loc, first, P)
            providers[0] = prev
            # later components, written without branches (the choices are coin flips a CPU cannot
            # predict): kept by the provider that has the person, or drawn afresh, maybe a handoff
            for k in range(1, size):
                domain = (first + k) % D
                u, u_loss, u_repeat = uniform3_from(contact_key, key, k)
                stay = keep[loc, prev]
                is_kept = u < stay
                drawn = _draw_provider(min(max(u - stay, 0.0) / max(1.0 - stay, 1e-12), 1.0), prob, alias,
                                       loc, domain, P)
                current = prev if is_kept else drawn
                handoff = current != prev
                penalty = 1.0 + cross_weight * cross[prev, current]
                informal = pair_informal(trust, effort, prev, current)
                loss = loss_base * penalty * (1.0 - INFORMAL_REACH * informal) * unmanaged
                is_lost = handoff & (u_loss < loss)
                shared = shared_base * (0.5 + 0.5 * alignment[current])
                is_repeat = handoff & ~is_lost & (u_repeat < reassessment * practice[current] * (1.0 - shared)
                                                  * penalty)
                kept += is_kept
                handoffs += handoff
                lost += is_lost
                duplicated += is_repeat
                gap |= is_lost
                providers[k] = current
                prev = current
            episodes += 1.0
            components += size
            gap_episodes += gap
            if size == 1:
                continue
            repeats += duplicated
            changes += handoffs
            kept_later += kept
            later += size - 1.0
            losses += lost
            # continuity of the contact sequence: same-provider pairs (COC) and the usual provider (UPC)
            pairs = 0.0
            usual = 1.0
            for i in range(size):
                with_i = 1.0
                for j in range(i + 1, size):
                    if providers[j] == providers[i]:
                        with_i += 1.0
                        pairs += 1.0
                usual = max(usual, with_i)
            coc = 2.0 * pairs / (size * (size - 1.0))
            multi += 1.0
            coc_sum += coc
            upc_sum += usual / size
            discontinuity += 1.0 - coc
        # this locality's counts, in the order of COUNTS (kept in registers above, not in memory)
        row = out[loc]
        for k, value in enumerate((episodes, gap_episodes, components, repeats, changes, kept_later, later, multi,
                                   coc_sum, upc_sum, discontinuity, losses)):
            row[k] += value


@njit(cache=True, inline="always")
def _draw_provider(u, prob, alias, loc, domain, P):  # pragma: no cover - compiled
    """Walker alias draw of the provider of a component in (locality, domain) from one uniform."""
    x = u * P
    column = min(int(x), P - 1)
    return column if x - column < prob[loc, domain, column] else alias[loc, domain, column]


def locality_fragmentation(counts):
    """Gaps, duplication and discontinuity per locality ``(S, L)`` from :func:`walk`'s counts."""
    gaps, duplication, discontinuity, gap_episodes = fragmentation_shares(
        counts["episodes"], counts["gap_episodes"], counts["handoffs"], counts["lost"], counts["duplicated"],
        counts["discontinuity"])
    return {"gaps": gaps, "duplication": duplication, "discontinuity": discontinuity, "gap_episodes": gap_episodes}


@formula
def fragmentation(gaps, duplication, discontinuity):
    """Fragmentation (0-1): the mean of its three components, each counted from the care pathways."""
    return (gaps + duplication + discontinuity) / 3.0


@formula
def fragmentation_shares(episodes, gap_episodes, handoffs, lost, duplicated, discontinuity):
    """A locality's fragmentation from its month's counts: gaps and duplication as shares of handoffs (0 when
    there were none), discontinuity and the share of episodes with a gap per episode."""
    return (share(lost, handoffs, 0.0), share(duplicated, handoffs, 0.0), discontinuity / episodes,
            gap_episodes / episodes)
