"""The phases of a month, each written once: what an agent does with its own state.

The Mesa agents (:mod:`sim.model.agents`) call these functions on their own attributes; the compiled run
(:mod:`sim.engine.batch`) calls the very same functions in loops over a scenario's providers and localities.
Only the list of phases, in order, is written twice (the Mesa model's ``_month`` and the compiled month), and a
test compares the two lists with :data:`MONTH`.

Every phase takes the scenario's parameters (``c``: :class:`sim.model.records.ScenarioRow`, read ``c.monitoring``),
the rules' responses (``r``: :class:`sim.model.records.ResponseRow`),
the scenario's constants (``k``: one row of :func:`sim.model.constants.constant_matrix`), and the agent's own
state; it returns the agent's new state (arrays it owns, such as a provider's trust row, are updated in place).
Each phase combines the rules (:mod:`sim.model.theories`) and mechanisms (:mod:`sim.model.relationships`,
:mod:`sim.model.commissioning`, :mod:`sim.model.services`, :mod:`sim.model.pathways`) in one order.

The month (:data:`MONTH`):

1. :func:`commissioner_sets_month`: events have taken effect; governance overhead and the leadership signal (IPT6);
2. :func:`provider_effort`: each provider chooses its effort on joint work;
3. :func:`pathway_conditions` of each locality; its care pathways are walked (:func:`sim.engine.walk.walk_scenario`);
   then :func:`locality_services`: capacity serves demand, the queue moves and experience follows;
4. from month 1, everyone learns: :func:`commissioner_observes` each provider, :func:`provider_learns`,
   :func:`locality_responds`, :func:`commissioner_learns`;
5. :func:`commissioner_reviews` at the end of a contract term, and a :func:`newcomer` takes a re-tendered or
   leaving provider's place;
6. :func:`month_outcomes`: the month's outcomes from what happened.
"""

from __future__ import annotations

import numpy as np

from sim.engine.compiled import formula, phase
from sim.model import commissioning as com
from sim.model import constants as kc
from sim.model import month as month_
from sim.model import pathways
from sim.model import relationships as rel
from sim.model import services as svc
from sim.model.draws import Purpose, shock_of_key, uniform_of_key
from sim.model.outcomes import outcome_values
from sim.model.theories import culture, local, system
from sim.model.world import inherited_value, new_need

#: The phases of a month in order; the Mesa model and the compiled month each call them in this order.
MONTH: tuple[str, ...] = ("commissioner_sets_month", "provider_effort", "pathway_conditions", "locality_services",
                          "commissioner_observes", "provider_learns", "locality_responds", "commissioner_learns",
                          "commissioner_reviews", "month_outcomes")

_EFFORT, _NEED, _OBSERVE, _NEWCOMER = (np.int64(p) for p in (Purpose.EFFORT, Purpose.NEED, Purpose.OBSERVE,
                                                                Purpose.NEWCOMER))
_ZERO = np.int64(0)
(_EPISODES, _GAP_EPISODES, _COMPONENTS, _DUPLICATED, _HANDOFFS, _DISCONTINUITY, _LOST, _MULTI, _COC, _UPC, _KEPT,
 _LATER) = (pathways.COUNTS.index(name) for name in ("episodes", "gap_episodes", "components", "duplicated",
                                                     "handoffs", "discontinuity", "lost", "multi", "coc", "upc",
                                                     "kept", "later"))


# --- sums and means the phases share (in a fixed order, so Python and compiled code add alike) --------------
@formula
def total(values):
    """Sum of a row, added in order. (A plain formula, not ``inline=True``: it has 16 call sites, which numba would
    each copy; LLVM inlines the one compiled sum at the same speed.)"""
    running = 0.0
    for n in range(len(values)):
        running += values[n]
    return running


@formula(inline=True)
def locality_mean(values, weights, loc):
    """Capacity-weighted mean in locality ``loc`` of a provider quantity ``(P,)`` (weights ``(P, L)``)."""
    weighted = 0.0
    for i in range(len(values)):
        weighted += values[i] * weights[i, loc]
    return weighted


