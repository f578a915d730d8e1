"""The care-pathway walk, compiled: the episodes of a scenario's month walked through its providers.

What an episode is, what a handoff, a gap and a repeated assessment are, and the chances of each, are the model's
(:mod:`sim.model.pathways`, whose formulas this loop calls); this module is how those chances are drawn fast. The Mesa
model (one community at a time) and the compiled run (every locality of a scenario at once) both call
:func:`walk_scenario`, so they do the same arithmetic in the same order; its draws are
:func:`sim.model.draws.uniform3_from` keyed by (seed, month, locality x episode, component).

Written for speed: complex episodes advance together, one contact at a time, and no step branches on a draw
(choices are made by arithmetic and table lookups); provider draws use Walker alias tables (Walker 1977; Vose 1991).
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numba.extending import register_jitable

from sim.model import constants as kc
from sim.model import pathways
from sim.model.draws import Purpose, key_prefix, uniform3_from
from sim.model.pathways import COUNTS, EPISODES

__all__ = ["choice_table", "profile_table", "alias_table", "walk", "walk_scenario", "walk_workspace"]

_EPISODE, _CONTACT = np.int64(Purpose.EPISODE), np.int64(Purpose.CONTACT)  # typed, not literal: one compile each
_ZERO = np.int64(0)


def choice_table(coverage, capacity):
    """Walker alias tables ``(prob (..., L, D, P), pick (..., L, D, P, 2))`` for drawing the provider of a
    component in locality l, domain d in proportion to its capacity there (fixed for a run). One uniform
    draw picks a provider exactly, in constant time (Walker 1977; Vose 1991)."""
    weight = np.swapaxes(coverage, -1, -2)[..., :, None, :] * np.swapaxes(capacity, -1, -2)[..., None, :, :]
    return alias_table(weight)



def profile_table(need_profile):
    """Cumulative need profile ``(..., L, D)`` for drawing an episode's first domain."""
    cdf = np.cumsum(need_profile, axis=-1)
    cdf[..., -1] = 2.0
    return cdf



def alias_table(weight):
    """Alias tables for the last axis of ``weight``: pair the column with least mass with the one with most.

    Returns ``prob`` (the chance of keeping a column) and ``pick``, each column's two outcomes side by side
    (``[..., c, 0]`` its alias, ``[..., c, 1]`` the column itself), so a draw looks its provider up by the
    outcome of a comparison instead of branching on it (:func:`_draw_provider`). ``pick`` is int16 (the
    schema allows at most 100 providers), so a scenario's tables take less of the cache."""
    P = weight.shape[-1]
    q = np.ascontiguousarray(weight * (P / np.sum(weight, axis=-1, keepdims=True)), dtype=float)
    prob, alias = np.ones(q.shape), np.empty(q.shape, dtype=np.int64)
    _pair_columns(q.reshape(-1, P), prob.reshape(-1, P), alias.reshape(-1, P))
    pick = np.empty(q.shape + (2,), dtype=np.int16)
    pick[..., 0] = alias
    pick[..., 1] = np.arange(P)
    return prob, pick


@njit(cache=True)
def _pair_columns(q, prob, alias):  # pragma: no cover - compiled
    """Vose's pairing, row by row, in place: P - 1 times, the unfinished column with least mass (first if
    tied) takes its alias from the one with most, which gives up what the first lacked.

    The search keeps each column's mass twice, ``+inf`` in ``least`` and ``-inf`` in ``most`` once the
    column is finished, and carries the best so far in registers: every step is a comparison and a select,
    never a branch on the masses (they are random, so such branches were mispredicted; 4x faster)."""
    rows, P = q.shape
    least, most = np.empty(P), np.empty(P)
    for r in range(rows):
        for j in range(P):
            alias[r, j] = j
            least[j] = most[j] = q[r, j]
        for _ in range(P - 1):
            small = large = 0
            low, high = least[0], most[0]
            for j in range(1, P):
                lower, higher = least[j] < low, most[j] > high
                small = j if lower else small
                low = least[j] if lower else low
                large = j if higher else large
                high = most[j] if higher else high
            prob[r, small] = min(low, 1.0)
            alias[r, small] = large
            q[r, large] = least[large] = most[large] = high - (1.0 - low)
            least[small], most[small] = np.inf, -np.inf


