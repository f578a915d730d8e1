"""The compiled run: a batch's scenarios, one at a time, through every month, as loops around the model's phases.

:func:`run_scenarios` takes each scenario from month 0 to the end. Each month it calls the phases of
:mod:`sim.model.phases` in :data:`sim.model.phases.MONTH`'s order, the same functions the Mesa agents call on their
own state; what is written here is only the loops over providers and localities around them and where each
result is stored. The per-scenario records are generated (:mod:`sim.model.records`, from the schema and the
constants registry), so a new parameter or constant needs no edit here.

Why compiled, and why a scenario at a time: a scenario's month is a few hundred small formulas over 10 providers,
5 localities and 4 domains. As numpy passes over a batch, each formula costs a pass through memory and a Python
call. Here a scenario's whole state and tables stay in the processor's nearest caches for all its months, and
Python is called once per batch, not once per month. Each scenario is computed alone, so its numbers never depend
on its batch.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from sim.engine.compiled import inlined_phases
from sim.engine.prefetch import prefetch_row
from sim.engine.private import private_copy
from sim.engine.walk import walk_scenario, walk_workspace
from sim.model import constants as kc
from sim.model import month as month_
from sim.model import pathways, phases
from sim.model.draws import Purpose, uniform_of_key
from sim.model.records import response_row, scenario_row

ph = inlined_phases(phases)  # the phases' compiled twins, inlined into the loops below

__all__ = ["Plan", "Tables", "State", "MonthResult", "run_scenarios", "month_workspace"]


class Plan(NamedTuple):
    """Each month's events ``(S, months + 1)`` (:func:`sim.model.month.schedule`): budget relative to month 0,
    demand factor, senior commitment, and 1 where a provider leaves."""

    budget: np.ndarray
    demand: np.ndarray
    senior: np.ndarray
    exit: np.ndarray


class Tables(NamedTuple):
    """What is fixed for a run: the constants rows, localities' weights and capacity, the walk's draw tables,
    trust rates."""

    constants: np.ndarray  # (S, ROW_LENGTH): sim.model.constants.constant_matrix
    localities: np.ndarray  # (L,) indices, which key the draws
    coverage: np.ndarray  # (S, P, L)
    weights: np.ndarray  # (S, P, L): each provider's share of a locality's capacity
    pooled_capacity: np.ndarray  # (S, L, D)
    need_profile: np.ndarray  # (S, L, D)
    profile_cdf: np.ndarray  # (S, L, D)
    prob: np.ndarray  # (S, L, D, P) Walker alias tables (sim.engine.walk.choice_table)
    pick: np.ndarray  # (S, L, D, P, 2)
    cross: np.ndarray  # (S, P, P)
    trust_mean: np.ndarray  # (S, P, P) rates of trust between providers (sim.model.relationships.trust_rates)
    trust_half_spread: np.ndarray  # (S, P, P)
    commissioner_mean: np.ndarray  # (S,) rates of the commissioner's trust in providers
    commissioner_half_spread: np.ndarray  # (S,)
    commitment_mean: np.ndarray  # (S,) rates of commitment (sim.model.relationships.commitment_rates)
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
    """What happened in one scenario's month, for the outcomes (scratch of one scenario's shapes)."""

    effort: np.ndarray  # (P,)
    counts: np.ndarray  # (L, len(pathways.COUNTS))
    need: np.ndarray  # (L,) summed over domains
    demand: np.ndarray
    served: np.ndarray
    expired: np.ndarray
    resolved: np.ndarray
    overhead: np.ndarray  # (1,)


_EXIT, _ZERO = np.int64(Purpose.EXIT), np.int64(0)


@njit(cache=True, error_model="numpy", _nrt=False)
def run_scenarios(steps, kept, scenarios, responses, plan, tb, st, out, workspace,
                  values):  # pragma: no cover - compiled
    """Every scenario of a batch from month 0 to ``steps``, in place on ``st``. ``kept[month]`` is the column of
    ``values (len(OUTCOMES), S, months kept)`` that month's outcomes go to, or -1. Arguments: the scenarios'
    parameters and the rules' responses (:mod:`sim.model.records`; each scenario's row is read once),
    :class:`Plan`, :class:`Tables`, :class:`State`, and scratch: a :class:`MonthResult` of one scenario's shapes
    and :func:`month_workspace`.

    Each month, in the Mesa model's order (:meth:`sim.model.alliance.AllianceModel.step`): a provider leaves if an
    event says so (:func:`sim.model.phases.newcomer`); the commissioner sets the month, providers choose effort,
    localities' services (the care pathways walked, then each locality), and from month 1 everyone learns; at the
    end of a contract term the commissioner's review; the outcomes.

    The month is written here, in the loop, rather than as a function of its own that numba would inline: numba
    copies an inlined function's whole code twice, and the month's, its phases inlined, is most of the batch's
    (about 0.7 s of a cold first compile, measured with ``scripts/compile_time.py``).

    Compiled without numba's reference counting (``_nrt=False``, inherited by the phases and formulas compiled
    into it; the walk and the newcomer are compiled so too, the draws' hash works on numbers alone): every view
    of a scenario's rows would otherwise cost two atomic operations on the array's counter, about a sixth of the
    time. Nothing here allocates; the caller owns every array."""
    S, P, L = st.trust.shape[0], st.trust.shape[1], st.formal.shape[1]
    if tb.constants.shape[1] != kc.ROW_LENGTH:  # private_copy copies that many numbers
        raise ValueError("run_scenarios: each constants row must hold sim.model.constants.ROW_LENGTH numbers")
    by_provider, by_locality, keep, by_domain, walk_space = workspace[:5]
    mean_trust = by_provider[0]
    aligned, local_effort, local_innovation, local_roles = by_locality[0], by_locality[1], by_locality[2], \
        by_locality[3]
    navigation, gaps, duplication, discontinuity = by_locality[4], by_locality[5], by_locality[6], by_locality[7]
    fragmentation = by_locality[8]
    effort, counts = out.effort, out.counts
    for s in range(S):
        c, r, row = scenario_row(scenarios, s), response_row(responses, s), tb.constants[s]
        k = private_copy(row)  # the phases' constants, in this function's own frame (sim.engine.private)
        seed = c.seed
        # the scenario's rows: views, which the phases and a newcomer update in place
        trust, weights = st.trust[s], tb.weights[s]
        commitment, alignment, orientation = st.commitment[s], st.alignment[s], st.orientation[s]
        roles, practice, innovation = st.role_flexibility[s], st.practice[s], st.innovation[s]
        trust_in_commissioner, commissioner_trust = st.trust_in_commissioner[s], st.commissioner_trust[s]
        participation, confidence, experience = st.participation[s], st.confidence[s], st.experience[s]
        formal, tailoring, pressure = st.formal[s], st.tailoring[s], st.pressure[s]
        for month in range(steps + 1):
            if month == steps and s + 1 < S:  # the next scenario's walk tables travel to the cache meanwhile
                for_next = s + 1
                prefetch_row(tb.prob, for_next)
                prefetch_row(tb.pick, for_next)
                prefetch_row(tb.cross, for_next)
                prefetch_row(st.trust, for_next)
                prefetch_row(tb.constants, for_next)
            if month > 0 and plan.exit[s, month] > 0.0:
                leaving = month_.exit_choice(uniform_of_key(seed, np.int64(month), _EXIT, _ZERO, _ZERO), P)
                replace_provider(st, s, row, leaving, seed, month, c.initial_trust)
            pooled_share, whole_system, arrangements = st.pooled_share[s], st.whole_system[s], st.arrangements[s]
            budget = plan.budget[s, month]

            # --- 1. the commissioner sets the month ---
            for i in range(P):
                mean_trust[i] = ph.provider_mean_trust(trust[i])
            overhead, leadership = ph.commissioner_sets_month(c, r, k, mean_trust, arrangements)

            # --- 2. providers choose effort ---
            for i in range(P):
                effort[i] = ph.provider_effort(c, k, month, i, pooled_share, alignment[i], leadership, commitment[i],
                                               mean_trust[i], trust_in_commissioner[i])

            # --- 3. localities' services: the care pathways of every locality walked at once, then each locality ---
            accountable, handoff_loss, confusion = ph.handoff_conditions(
                k, c.alliance, c.monitoring, pooled_share, month, c.handoff_loss, c.culture_readiness, roles, r.ipt7)
            for loc in range(L):
                aligned[loc] = ph.locality_mean(alignment, weights, loc)
                local_effort[loc] = ph.locality_mean(effort, weights, loc)
                local_innovation[loc] = ph.locality_mean(innovation, weights, loc)
                local_roles[loc] = ph.locality_mean(roles, weights, loc)
                navigation[loc] = ph.pathway_conditions(c, k, participation[loc], tailoring[loc], roles, accountable,
                                                        confusion, keep[loc])
            counts[:] = 0.0
            walk_scenario(row, seed, month, tb.localities, st.backlog.shape[2], c.need_complexity, tb.profile_cdf[s],
                          tb.prob[s], tb.pick[s], keep, trust, effort, tb.cross[s], navigation, formal, pressure,
                          accountable, whole_system, handoff_loss, c.reassessment, practice, alignment, counts,
                          walk_space)
            for loc in range(L):
                (gaps[loc], duplication[loc], discontinuity[loc], gap_episodes, out.need[loc], out.demand[loc],
                 out.served[loc], out.expired[loc], out.resolved[loc], access, experience[loc]) = ph.locality_services(
                    c, k, month, loc, counts[loc], tb.need_profile[s, loc], tb.pooled_capacity[s, loc],
                    st.backlog[s, loc], participation[loc], tailoring[loc], local_innovation[loc], local_roles[loc],
                    budget, overhead, whole_system, accountable, plan.demand[s, month], experience[loc], by_domain)
                pressure[loc] = 1.0 - access
            out.overhead[0] = overhead

            # --- 4. from month 1, everyone learns: the commissioner observes, providers, localities, the commissioner
            if month > 0:
                for i in range(P):
                    commissioner_trust[i] = ph.commissioner_observes(
                        c, k, month, i, commissioner_trust[i], effort[i], tb.commissioner_mean[s],
                        tb.commissioner_half_spread[s])
                for loc in range(L):
                    fragmentation[loc] = pathways.fragmentation(gaps[loc], duplication[loc], discontinuity[loc])
                for i in range(P):
                    (trust_in_commissioner[i], commitment[i], alignment[i], orientation[i], roles[i], innovation[i],
                     practice[i]) = ph.provider_learns(
                        c, r, k, trust[i], effort, tb.trust_mean[s, i], tb.trust_half_spread[s, i],
                        commissioner_trust[i], tb.reciprocity[s], ph.success_seen(tb.coverage[s, i], fragmentation),
                        leadership, pooled_share, whole_system, tb.commitment_mean[s], tb.commitment_half_spread[s],
                        trust_in_commissioner[i], commitment[i], alignment[i], orientation[i], roles[i],
                        innovation[i], practice[i])
                for loc in range(L):
                    confidence[loc], participation[loc], tailoring[loc], formal[loc] = ph.locality_responds(
                        c, r, k, confidence[loc], participation[loc], tailoring[loc], formal[loc], experience[loc],
                        local_effort[loc], aligned[loc], ph.local_informal(effort, mean_trust, weights, loc))
                st.whole_system[s], st.arrangements[s] = ph.commissioner_learns(
                    c, r, k, effort, alignment, pooled_share, whole_system, arrangements, plan.senior[s, month])

            # --- 5. at the end of a contract term, the commissioner's review; the outcomes ---
            st.pooled_share[s], leaving = ph.commissioner_reviews(c, k, month, pooled_share, commissioner_trust)
            if leaving >= 0:
                replace_provider(st, s, row, leaving, seed, month, c.initial_trust)
            if kept[month] >= 0:
                results = ph.month_outcomes(
                    k, counts, out.need, out.served, out.expired, out.resolved, out.demand, experience, budget,
                    c.capacity_ratio, trust, commitment, alignment, effort, overhead, workspace[5])
                for n, value in enumerate(results):
                    values[n, s, kept[month]] = value


def month_workspace(P: int, L: int, D: int) -> tuple:
    """Scratch arrays of the month in :func:`run_scenarios` and the outcomes, allocated once per batch (reused
    from month to month; contents do not carry over)."""
    return (np.empty((1, P)), np.empty((9, L)), np.empty((L, P)), np.empty((3, D)), walk_workspace(L, D),
            np.empty(len(pathways.COUNTS)))


@njit(cache=True, _nrt=False)
def replace_provider(st, s, k, j, seed, month, initial_trust):  # pragma: no cover - compiled
    """Provider ``j`` of scenario ``s`` is replaced by a :func:`sim.model.phases.newcomer`: its rows of the state."""
    (stranger, st.commissioner_trust[s, j], st.trust_in_commissioner[s, j], st.commitment[s, j], st.alignment[s, j],
     st.orientation[s, j], st.role_flexibility[s, j], st.practice[s, j], st.innovation[s, j]) = ph.newcomer(
        k, seed, month, j, initial_trust)
    trust = st.trust[s]
    for i in range(trust.shape[0]):
        trust[j, i] = trust[i, j] = stranger * (i != j)
