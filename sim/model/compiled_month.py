"""The core's run compiled: one loop over a batch's scenarios, each run from month 0 to the end, calling the
model's formulas on numbers.

The vectorised core (:mod:`sim.model.core`) runs a whole batch through :func:`run_scenarios`. It takes one
scenario at a time through every month, and each month the steps of :mod:`sim.model.month` in the same order
as the Mesa agents (:mod:`sim.model.agents`, :class:`sim.model.alliance.AllianceModel`): a provider leaves if
an event says so; the commissioner sets the month, providers choose effort, communities receive services (the
same compiled care-pathway walk, :func:`sim.model.pathways.walk_scenario`), and from month 1 everyone
learns; at the end of a contract term the commissioner reviews; the outcomes of the months kept are recorded.
Every formula is the one the agents call, compiled (:func:`sim.model.elementwise.formula`,
:func:`sim.model.elementwise.elementwise`); what is written here is only the loops over providers,
localities and domains, and the sums and weighted means that join them.

Why compiled, and why a scenario at a time: a scenario's month is a few hundred small formulas over 10
providers, 5 localities and 4 domains. As numpy passes over a batch, each formula costs a pass through memory
and a Python call. Here a scenario's whole state and tables stay in the processor's nearest caches for all
its months (a month-by-month sweep over a thousand scenarios fetched each one's from slower memory every
month), and Python is called once per batch, not once per month. Each scenario is computed alone, so its
numbers never depend on its batch.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from sim.model import commissioning as com
from sim.model import month as month_
from sim.model import pathways
from sim.model import relationships as rel
from sim.model import services as svc
from sim.model.draws import Purpose, _shock_draw, _uniform_of_key
from sim.model.memory import prefetch_rows
from sim.model.outcomes import outcome_values
from sim.model.theories import culture, local, system
from sim.model.world import PROVIDER_DRAWS, STRANGER_TRUST, inherited_value, new_need

__all__ = ["Scenarios", "Responses", "Plan", "Tables", "State", "MonthResult", "run_scenarios"]


class Scenarios(NamedTuple):
    """The parameters the month reads, one value per scenario ``(S,)``; ``alliance`` is 0/1."""

    seed: np.ndarray
    alliance: np.ndarray
    monitoring: np.ndarray
    coordination_cost: np.ndarray
    austerity: np.ndarray
    free_riding_temptation: np.ndarray
    own_priorities: np.ndarray
    effort_noise: np.ndarray
    community_connectedness: np.ndarray
    need_complexity: np.ndarray
    handoff_loss: np.ndarray
    reassessment: np.ndarray
    community_capacity: np.ndarray
    specialisation_gain: np.ndarray
    waiting_window: np.ndarray
    negativity_bias: np.ndarray
    culture_readiness: np.ndarray
    place_based: np.ndarray
    community_confidence: np.ndarray
    contract_length: np.ndarray
    initial_trust: np.ndarray
    capacity_ratio: np.ndarray


class Responses(NamedTuple):
    """How strongly each programme theory's rule responds ``(S,)`` (0 where switched off;
    :func:`sim.model.month.rule_responses`)."""

    ipt1: np.ndarray
    ipt2: np.ndarray
    ipt3: np.ndarray
    ipt4: np.ndarray
    ipt5: np.ndarray
    ipt6: np.ndarray
    ipt7: np.ndarray


class Plan(NamedTuple):
    """Each month's events ``(S, months + 1)`` (:func:`sim.model.month.schedule`): budget relative to month 0,
    demand factor, senior commitment, and 1 where a provider leaves."""

    budget: np.ndarray
    demand: np.ndarray
    senior: np.ndarray
    exit: np.ndarray


class Tables(NamedTuple):
    """What is fixed for a run: localities' weights and capacity, the walk's draw tables, trust rates."""

    localities: np.ndarray  # (L,) indices, which key the draws
    coverage: np.ndarray  # (S, P, L)
    weights: np.ndarray  # (S, P, L): each provider's share of a locality's capacity
    pooled_capacity: np.ndarray  # (S, L, D)
    need_profile: np.ndarray  # (S, L, D)
    profile_cdf: np.ndarray  # (S, L, D)
    prob: np.ndarray  # (S, L, D, P) Walker alias tables (pathways.choice_table)
    pick: np.ndarray  # (S, L, D, P, 2)
    cross: np.ndarray  # (S, P, P)
    trust_mean: np.ndarray  # (S, P, P) rates of rel.update_trust between providers
    trust_half_spread: np.ndarray  # (S, P, P)
    commissioner_mean: np.ndarray  # (S,) rates of the commissioner's trust in providers
    commissioner_half_spread: np.ndarray  # (S,)
    commitment_mean: np.ndarray  # (S,) rates of rel.update_commitment
    commitment_half_spread: np.ndarray  # (S,)
    reciprocity: np.ndarray  # (S,)


class State(NamedTuple):
    """The state that carries from month to month; updated in place."""

    trust: np.ndarray  # (S, P, P)
    commissioner_trust: np.ndarray  # (S, P)
    trust_in_commissioner: np.ndarray
    commitment: np.ndarray
    alignment: np.ndarray
    orientation: np.ndarray
    role_flexibility: np.ndarray
    practice: np.ndarray
    innovation: np.ndarray
    participation: np.ndarray  # (S, L)
    confidence: np.ndarray
    experience: np.ndarray
    formal: np.ndarray
    tailoring: np.ndarray
    pressure: np.ndarray
    backlog: np.ndarray  # (S, L, D)
    whole_system: np.ndarray  # (S,)
    arrangements: np.ndarray
    pooled_share: np.ndarray


class MonthResult(NamedTuple):
    """What happened in one scenario's month, for the outcomes; written by :func:`scenario_month`."""

    effort: np.ndarray  # (P,)
    counts: np.ndarray  # (L, len(pathways.COUNTS))
    need: np.ndarray  # (L,) summed over domains
    demand: np.ndarray
    served: np.ndarray
    expired: np.ndarray
    resolved: np.ndarray
    overhead: np.ndarray  # (1,)