def walk(k, seed, month, localities, *, complexity, profile_cdf, choice, keep, trust, effort, formal, navigation,
         pressure, accountability, cross, whole_system, handoff_loss, reassessment, practice, alignment,
         n_domains) -> dict[str, np.ndarray]:
    """Walk this month's sampled episodes through providers; returns counts per locality ``(S, L)``.

    Shapes: ``seed (S,)``, ``localities (L,)`` (their indices, which key the draws),
    ``complexity, whole_system, handoff_loss, reassessment, accountability (S,)``,
    ``profile_cdf (S, L, D)``, ``choice (prob, pick)`` from :func:`choice_table`,
    ``keep (S, L, P)``, ``trust, cross (S, P, P)``, ``formal, navigation, pressure (S, L)``,
    ``effort, practice, alignment (S, P)``.

    ``k``: the scenarios' constants ``(S, K)`` (:func:`sim.model.constants.constant_matrix`).
    """
    if int(n_domains) < 2:
        raise ValueError(f"n_domains={n_domains}: a care pathway needs at least 2 need domains (a complex "
                         "episode spans 2 or more)")
    S, L = len(seed), len(localities)
    out = np.zeros((S, L, len(COUNTS)))
    f, shape = np.ascontiguousarray, (S, L)
    _walk_episodes(f(k), f(np.asarray(seed, dtype=np.uint64)), int(month), f(np.asarray(localities, dtype=np.int64)),
                   int(n_domains), f(np.broadcast_to(complexity, S), dtype=float), f(profile_cdf), f(choice[0]),
                   f(choice[1]), f(keep), f(trust), f(effort), f(cross), f(np.broadcast_to(navigation, shape)),
                   f(np.broadcast_to(formal, shape), dtype=float), f(np.broadcast_to(pressure, shape)),
                   f(np.broadcast_to(accountability, S), dtype=float), f(np.broadcast_to(whole_system, S)),
                   f(np.broadcast_to(handoff_loss, S), dtype=float), f(np.broadcast_to(reassessment, S), dtype=float),
                   f(practice), f(alignment), out)
    return {name: out[..., n] for n, name in enumerate(COUNTS)}


@njit(cache=True)
def _walk_episodes(k, seed, month, localities, D, complexity, profile_cdf, prob, pick, keep, trust, effort, cross,
                   navigation, formal, pressure, accountability, whole_system, handoff_loss, reassessment, practice,
                   alignment, out):  # pragma: no cover - compiled
    workspace = walk_workspace(len(localities), D)
    for s in range(len(seed)):
        walk_scenario(k[s], seed[s], month, localities, D, complexity[s], profile_cdf[s], prob[s], pick[s], keep[s],
                      trust[s], effort[s], cross[s], navigation[s], formal[s], pressure[s], accountability[s],
                      whole_system[s], handoff_loss[s], reassessment[s], practice[s], alignment[s], out[s], workspace)


@register_jitable
def walk_workspace(n_localities, n_domains):
    """Scratch arrays for :func:`walk_scenario` (reused from scenario to scenario; contents do not carry over):
    15 integer rows of one value per episode (named where :func:`walk_scenario` unpacks them), each episode's
    providers, three per-locality numbers and two draws per episode. Plain numpy for Python callers (no compile
    to wait for), compiled where a compiled loop calls it."""
    n = n_localities * EPISODES
    return (np.empty((15, n), dtype=np.int64), np.empty((n, n_domains), dtype=np.int64), np.empty((3, n_localities)),
            np.empty((2, n)))