@formula(inline=True)
def local_informal(effort, mean_trust, weights, loc):
    """Informal cooperation in locality ``loc``: the capacity-weighted mean of effort times trust."""
    informal = 0.0
    for i in range(len(effort)):
        informal += effort[i] * mean_trust[i] * weights[i, loc]
    return informal


@formula(inline=True)
def success_seen(coverage, fragmentation):
    """Joint success a provider sees: the share of its localities' pathways that ran without fragmentation,
    weighted by where it works (``coverage (L,)``, ``fragmentation (L,)``)."""
    seen = covered = 0.0
    for loc in range(len(coverage)):
        seen += coverage[loc] * (1.0 - fragmentation[loc])
        covered += coverage[loc]
    return seen / covered


@formula(inline=True)
def provider_mean_trust(trust_row):
    """Mean trust a provider holds toward the others, from its trust row ``(P,)``."""
    return rel.mean_trust_toward_others(total(trust_row), len(trust_row))


# --- 1. the commissioner sets the month --------------------------------------------------------------------
@phase
def commissioner_sets_month(c, r, k, mean_trust, arrangements):
    """Governance overhead (monitoring in either mode; the alliance's coordination, community engagement and
    transformation programme) and the leadership signal of senior-backed arrangements (IPT6).
    ``mean_trust (P,)``: each provider's mean trust in the others. Returns ``(overhead, leadership)``."""
    n = len(mean_trust)
    engagement = local.ipt3_engagement(k, c.place_based, r.ipt3)
    change = culture.ipt7_change_programme(r.ipt7)
    overhead = com.overhead(k, c.alliance, c.monitoring, c.coordination_cost, n, total(mean_trust) / n,
                            arrangements, engagement, change)
    return overhead, culture.ipt6_leadership(k, arrangements, r.ipt6)


# --- 2. a provider's effort --------------------------------------------------------------------------------
@phase
def provider_effort(c, k, month, i, pooled_share, alignment, leadership, commitment, mean_trust,
                    trust_in_commissioner):
    """Provider ``i``'s effort on joint work this month (0-1): commitment, trust and leadership against the pulls
    of free-riding and of its own organisation's priorities, plus a month's random shock."""
    pull = month_.effort_pull(k, c.alliance, pooled_share, c.monitoring, c.austerity, mean_trust,
                              c.free_riding_temptation, c.own_priorities, alignment)
    drive = month_.effort_drive(k, commitment, mean_trust, trust_in_commissioner, leadership, pull)
    shock = shock_of_key(c.seed, np.int64(month), _EFFORT, np.int64(i), _ZERO)
    return rel.realised_effort(drive, c.effort_noise, shock)


# --- 3. a locality's services ------------------------------------------------------------------------------
@formula
def handoff_conditions(k, alliance, monitoring, pooled_share, month, handoff_loss, culture_readiness, roles, ipt7):
    """What every locality's handoffs meet this month: the individual accountability monitored contracts bring
    (either mode; an alliance's pooled budget diffuses it) and the chance of losing an uncoordinated handoff,
    raised where an alliance has changed roles (``roles (P,)``: providers' role flexibility) in a culture not ready
    for it (IPT7's role confusion, which also lowers the chance of keeping a person's care: see
    :func:`pathway_conditions`). Returns ``(accountability, handoff_loss, confusion)``."""
    confusion = culture.ipt7_role_confusion(k, alliance, culture_readiness, total(roles) / len(roles), ipt7)
    return (com.accountability(k, alliance, monitoring, pooled_share, month),
            culture.ipt7_confused_loss(handoff_loss, confusion), confusion)