_EFFORT, _NEED, _OBSERVE, _EXIT = (np.int64(p) for p in (Purpose.EFFORT, Purpose.NEED, Purpose.OBSERVE, Purpose.EXIT))
_ZERO = np.int64(0)
(_EPISODES, _GAP_EPISODES, _DUPLICATED, _HANDOFFS, _DISCONTINUITY, _LOST, _MULTI, _COC, _UPC, _KEPT,
 _LATER) = (pathways.COUNTS.index(k) for k in ("episodes", "gap_episodes", "duplicated", "handoffs", "discontinuity",
                                              "lost", "multi", "coc", "upc", "kept", "later"))


@njit(cache=True, error_model="numpy", _nrt=False)
def run_scenarios(steps, kept, c, response, plan, tb, st, out, workspace, values):  # pragma: no cover - compiled
    """Every scenario of a batch from month 0 to ``steps``, in place on ``st``. ``kept[month]`` is the column of
    ``values (len(OUTCOMES), S, months kept)`` that month's outcomes go to, or -1. Arguments:
    :class:`Scenarios`, :class:`Responses`, :class:`Plan`, :class:`Tables`, :class:`State`, and scratch: a
    :class:`MonthResult` of one scenario's shapes and :func:`month_workspace`.

    Each month, in the Mesa model's order: a provider leaves if an event says so; the month
    (:func:`scenario_month`); at the end of a contract term the commissioner's review; the outcomes.

    Compiled without numba's reference counting (``_nrt=False``, inherited by what it calls): every view of
    a scenario's rows would otherwise cost two atomic operations on the array's counter, about a sixth of
    the time. Nothing here allocates; the caller owns every array."""
    S, P = st.trust.shape[0], st.trust.shape[1]
    for s in range(S):
        seed, alliance, initial_trust = c.seed[s], c.alliance[s], c.initial_trust[s]
        for month in range(steps + 1):
            if month == steps and s + 1 < S:  # the next scenario's walk tables travel to the cache meanwhile
                prefetch_rows((tb.prob, tb.pick, tb.cross, st.trust), s + 1)
            if month > 0 and plan.exit[s, month] > 0.0:
                leaving = month_.exit_choice(_uniform_of_key(seed, np.int64(month), _EXIT, _ZERO, _ZERO), P)
                replace_provider(st, s, leaving, seed, month, initial_trust)
            scenario_month(s, month, c, response, plan, tb, st, out, workspace)
            if com.is_review_month(month, c.contract_length[s]):
                st.pooled_share[s] = com.review_pooled_share(alliance, st.pooled_share[s],
                                                             _total(st.commissioner_trust[s]) / P, True)
                leaving = com.retender_choice(alliance, st.commissioner_trust[s], True)
                if leaving >= 0:
                    replace_provider(st, s, leaving, seed, month, initial_trust)
            if kept[month] >= 0:
                record_outcomes(st, s, out, plan.budget[s, month], c.capacity_ratio[s], values, kept[month],
                                workspace[5])


