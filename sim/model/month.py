"""The formulas that join the rules into a month, each written once, and what is fixed for a run.

The month's phases (:mod:`sim.model.phases`) combine these with the rules (:mod:`sim.model.theories`), the shared
mechanisms (:mod:`sim.model.relationships`), the counterfactual (:mod:`sim.model.commissioning`), the care pathways
(:mod:`sim.model.pathways`) and service delivery (:mod:`sim.model.services`). Fixed for a run: how strongly each
rule responds (:func:`rule_responses`) and the month-by-month events (:func:`schedule`).
"""

from __future__ import annotations

import numpy as np

from sim.engine.compiled import formula
from sim.model import commissioning as com
from sim.model import constants as kc
from sim.model import relationships as rel
from sim.model.logistic import strength_response
from sim.model.world import budget_factor
from sim.params import RULE_IDS, THEORY_RULES
from sim.params.events import event_schedule

__all__ = ["rule_responses", "schedule", "effort_pull", "effort_drive", "funded_capacity",
           "redeployable", "unwasted", "exit_choice"]


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


def schedule(events: list[tuple[str, ...]], months: int, austerity: np.ndarray, senior_commitment: np.ndarray,
             budget_cut_rate: np.ndarray) -> dict[str, np.ndarray]:
    """Per-month arrays ``(S, months + 1)``: ``budget`` (austerity and cuts), ``demand``, ``senior``, ``exit``."""
    out = event_schedule(events, months, senior_commitment)
    out["budget"] = out["budget"] * budget_factor(np.asarray(austerity)[:, None], np.asarray(budget_cut_rate)[:, None],
                                                  np.arange(months + 1)[None, :])
    return out


@formula
def effort_pull(k, alliance, pooled_share, monitoring, austerity, mean_trust, temptation, own_priorities,
                alignment):
    """Everything pulling a provider's effort away from joint work: free-riding on a pooled budget
    (alliance) and its own organisation's priorities (KPIs under separate contracts; its own agenda in an
    alliance until it aligns with the common aim, IPT4)."""
    return (rel.free_riding_pull(k, alliance, pooled_share, temptation, austerity, monitoring, mean_trust)
            + com.own_priorities_pull(k, alliance, monitoring, alignment, own_priorities, austerity))


@formula
def effort_drive(k, commitment, mean_trust, trust_in_commissioner, leadership, pull):
    return rel.effort_propensity(k, commitment, mean_trust, trust_in_commissioner, leadership, pull)


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
def unwasted(k, repeated):
    """Share of capacity left after repeated assessments waste some (``repeated``: repeated assessments per care
    component delivered, 0-1; each wastes ``duplication_waste`` of a component)."""
    return 1.0 - k[kc.DUPLICATION_WASTE] * repeated


@formula
def exit_choice(u, n_providers):
    """Provider who leaves in a ``provider_exit`` event: drawn uniformly from a key of (seed, month)."""
    return min(int(u * n_providers), n_providers - 1)