@phase
def pathway_conditions(c, k, participation, tailoring, role_flexibility, accountability, confusion, keep):
    """What a locality's care pathways meet before they are walked: the chance that each provider holding a person
    keeps their next component (``keep (P,)``, filled in place: its role flexibility, IPT7, the locality team's
    tailoring, IPT3, or the case ownership individual ``accountability`` gives; lowered by IPT7's role
    ``confusion`` from :func:`handoff_conditions`), and the share of handoff losses the community's own networks
    prevent (returned)."""
    for i in range(len(role_flexibility)):
        keep[i] = culture.ipt7_confused_keep(svc.keep_chance(k, role_flexibility[i], tailoring, accountability),
                                             confusion)
    return local.community_navigation(k, c.community_connectedness, participation)


@phase
def locality_services(c, k, month, loc, counts, need_profile, pooled_capacity, backlog, participation,
                      tailoring, local_innovation, local_roles, budget, overhead, whole_system, accountability,
                      demand_factor, experience, scratch):
    """Locality ``loc``'s month of services after its care pathways were walked (``counts``: its row of
    :data:`sim.model.pathways.COUNTS`): new need arrives and joins the queue (``backlog (D,)``, updated in
    place), funded capacity re-deployed to need serves it, what waited too long is missed, and experience moves.
    ``scratch (3, D)`` is working space. Returns ``(gaps, duplication, discontinuity, gap_episodes, need, demand,
    served, expired, resolved, access, experience)``."""
    need, demand, base = scratch[0], scratch[1], scratch[2]
    D = len(backlog)
    gaps, duplication, discontinuity, gap_episodes = pathways.fragmentation_shares(
        counts[_EPISODES], counts[_GAP_EPISODES], counts[_HANDOFFS], counts[_LOST], counts[_DUPLICATED],
        counts[_DISCONTINUITY], counts[_MULTI])
    seed, step = c.seed, np.int64(month)
    for d in range(D):
        need[d] = new_need(k, need_profile[d], shock_of_key(seed, step, _NEED, np.int64(loc), np.int64(d))) \
            * demand_factor
        demand[d] = backlog[d] + svc.presented_need(k, need[d], participation, c.community_capacity)
    productivity = com.productivity(k, local_innovation, local_roles, c.specialisation_gain, accountability)
    for d in range(D):
        base[d] = month_.funded_capacity(pooled_capacity[d], budget, productivity, overhead)
    fitted = com.specified_tailoring(k, tailoring, month, c.contract_length)
    flexibility = month_.redeployable(whole_system, fitted)
    unwasted = month_.unwasted(k, svc.share(counts[_DUPLICATED], counts[_COMPONENTS], 0.0))
    need_total, base_total = total(demand), total(base)
    served_total = expired_total = 0.0
    for d in range(D):
        available = svc.flexed_capacity(base[d], demand[d], need_total, base_total, flexibility) * unwasted
        served, expired, backlog[d] = svc.serve(demand[d], available, c.waiting_window)
        served_total += served
        expired_total += expired
    access = svc.share(served_total, served_total + expired_total)
    resolved = served_total * (1.0 - gap_episodes) * svc.service_fit(k, fitted)
    experience = rel.relax(experience, svc.experience_target(k, discontinuity, access, gap_episodes, participation),
                           k[kc.EXPERIENCE_RATE])
    return (gaps, duplication, discontinuity, gap_episodes, total(need), need_total, served_total, expired_total,
            resolved, access, experience)


# --- 4. learning -------------------------------------------------------------------------------------------
@phase
def commissioner_observes(c, k, month, i, commissioner_trust, effort, rate_mean, rate_half_spread):
    """The commissioner's trust in provider ``i`` after seeing its cooperation this month (less noise the more
    it monitors): experience-based trust with a negativity bias (rates from :func:`sim.model.relationships.
    trust_rates`)."""
    shock = shock_of_key(c.seed, np.int64(month), _OBSERVE, np.int64(i), _ZERO)
    observed = com.observed_performance(k, effort, c.monitoring, shock)
    return rel.trust_step(commissioner_trust, observed, rate_mean, rate_half_spread)