@njit(cache=True)
def month_workspace(P, L, D):  # pragma: no cover - compiled
    """Scratch arrays of :func:`scenario_month` and :func:`record_outcomes`, allocated once per batch (reused
    from month to month; contents do not carry over)."""
    return (np.empty((3, P)), np.empty((10, L)), np.empty((L, P)), np.empty((3, D)), pathways.walk_workspace(L, D),
            np.empty(len(pathways.COUNTS)))


@njit(cache=True, _nrt=False)
def replace_provider(st, s, j, seed, month, initial_trust):  # pragma: no cover - compiled
    """A newcomer takes the place of provider ``j`` in scenario ``s``: no relationships (trust at the stranger
    level both ways), fresh commitment and inherited practices, as
    :meth:`sim.model.alliance.AllianceModel.replace_provider`."""
    trust = st.trust[s]
    stranger = STRANGER_TRUST * initial_trust
    for k in range(trust.shape[0]):
        trust[j, k] = trust[k, j] = stranger * (k != j)
    st.commissioner_trust[s, j] = st.trust_in_commissioner[s, j] = initial_trust
    # in the order of PROVIDER_STATES
    states = (st.commitment[s], st.alignment[s], st.orientation[s], st.role_flexibility[s], st.practice[s])
    for k in range(len(PROVIDER_DRAWS)):
        base, spread, purpose = PROVIDER_DRAWS[k]
        u = _uniform_of_key(seed, np.int64(month), np.int64(purpose), np.int64(j), _ZERO) if spread else 0.0
        states[k][j] = inherited_value(base, spread, u)
    st.innovation[s, j] = 0.0


