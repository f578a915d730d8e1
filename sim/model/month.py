"""The formulas that join the rules into a month, each written once.

The Mesa agents (:mod:`sim.model.agents`) and the vectorised core (:mod:`sim.model.core`) run the same month as two
plain call sequences over these functions and the rules (:mod:`sim.model.theories`), the shared mechanisms
(:mod:`sim.model.relationships`), the counterfactual (:mod:`sim.model.commissioning`), the care pathways
(:mod:`sim.model.pathways`) and service delivery (:mod:`sim.model.services`). The order of a month:

1. **commissioner**: events take effect; budget, governance overhead, leadership and the pulls on effort;
2. **providers** choose effort on joint work;
3. **communities** receive services: care pathways are walked (fragmentation), capacity serves demand
   (access, needs met), experience moves;
4. from month 1, everyone **learns**: providers (trust, commitment, alignment, orientation, roles,
   assessment practice, innovation), communities (confidence, participation, tailoring, formal
   pathways), the commissioner (its trust in providers and theirs in it, whole-system working,
   collaborative arrangements);
5. at the end of a contract term the commissioner **reviews** (re-tender, or change the pooled share).

Month 0 is delivered before anyone has learned anything.
"""

from __future__ import annotations

import numpy as np

from sim.model import commissioning as com
from sim.model import relationships as rel
from sim.model import services as svc
from sim.model.elementwise import formula
from sim.model.logistic import strength_response
from sim.model.world import budget_factor
from sim.params import RULE_IDS, THEORY_RULES
from sim.params.events import event_schedule

__all__ = ["rule_responses", "schedule", "effort_pull", "effort_drive", "locality_productivity",
           "available_capacity", "funded_capacity", "redeployable", "unwasted",
           "success_seen", "local_informal", "exit_choice"]


def rule_responses(strengths: dict[str, np.ndarray], disabled: list[tuple[str, ...]]) -> dict[str, np.ndarray]:
    """How strongly each rule responds ``(S,)``: :func:`sim.model.logistic.strength_response` of its strength
    parameter, or 0 where the rule (or its middle-range theory) is switched off. Fixed for a run, so computed
    once, not in every rule call."""
    kinds = {ds: k for k, ds in enumerate(dict.fromkeys(disabled))}  # few distinct settings, however many scenarios
    which = np.array([kinds[ds] for ds in disabled], dtype=np.int64)
    out = {}
    for rule in RULE_IDS:
        off = np.array([any(rule in THEORY_RULES.get(d, (d,)) for d in ds) for ds in kinds], dtype=bool)[which]
        out[rule] = strength_response(np.where(off, 0.0, strengths[f"{rule.lower()}_strength"]))
    return out


def schedule(events: list[tuple[str, ...]], months: int, austerity: np.ndarray,
             senior_commitment: np.ndarray) -> dict[str, np.ndarray]:
    """Per-month arrays ``(S, months + 1)``: ``budget`` (austerity and cuts), ``demand``, ``senior``, ``exit``."""
    out = event_schedule(events, months, senior_commitment)
    out["budget"] = out["budget"] * budget_factor(np.asarray(austerity)[:, None], np.arange(months + 1)[None, :])
    return out


@formula
def effort_pull(alliance, pooled_share, monitoring, austerity, mean_trust, temptation, own_priorities,
                arrangements):
    """Everything pulling a provider's effort away from joint work: free-riding on a pooled budget
    (alliance) and each organisation's own priorities (KPIs under separate contracts; its own agenda in an
    alliance until senior-backed arrangements take hold)."""
    return (rel.free_riding_pull(alliance, pooled_share, temptation, austerity, monitoring, mean_trust)
            + com.own_priorities_pull(alliance, monitoring, arrangements, own_priorities, austerity))


@formula
def effort_drive(commitment, mean_trust, trust_in_commissioner, leadership, pull):
    return rel.effort_propensity(commitment, mean_trust, trust_in_commissioner, leadership, pull)


@formula
def locality_productivity(local_innovation, local_role_flexibility, specialisation_gain):
    return com.productivity(local_innovation, local_role_flexibility, specialisation_gain,
                            svc.INNOVATION_PRODUCTIVITY)


def available_capacity(pooled, budget, productivity, overhead, demand, whole_system, tailoring, duplication):
    """Capacity ``(D,)`` available in one locality this month: funded capacity times productivity, less
    governance overhead, re-deployed to need (whole-system working, tailoring), less what duplication wastes.
    The compiled month (:mod:`sim.model.compiled_month`) runs the same formulas over every locality."""
    base = funded_capacity(pooled, budget, productivity, overhead)
    return svc.flexed_capacity(base, demand, np.sum(demand), np.sum(base), redeployable(whole_system, tailoring)) \
        * unwasted(duplication)


@formula
def funded_capacity(pooled, budget, productivity, overhead):
    """Capacity in a domain that this month's budget funds, at this month's productivity, less overhead."""
    return pooled * (budget * productivity * (1.0 - overhead))


@formula
def redeployable(whole_system, tailoring):
    """Share of a locality's capacity that can move across domains to need: whole-system working (IPT2)
    or tailoring to the locality (IPT3)."""
    return 1.0 - (1.0 - whole_system) * (1.0 - tailoring)


@formula
def unwasted(duplication):
    """Share of capacity left after repeated assessments waste some (``duplication``, 0-1)."""
    return 1.0 - svc.DUPLICATION_WASTE * duplication


def success_seen(coverage, fragmentation_by_locality):
    """Joint success each provider sees ``(..., P)``: the share of its localities' pathways that ran
    without fragmentation, weighted by where it works."""
    return (coverage @ (1.0 - fragmentation_by_locality)[..., None])[..., 0] / (coverage @ np.ones(
        coverage.shape[-1])[..., None])[..., 0]


def local_informal(weights, effort, mean_trust):
    """Informal cooperation in each locality ``(..., L)``: capacity-weighted mean of effort times trust."""
    return ((effort * mean_trust)[..., None, :] @ weights)[..., 0, :]


@formula
def exit_choice(u, n_providers):
    """Provider who leaves in a ``provider_exit`` event: drawn uniformly from a key of (seed, month)."""
    return min(int(u * n_providers), n_providers - 1)