@phase
def provider_learns(c, r, k, trust_row, effort, rate_mean, rate_half_spread, commissioner_trust, reciprocity,
                    seen, leadership, pooled_share, whole_system, commitment_mean, commitment_half_spread,
                    trust_in_commissioner, commitment, alignment, orientation, role_flexibility, innovation,
                    practice):
    """A provider after a month's work: trust in each partner (its ``trust_row``, in place, toward each partner's
    effort), trust in the commissioner (reciprocity), commitment (trust, the joint success it ``seen``,
    leadership, a stake in the pooled budget), alignment (IPT4), orientation and roles (IPT7), innovation (IPT5)
    and assessment practice (IPT2). Returns ``(trust_in_commissioner, commitment, alignment, orientation,
    role_flexibility, innovation, practice)``."""
    for j in range(len(trust_row)):
        trust_row[j] = rel.trust_step(trust_row[j], effort[j], rate_mean[j], rate_half_spread[j])
    mean_trust = provider_mean_trust(trust_row)
    alliance, readiness = c.alliance, c.culture_readiness
    trust_in_commissioner = rel.relax(trust_in_commissioner, commissioner_trust, reciprocity)
    commitment = rel.trust_step(commitment, rel.commitment_target(  # rel.update_commitment, rates fixed for a run
        k, mean_trust, seen, trust_in_commissioner, leadership, pooled_share * whole_system), commitment_mean,
        commitment_half_spread)
    alignment = rel.relax(alignment, local.ipt4_alignment_target(k, alliance, mean_trust, len(trust_row), r.ipt4),
                          k[kc.ALIGNMENT_RATE])
    orientation = rel.relax(orientation, culture.ipt7_orientation_target(k, alliance, commitment, readiness,
                                                                         r.ipt7), k[kc.ORIENTATION_RATE])
    role_flexibility = rel.relax(role_flexibility, culture.ipt7_role_target(k, alliance, orientation),
                                 k[kc.ROLE_RATE])
    innovation = innovation + culture.ipt5_innovation_gain(k, alliance, readiness, orientation, innovation, r.ipt5)
    practice = rel.relax(practice, system.ipt2_assessment_practice_target(
        k, whole_system, pooled_share, innovation), k[kc.PRACTICE_RATE])
    return trust_in_commissioner, commitment, alignment, orientation, role_flexibility, innovation, practice


@phase
def locality_responds(c, r, k, confidence, participation, tailoring, formal, experience, local_effort, aligned,
                      informal):
    """A locality after the month: confidence follows experience (voice), co-production and tailoring move
    (IPT3), and formal joint pathways are built or lost (IPT1). Returns ``(confidence, participation, tailoring,
    formal)``."""
    alliance, place_based, connectedness = c.alliance, c.place_based, c.community_connectedness
    confidence = rel.relax(confidence, svc.confidence_target(k, c.community_confidence, experience),
                           k[kc.CONFIDENCE_RATE])
    participation = rel.relax(participation, local.ipt3_participation_target(
        k, alliance, place_based, confidence, connectedness, r.ipt3), k[kc.PARTICIPATION_RATE])
    tailoring = local.ipt3_update_tailoring(k, tailoring, alliance, place_based, participation,
                                            c.community_capacity, local_effort, r.ipt3)
    drive = system.ipt1_pathway_drive(k, alliance, c.need_complexity, aligned, local_effort, informal, r.ipt1)
    return confidence, participation, tailoring, system.ipt1_update_pathways(k, formal, drive, local_effort)


@phase
def commissioner_learns(c, r, k, effort, alignment, pooled_share, whole_system, arrangements, senior_commitment):
    """Whole-system working follows providers' joint effort and their alignment with shared outcomes (IPT2);
    collaborative arrangements follow senior buy-in (IPT6). Returns ``(whole_system, arrangements)``."""
    alliance = c.alliance
    whole_system = rel.relax(whole_system, system.ipt2_whole_system_target(
        k, alliance, pooled_share, total(effort) / len(effort), total(alignment) / len(alignment), r.ipt2),
        k[kc.WHOLE_SYSTEM_RATE])
    arrangements = culture.ipt6_update_arrangements(k, arrangements, culture.ipt6_arrangements_target(
        k, alliance, senior_commitment, c.monitoring, r.ipt6), c.negativity_bias)
    return whole_system, arrangements