@njit(cache=True, error_model="numpy", inline="always")
def scenario_month(s, month, c, response, plan, tb, st, out, workspace):  # pragma: no cover - compiled
    """One month of scenario ``s`` (from month 1, everyone learns), in place on ``st``; what happened goes into
    ``out`` (:class:`MonthResult`). Arguments as :func:`run_scenarios`; scratch from :func:`month_workspace`."""
    P, L, D = st.trust.shape[1], st.formal.shape[1], st.backlog.shape[2]
    by_provider, by_locality, keep, by_domain, walk_space = workspace[:5]
    mean_trust, pull, new_mean_trust = by_provider[0], by_provider[1], by_provider[2]
    aligned, local_effort, local_innovation, local_roles = by_locality[0], by_locality[1], by_locality[2], \
        by_locality[3]
    navigation, gaps, duplication, discontinuity = by_locality[4], by_locality[5], by_locality[6], by_locality[7]
    gap_episodes, fragmentation = by_locality[8], by_locality[9]
    need, demand, base = by_domain[0], by_domain[1], by_domain[2]
    learn = month > 0
    # the scenario's numbers, read once (locals let the compiler keep them in registers and move formulas
    # of them alone out of the loops over providers and localities)
    seed, step = c.seed[s], np.int64(month)
    alliance, monitoring, austerity = c.alliance[s], c.monitoring[s], c.austerity[s]
    readiness, place_based, connectedness = c.culture_readiness[s], c.place_based[s], c.community_connectedness[s]
    complexity, community_capacity = c.need_complexity[s], c.community_capacity[s]
    pooled_share, whole_system, arrangements = st.pooled_share[s], st.whole_system[s], st.arrangements[s]
    ipt1, ipt3, ipt4, ipt5, ipt7 = response.ipt1[s], response.ipt3[s], response.ipt4[s], response.ipt5[s], \
        response.ipt7[s]
    trust, effort, counts, weights = st.trust[s], out.effort, out.counts, tb.weights[s]
    commitment, alignment, orientation = st.commitment[s], st.alignment[s], st.orientation[s]
    roles, practice, innovation = st.role_flexibility[s], st.practice[s], st.innovation[s]
    trust_in_commissioner, commissioner_trust = st.trust_in_commissioner[s], st.commissioner_trust[s]
    participation, confidence, experience = st.participation[s], st.confidence[s], st.experience[s]
    formal, tailoring, pressure = st.formal[s], st.tailoring[s], st.pressure[s]

    # --- 1. commissioner: budget, overhead, leadership, pulls on effort ---
    for i in range(P):
        mean_trust[i] = rel.mean_trust_toward_others(_total(trust[i]), P)
    budget = plan.budget[s, month]
    overhead = com.overhead(alliance, monitoring, c.coordination_cost[s], P, _total(mean_trust) / P, arrangements)
    leadership = culture.ipt6_leadership(arrangements, response.ipt6[s])
    for i in range(P):
        pull[i] = month_.effort_pull(alliance, pooled_share, monitoring, austerity, mean_trust[i],
                                     c.free_riding_temptation[s], c.own_priorities[s], arrangements)

    # --- 2. providers choose effort ---
    noise = c.effort_noise[s]
    for i in range(P):
        drive = month_.effort_drive(commitment[i], mean_trust[i], trust_in_commissioner[i], leadership, pull[i])
        effort[i] = rel.realised_effort(drive, noise, _shock_draw(seed, step, _EFFORT, np.int64(i), _ZERO))

    # --- 3. communities receive services: pathways, capacity, queue, experience ---
    for loc in range(L):
        aligned[loc] = _weighted(alignment, weights, loc)
        local_effort[loc] = _weighted(effort, weights, loc)
        local_innovation[loc] = _weighted(innovation, weights, loc)
        local_roles[loc] = _weighted(roles, weights, loc)
        navigation[loc] = local.community_navigation(connectedness, participation[loc])
        for i in range(P):
            keep[loc, i] = svc.keep_chance(roles[i], tailoring[loc])
    counts[:] = 0.0
    pathways.walk_scenario(
        seed, month, tb.localities, D, complexity, tb.profile_cdf[s], tb.prob[s], tb.pick[s], keep, trust,
        effort, tb.cross[s], navigation, formal, pressure, com.accountability(alliance, monitoring, pooled_share),
        whole_system, c.handoff_loss[s], c.reassessment[s], practice, alignment, counts, walk_space)
    demand_factor, window, gain = plan.demand[s, month], c.waiting_window[s], c.specialisation_gain[s]
    for loc in range(L):
        gaps[loc], duplication[loc], discontinuity[loc], gap_episodes[loc] = pathways.fragmentation_shares(
            counts[loc, _EPISODES], counts[loc, _GAP_EPISODES], counts[loc, _HANDOFFS], counts[loc, _LOST],
            counts[loc, _DUPLICATED], counts[loc, _DISCONTINUITY])
        for d in range(D):
            need[d] = new_need(tb.need_profile[s, loc, d], _shock_draw(
                seed, step, _NEED, np.int64(loc), np.int64(d))) * demand_factor
            demand[d] = st.backlog[s, loc, d] + svc.presented_need(need[d], participation[loc], community_capacity)
        productivity = month_.locality_productivity(local_innovation[loc], local_roles[loc], gain)
        for d in range(D):
            base[d] = month_.funded_capacity(tb.pooled_capacity[s, loc, d], budget, productivity, overhead)
        flexibility = month_.redeployable(whole_system, tailoring[loc])
        unwasted = month_.unwasted(duplication[loc])
        need_total, base_total = _total(demand), _total(base)
        served_total = expired_total = 0.0
        for d in range(D):
            available = svc.flexed_capacity(base[d], demand[d], need_total, base_total, flexibility) * unwasted
            served, expired, st.backlog[s, loc, d] = svc.serve(demand[d], available, window)
            served_total += served
            expired_total += expired
        access = svc.share(served_total, served_total + expired_total)
        pressure[loc] = 1.0 - access
        out.need[loc], out.demand[loc] = _total(need), need_total
        out.served[loc], out.expired[loc] = served_total, expired_total
        out.resolved[loc] = served_total * (1.0 - gap_episodes[loc]) * svc.service_fit(tailoring[loc])
        experience[loc] = rel.relax(experience[loc], svc.experience_target(
            discontinuity[loc], access, gap_episodes[loc], participation[loc]), svc.EXPERIENCE_RATE)
    out.overhead[0] = overhead
    if not learn:
        return

    # --- 4. learning: providers, then communities, then the commissioner ---
    trust_mean, trust_half_spread = tb.trust_mean[s], tb.trust_half_spread[s]
    for i in range(P):
        for j in range(P):
            trust[i, j] = rel.trust_step(trust[i, j], effort[j], trust_mean[i, j], trust_half_spread[i, j])
        new_mean_trust[i] = rel.mean_trust_toward_others(_total(trust[i]), P)
    seen_mean, seen_half_spread = tb.commissioner_mean[s], tb.commissioner_half_spread[s]
    for i in range(P):
        observed = com.observed_performance(effort[i], monitoring, _shock_draw(
            seed, step, _OBSERVE, np.int64(i), _ZERO))
        commissioner_trust[i] = rel.trust_step(commissioner_trust[i], observed, seen_mean, seen_half_spread)
        trust_in_commissioner[i] = rel.relax(trust_in_commissioner[i], commissioner_trust[i], tb.reciprocity[s])
    for loc in range(L):
        fragmentation[loc] = pathways.fragmentation(gaps[loc], duplication[loc], discontinuity[loc])
    commitment_mean, commitment_half_spread = tb.commitment_mean[s], tb.commitment_half_spread[s]
    for i in range(P):
        seen = covered = 0.0  # joint success the provider sees where it works (month_.success_seen)
        for loc in range(L):
            seen += tb.coverage[s, i, loc] * (1.0 - fragmentation[loc])
            covered += tb.coverage[s, i, loc]
        commitment[i] = rel.trust_step(commitment[i], rel.commitment_target(  # rel.update_commitment
            new_mean_trust[i], seen / covered, trust_in_commissioner[i], leadership, pooled_share),
            commitment_mean, commitment_half_spread)
        alignment[i] = rel.relax(alignment[i], local.ipt4_alignment_target(alliance, new_mean_trust[i], ipt4),
                                 local.ALIGNMENT_RATE)
        orientation[i] = rel.relax(orientation[i], culture.ipt7_orientation_target(
            alliance, commitment[i], readiness, ipt7), culture.ORIENTATION_RATE)
        roles[i] = rel.relax(roles[i], culture.ipt7_role_target(alliance, orientation[i]), culture.ROLE_RATE)
        innovation[i] = innovation[i] + culture.ipt5_innovation_gain(alliance, readiness, orientation[i],
                                                                     innovation[i], ipt5)
        practice[i] = rel.relax(practice[i], system.ipt2_assessment_practice_target(
            whole_system, pooled_share, innovation[i], svc.INNOVATION_TOOLS), system.PRACTICE_RATE)
    for loc in range(L):
        confidence[loc] = rel.relax(confidence[loc], svc.confidence_target(
            c.community_confidence[s], experience[loc]), svc.CONFIDENCE_RATE)
        participation[loc] = rel.relax(participation[loc], local.ipt3_participation_target(
            alliance, place_based, confidence[loc], connectedness, ipt3), svc.PARTICIPATION_RATE)
        tailoring[loc] = local.ipt3_update_tailoring(tailoring[loc], alliance, place_based, participation[loc],
                                                     community_capacity, local_effort[loc], ipt3)
        informal = 0.0  # informal cooperation in the locality (month_.local_informal)
        for i in range(P):
            informal += effort[i] * mean_trust[i] * weights[i, loc]
        drive = system.ipt1_pathway_drive(alliance, complexity, aligned[loc], local_effort[loc], informal, ipt1)
        formal[loc] = system.ipt1_update_pathways(formal[loc], drive, local_effort[loc])
    st.whole_system[s] = rel.relax(whole_system, system.ipt2_whole_system_target(
        alliance, pooled_share, _total(effort) / P, response.ipt2[s]), system.WHOLE_SYSTEM_RATE)
    st.arrangements[s] = culture.ipt6_update_arrangements(
        arrangements, culture.ipt6_arrangements_target(alliance, plan.senior[s, month]), c.negativity_bias[s])