@njit(cache=True, error_model="numpy", _nrt=False)  # no reference counting: see sim.engine.batch.run_scenarios
def walk_scenario(k, seed, month, localities, D, complexity, profile_cdf, prob, pick, keep, trust, effort, cross,
                  navigation, formal, pressure, accountability, whole_system, handoff_loss, reassessment, practice,
                  alignment, out, workspace):  # pragma: no cover - compiled
    """One scenario's month of episodes: adds its counts into ``out (L, len(COUNTS))``. ``k`` is the scenario's
    constants (:mod:`sim.model.constants`); the other arguments are the
    scenario's own slices of :func:`walk`'s (``profile_cdf (L, D)``, ``prob (L, D, P)``, ``pick (L, D, P, 2)``,
    ``keep (L, P)``, ``trust, cross (P, P)``, ``navigation, formal, pressure (L,)``, ``effort, practice,
    alignment (P,)``), its numbers, and scratch arrays from :func:`walk_workspace`.

    Only complex episodes are walked (a simple one counts one episode and one component, whatever its
    provider). They advance together, one contact at a time (the first contact of every complex episode, then
    the second, then the third of those with three or more, ...). A contact depends only on the one before it
    in its own episode, so the processor works on several episodes at once; and the steps are written so that
    none need branch on a draw (a branch on a coin flip is mispredicted half the time): choices are made by
    arithmetic and table lookups. Counts are whole numbers, exact in any order; the continuity sums are added
    episode by episode, in order."""
    L, E, P = len(localities), EPISODES, prob.shape[2]
    ints, providers, per_locality, draws = workspace
    next_provider, loss_draw, repeat_draw = ints[14], draws[0], draws[1]
    size, first, current, key_of, loc_of, active = ints[0], ints[1], ints[2], ints[3], ints[4], ints[5]
    kept, handoffs, lost, repeated, gap = ints[6], ints[7], ints[8], ints[9], ints[10]
    pairs, usual, complex_episodes = ints[11], ints[12], ints[13]
    loss_base, unmanaged, shared_base = per_locality[0], per_locality[1], per_locality[2]
    episode_key, contact_key = key_prefix(seed, month, _EPISODE), key_prefix(seed, month, _CONTACT)
    cross_weight = pathways.cross_sector_weight(k, whole_system)
    # constants of a handoff, read once: the loop below stores into arrays, after which a compiled loop would
    # read them again from memory every time
    informal_reach, unaligned_share = k[kc.INFORMAL_REACH], k[kc.UNALIGNED_SHARING_SHARE]
    for loc in range(L):
        # what makes a handoff here lost or repeated, before the pair and the draw
        unmanaged[loc] = pathways.unmanaged_share(k, navigation[loc], formal[loc], accountability)
        loss_base[loc] = pathways.stretched_loss(k, handoff_loss, pressure[loc])
        shared_base[loc] = pathways.shared_records(k, formal[loc])
    # each episode: simple (one component), or complex with 2..D components in consecutive domains; only a
    # complex episode has a pathway to walk, so only its first domain and provider are drawn (a simple one's
    # would count nothing: every draw has its own key, so skipping them changes no other number)
    m = 0
    for loc in range(L):
        for e in range(E):
            i = loc * E + e
            key = localities[loc] * E + e
            u_complex, u_size = uniform3_from(episode_key, key, _ZERO)[:2]
            size[i] = 1 + (u_complex < complexity) * (1 + int(u_size * (D - 1)))
            key_of[i], loc_of[i] = key, loc
            active[m] = i
            m += size[i] > 1
    n_complex = m
    # a complex episode's first domain, drawn from the need profile, and its first provider, drawn in
    # proportion to capacity
    for a in range(m):
        i = np.uint64(active[a])
        complex_episodes[a] = i
        loc, key = np.uint64(loc_of[i]), key_of[i]
        # the episode's hash again: cheaper than storing its third field for all episodes (measured)
        u_start = uniform3_from(episode_key, key, _ZERO)[2]
        start = 0
        for d in range(D - 1):
            start += profile_cdf[loc, d] < u_start
        first[i] = start
        provider = _draw_provider(uniform3_from(contact_key, key, _ZERO)[0], prob, pick, loc, np.uint64(start), P)
        current[i] = provider
        providers[i, 0] = provider
        kept[i] = handoffs[i] = lost[i] = repeated[i] = gap[i] = pairs[i] = 0
        usual[i] = 1
    # later contacts: kept by the provider that has the person, or drawn afresh, maybe a handoff. Each
    # contact in two passes over the episodes (the draws and who serves it; then what the handoff does),
    # each with a short chain of dependent steps, so the processor overlaps more episodes at once. Indices
    # read from the scratch arrays are cast to unsigned: numba then leaves out its wraparound of negative
    # indices (a test and an add on every lookup; a tenth of the walk's time).
    for contact in range(1, D):
        for a in range(m):
            i = np.uint64(active[a])
            loc, prev = np.uint64(loc_of[i]), current[i]
            domain = first[i] + contact
            domain = np.uint64(domain - D if domain >= D else domain)
            u, loss_draw[a], repeat_draw[a] = uniform3_from(contact_key, key_of[i], contact)
            stay = keep[loc, np.uint64(prev)]
            is_kept = np.int64(u < stay)
            drawn = _draw_provider(min(max(u - stay, 0.0) / max(1.0 - stay, 1e-12), 1.0), prob, pick, loc, domain, P)
            next_provider[a] = drawn + (prev - drawn) * is_kept
            kept[i] += is_kept
        for a in range(m):
            i = np.uint64(active[a])
            loc, prev_, now_ = np.uint64(loc_of[i]), current[i], next_provider[a]
            handoff = now_ != prev_
            prev, now = np.uint64(prev_), np.uint64(now_)
            penalty = pathways.handoff_penalty(cross_weight, cross[prev, now])
            informal = pathways.pair_informal(trust[prev, now], trust[now, prev], effort[prev], effort[now])
            loss = pathways.loss_chance(loss_base[loc], penalty, informal, unmanaged[loc], informal_reach)
            is_lost = handoff & (loss_draw[a] < loss)
            shared = pathways.information_shared(shared_base[loc], alignment[now], unaligned_share)
            is_repeat = handoff & ~is_lost & (repeat_draw[a] < pathways.repeat_chance(reassessment, practice[now],
                                                                                       shared, penalty))
            handoffs[i] += handoff
            lost[i] += is_lost
            repeated[i] += is_repeat
            gap[i] |= is_lost
            same = 0  # earlier contacts of this episode with the same provider
            for j in range(contact):
                same += providers[i, j] == now_
            pairs[i] += same
            usual[i] = max(usual[i], same + 1)
            providers[i, contact] = now_
            current[i] = now_
        # those with a contact after this one
        still = 0
        for a in range(m):
            i = active[a]
            active[still] = i
            still += size[np.uint64(i)] > contact + 1
        m = still
    # each locality's counts, in the order of COUNTS: a simple episode counts one episode and one component
    # and adds nothing else (its continuity terms are exactly 0.0); the complex ones, episode by episode, in
    # order (the continuity sums are not whole)
    a = 0
    for loc in range(L):
        episodes = components = float(E)
        gap_episodes = repeats = changes = kept_later = later = multi = coc_sum = upc_sum = discontinuity = 0.0
        losses = 0.0
        while a < n_complex and loc_of[np.uint64(complex_episodes[a])] == loc:
            i = np.uint64(complex_episodes[a])
            s = size[i]
            components += s - 1.0
            gap_episodes += gap[i]
            repeats += repeated[i]
            changes += handoffs[i]
            kept_later += kept[i]
            later += s - 1.0
            losses += lost[i]
            coc = pathways.continuity_of_care(pairs[i], s)
            multi += 1.0
            coc_sum += coc
            upc_sum += pathways.usual_provider_continuity(usual[i], s)
            discontinuity += 1.0 - coc
            a += 1
        row = out[loc]
        for n, value in enumerate((episodes, gap_episodes, components, repeats, changes, kept_later, later, multi,
                                   coc_sum, upc_sum, discontinuity, losses)):
            row[n] += value


@njit(cache=True, inline="always")
def _draw_provider(u, prob, pick, loc, domain, P):  # pragma: no cover - compiled
    """Walker alias draw of the provider of a component in (locality, domain) from one uniform: the column,
    or its alias, looked up rather than chosen by a branch."""
    x = u * P
    column = min(int(x), P - 1)
    at = np.uint64(column)  # unsigned (u is in (0, 1)): no wraparound of negative indices
    return pick[loc, domain, at, np.uint64(x - column < prob[loc, domain, at])]