# --- 5. the contract review and the newcomer ---------------------------------------------------------------
@phase
def commissioner_reviews(c, k, month, pooled_share, commissioner_trust):
    """At the end of a contract term: under separate contracts the worst provider may be re-tendered; an
    alliance performing poorly halves its pooled share. Returns ``(pooled_share, provider to replace or -1)``."""
    if not com.is_review_month(month, c.contract_length):
        return pooled_share, -1
    alliance = c.alliance
    pooled_share = com.review_pooled_share(k, alliance, pooled_share,
                                           total(commissioner_trust) / len(commissioner_trust), True)
    return pooled_share, com.retender_choice(k, alliance, commissioner_trust, True)


@phase
def newcomer(k, seed, month, j, initial_trust):
    """A newcomer in provider ``j``'s place (a re-tender or an exit): no relationships yet (trust toward and from
    it at the stranger level), the commissioner's starting trust, fresh commitment and inherited practices.
    Returns ``(stranger_trust, commissioner_trust, trust_in_commissioner, commitment, alignment, orientation,
    role_flexibility, practice, innovation)``."""
    step, who = np.int64(month), np.int64(j)
    commitment = inherited_value(k[kc.INHERITED_COMMITMENT_BASE], k[kc.INHERITED_COMMITMENT_SPREAD],
                                 uniform_of_key(seed, step, np.int64(Purpose.COMMITMENT0), who, _ZERO))
    alignment = inherited_value(k[kc.INHERITED_ALIGNMENT_BASE], k[kc.INHERITED_ALIGNMENT_SPREAD],
                                uniform_of_key(seed, step, np.int64(Purpose.ALIGNMENT0), who, _ZERO))
    orientation = inherited_value(k[kc.INHERITED_ORIENTATION_BASE], k[kc.INHERITED_ORIENTATION_SPREAD],
                                  uniform_of_key(seed, step, np.int64(Purpose.ORIENTATION0), who, _ZERO))
    return (k[kc.STRANGER_TRUST] * initial_trust, initial_trust, initial_trust, commitment, alignment, orientation,
            k[kc.INHERITED_ROLE_FLEXIBILITY], k[kc.INHERITED_PRACTICE], 0.0)


# --- 6. outcomes -------------------------------------------------------------------------------------------
@phase
def month_outcomes(k, counts, need, served, expired, resolved, demand, experience, budget, capacity_ratio, trust,
                   commitment, alignment, effort, overhead, totals):
    """The month's outcomes (the registry's order, :data:`sim.model.outcomes.OUTCOME_REGISTRY`) from what
    happened: the localities' pathway counts ``(L, len(COUNTS))``, need, service and experience ``(L,)``, and the
    providers' trust ``(P, P)``, commitment, alignment and effort ``(P,)``. ``totals`` is working space."""
    L, P = len(need), len(effort)
    totals[:] = 0.0
    experience_by_need = trust_total = low_effort = 0.0
    for loc in range(L):
        for n in range(len(totals)):
            totals[n] += counts[loc, n]
        experience_by_need += experience[loc] * need[loc]
    for i in range(P):
        trust_total += total(trust[i])
        low_effort += effort[i] < 0.5
    return outcome_values(
        k, totals[_EPISODES], totals[_HANDOFFS], totals[_LOST], totals[_DUPLICATED], totals[_DISCONTINUITY],
        totals[_MULTI], totals[_COC], totals[_UPC], totals[_KEPT], totals[_LATER], total(served), total(expired),
        total(resolved), total(demand), experience_by_need, total(need), budget, capacity_ratio, L, trust_total,
        total(commitment), total(alignment), low_effort, P, overhead)