@njit(cache=True, error_model="numpy", inline="always")
def record_outcomes(st, s, out, budget, capacity_ratio, values, m, totals):  # pragma: no cover - compiled
    """Scenario ``s``'s outcomes into ``values[:, s, m]``: the month's totals over localities and providers
    (:class:`State` after the contract review, :class:`MonthResult`) through
    :func:`sim.model.outcomes.outcome_values`, the formula the Mesa model records with. ``totals`` is scratch."""
    P, L = st.trust.shape[1], st.formal.shape[1]
    totals[:] = 0.0
    experience_by_need = trust = low_effort = 0.0
    for loc in range(L):
        for k in range(len(totals)):
            totals[k] += out.counts[loc, k]
        experience_by_need += st.experience[s, loc] * out.need[loc]
    for i in range(P):
        trust += _total(st.trust[s, i])
        low_effort += out.effort[i] < 0.5
    outcomes = outcome_values(
        totals[_EPISODES], totals[_HANDOFFS], totals[_LOST], totals[_DUPLICATED], totals[_DISCONTINUITY],
        totals[_MULTI], totals[_COC], totals[_UPC], totals[_KEPT], totals[_LATER], _total(out.served),
        _total(out.expired), _total(out.resolved), _total(out.demand), experience_by_need,
        _total(out.need), budget, capacity_ratio, L, trust, _total(st.commitment[s]),
        _total(st.alignment[s]), low_effort, P, out.overhead[0])
    for k, value in enumerate(outcomes):
        values[k, s, m] = value


@njit(inline="always")
def _total(values):  # pragma: no cover - compiled
    total = 0.0
    for v in values:
        total += v
    return total


@njit(inline="always")
def _weighted(values, weights, loc):  # pragma: no cover - compiled
    """Capacity-weighted mean in locality ``loc`` of a provider quantity (:func:`sim.model.services.locality_means`)."""
    total = 0.0
    for i in range(len(values)):
        total += values[i] * weights[i, loc]
    return total
