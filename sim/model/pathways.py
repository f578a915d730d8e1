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
    """Walker alias tables ``(prob (..., L, D, P), pick (..., L, D, P, 2))`` for drawing the provider of a
    component in locality l, domain d in proportion to its capacity there (fixed for a run). One uniform
    draw picks a provider exactly, in constant time (Walker 1977; Vose 1991)."""
    weight = np.swapaxes(coverage, -1, -2)[..., :, None, :] * np.swapaxes(capacity, -1, -2)[..., None, :, :]
    return alias_table(weight)


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
    ``profile_cdf (S, L, D)``, ``choice (prob, pick)`` from :func:`choice_table`,
    ``keep (S, L, P)``, ``trust, cross (S, P, P)``, ``formal, navigation, pressure (S, L)``,
    ``effort, practice, alignment (S, P)``.

    Each scenario's walk is one compiled loop (:func:`walk_scenario`, numba) that the Mesa model (one
    locality at a time) and the compiled month (:mod:`sim.model.compiled_month`) both call, so they do the
    same arithmetic in the same order; its draws are :func:`sim.model.draws.uniform3` (compiled:
    :func:`sim.model.draws.uniform3_from`) keyed by (seed, month, locality x episode, component).
    """
    if int(n_domains) < 2:
        raise ValueError(f"n_domains={n_domains}: a care pathway needs at least 2 need domains (a complex "
                         "episode spans 2 or more)")
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
def _walk_episodes(seed, month, localities, D, complexity, profile_cdf, prob, pick, keep, trust, effort, cross,
                   navigation, formal, pressure, accountability, whole_system, handoff_loss, reassessment, practice,
                   alignment, out):  # pragma: no cover - compiled
    workspace = walk_workspace(len(localities), D)
    for s in range(len(seed)):
        walk_scenario(seed[s], month, localities, D, complexity[s], profile_cdf[s], prob[s], pick[s], keep[s],
                      trust[s], effort[s], cross[s], navigation[s], formal[s], pressure[s], accountability[s],
                      whole_system[s], handoff_loss[s], reassessment[s], practice[s], alignment[s], out[s], workspace)


@njit(cache=True)
def walk_workspace(n_localities, n_domains):  # pragma: no cover - compiled
    """Scratch arrays for :func:`walk_scenario` (reused from scenario to scenario; contents do not carry over):
    15 integer rows of one value per episode (named where :func:`walk_scenario` unpacks them), each episode's
    providers, three per-locality numbers and two draws per episode."""
    n = n_localities * EPISODES
    return (np.empty((15, n), dtype=np.int64), np.empty((n, n_domains), dtype=np.int64), np.empty((3, n_localities)),
            np.empty((2, n)))


@njit(cache=True, error_model="numpy", _nrt=False)  # no reference counting: see compiled_month.run_scenarios
def walk_scenario(seed, month, localities, D, complexity, profile_cdf, prob, pick, keep, trust, effort, cross,
                  navigation, formal, pressure, accountability, whole_system, handoff_loss, reassessment, practice,
                  alignment, out, workspace):  # pragma: no cover - compiled
    """One scenario's month of episodes: adds its counts into ``out (L, len(COUNTS))``. Arguments are the
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
    cross_weight = CROSS_SECTOR_PENALTY * (1.0 - whole_system)
    for loc in range(L):
        # what makes a handoff here lost or repeated, before the pair and the draw
        unmanaged[loc] = (1.0 - navigation[loc]) * (1.0 - FORMAL_REACH * formal[loc]) * (1.0 - accountability)
        loss_base[loc] = handoff_loss * (1.0 + PRESSURE_LOSS * pressure[loc])
        shared_base[loc] = SHARED_RECORDS * formal[loc]
    # each episode: simple (one component), or complex with 2..D components in consecutive domains; only a
    # complex episode has a pathway to walk, so only its first domain and provider are drawn (a simple one's
    # would count nothing: every draw has its own key, so skipping them changes no other number)
    m = 0
    for loc in range(L):
        for e in range(E):
            i = loc * E + e
            key = localities[loc] * E + e
            u_complex, u_size = uniform3_from(episode_key, key, 0)[:2]
            size[i] = 1 + (u_complex < complexity) * (1 + int(u_size * (D - 1)))
            key_of[i], loc_of[i] = key, loc
            active[m] = i
            m += size[i] > 1
    n_complex = m
    # a complex episode's first domain, drawn from the need profile, and its first provider, drawn in
    # proportion to capacity
    for a in range(m):
        i = active[a]
        complex_episodes[a] = i
        loc, key = loc_of[i], key_of[i]
        # the episode's hash again: cheaper than storing its third field for all episodes (measured)
        u_start = uniform3_from(episode_key, key, 0)[2]
        start = 0
        for d in range(D - 1):
            start += profile_cdf[loc, d] < u_start
        first[i] = start
        provider = _draw_provider(uniform3_from(contact_key, key, 0)[0], prob, pick, loc, start, P)
        current[i] = provider
        providers[i, 0] = provider
        kept[i] = handoffs[i] = lost[i] = repeated[i] = gap[i] = pairs[i] = 0
        usual[i] = 1
    # later contacts: kept by the provider that has the person, or drawn afresh, maybe a handoff. Each
    # contact in two passes over the episodes (the draws and who serves it; then what the handoff does),
    # each with a short chain of dependent steps, so the processor overlaps more episodes at once. Indices
    # read from the scratch arrays are cast to unsigned: numba then leaves out its wraparound of negative
    # indices (a test and an add on every lookup; a tenth of the walk's time).
    for k in range(1, D):
        for a in range(m):
            i = np.uint64(active[a])
            loc, prev = np.uint64(loc_of[i]), current[i]
            domain = first[i] + k
            domain = np.uint64(domain - D if domain >= D else domain)
            u, loss_draw[a], repeat_draw[a] = uniform3_from(contact_key, key_of[i], k)
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
            penalty = 1.0 + cross_weight * cross[prev, now]
            informal = pair_informal(trust, effort, prev, now)
            loss = loss_base[loc] * penalty * (1.0 - INFORMAL_REACH * informal) * unmanaged[loc]
            is_lost = handoff & (loss_draw[a] < loss)
            shared = shared_base[loc] * (0.5 + 0.5 * alignment[now])
            is_repeat = handoff & ~is_lost & (
                repeat_draw[a] < reassessment * practice[now] * (1.0 - shared) * penalty)
            handoffs[i] += handoff
            lost[i] += is_lost
            repeated[i] += is_repeat
            gap[i] |= is_lost
            same = 0  # earlier contacts of this episode with the same provider
            for j in range(k):
                same += providers[i, j] == now_
            pairs[i] += same
            usual[i] = max(usual[i], same + 1)
            providers[i, k] = now_
            current[i] = now_
        # those with a contact after this one
        still = 0
        for a in range(m):
            i = active[a]
            active[still] = i
            still += size[np.uint64(i)] > k + 1
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
            coc = 2.0 * pairs[i] / (s * (s - 1.0))
            multi += 1.0
            coc_sum += coc
            upc_sum += usual[i] / s
            discontinuity += 1.0 - coc
            a += 1
        row = out[loc]
        for k, value in enumerate((episodes, gap_episodes, components, repeats, changes, kept_later, later, multi,
                                   coc_sum, upc_sum, discontinuity, losses)):
            row[k] += value


@njit(cache=True, inline="always")
def _draw_provider(u, prob, pick, loc, domain, P):  # pragma: no cover - compiled
    """Walker alias draw of the provider of a component in (locality, domain) from one uniform: the column,
    or its alias, looked up rather than chosen by a branch."""
    x = u * P
    column = min(int(x), P - 1)
    return pick[loc, domain, column, np.int64(x - column < prob[loc, domain, column])]


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
