"""System outcomes recorded every step, counted from what happened.

Fragmentation and its components come from the care pathways walked this month (:mod:`sim.model.pathways`),
access and needs met from the queue, value from what was resolved for the money, systemic change
from how later parts of care pathways were delivered. Trust, commitment and alignment are the
mechanisms' own state, reported as such. The Mesa model and the compiled run both record them through
:func:`sim.model.phases.month_outcomes`. Formulas are written out in ``docs/ODD.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from sim.engine.compiled import formula
from sim.model import constants as kc
from sim.model.pathways import fragmentation
from sim.model.services import share


@dataclass(frozen=True)
class Outcome:
    """One recorded outcome: its column name, what it measures, a plain label for readers (reports, the app),
    which way is better, and how :func:`outcome_values` computes it (written out for the docs)."""

    name: str
    meaning: str
    label: str
    better: Literal["lower", "higher"]
    formula: str

    @property
    def direction(self) -> str:
        """``"lower is better"`` or ``"higher is better"``."""
        return f"{self.better} is better"


#: The outcome registry: the one list of outcomes, in the order :func:`outcome_values` returns them. The Mesa
#: model's DataCollector columns, the core's output arrays, the report's labels, the app's charts and the study's
#: effect names are all read from it.
OUTCOME_REGISTRY: tuple[Outcome, ...] = (
    Outcome("fragmentation", "mean of gaps, duplication and discontinuity (0-1, lower is better), counted from care "
            "pathways: how safe, how wasteful and how many the handoffs were", "fragmentation", "lower",
            "(gaps + duplication + discontinuity) / 3"),
    Outcome("gaps", "share of handoffs between providers in which the person was lost (no provider took "
            "responsibility)", "gaps in care", "lower", "lost handoffs / handoffs"),
    Outcome("duplication", "share of completed handoffs followed by a repeated assessment (work done twice)",
            "duplication", "lower", "repeated assessments / (handoffs - lost handoffs)"),
    Outcome("discontinuity", "1 - Bice-Boxerman continuity of care of the contact sequence, over episodes of more "
            "than one contact", "discontinuity of care", "lower",
            "sum over episodes of more than one contact of (1 - COC) / their number"),
    Outcome("coc", "mean Bice-Boxerman continuity of care of episodes with two or more contacts (1 = one provider)",
            "continuity of care (COC)", "higher", "sum of COC / episodes with two or more contacts"),
    Outcome("upc", "mean usual-provider continuity of episodes with two or more contacts (share with the main "
            "provider)", "usual-provider continuity", "higher", "sum of UPC / episodes with two or more contacts"),
    Outcome("handoffs", "mean number of changes of provider per episode", "handoffs between providers", "lower",
            "handoffs / episodes"),
    Outcome("access", "share of need leaving the queue this month that was served within the waiting window",
            "access", "higher", "served / (served + expired)"),
    Outcome("needs_met", "share of this month's demand that was served and resolved", "needs met", "higher",
            "resolved / demand"),
    Outcome("experience", "service-user experience (0-1): continuity, access, no gaps, a voice",
            "service users' experience", "higher", "need-weighted mean of the localities' experience"),
    Outcome("value", "need resolved per unit of budget, net of governance cost, relative to a fully funded month 0",
            "value for money", "higher", "resolved / (budget x capacity_ratio x base need x localities)"),
    Outcome("systemic_change", "share of later care-pathway components kept by the provider or locality team "
            "that had the person (new ways of working) instead of handed on", "systemic change", "higher",
            "kept later components / later components"),
    Outcome("governance_cost", "share of capacity spent on monitoring and coordination (alliance boards, joint "
            "planning)", "governance cost", "lower", "the month's overhead"),
    Outcome("low_effort", "share of providers giving less than half effort to joint work this month",
            "low-effort providers", "lower", "providers with effort < 0.5 / providers"),
    Outcome("mean_trust", "mean trust between distinct providers (0-1)", "trust between providers", "higher",
            "sum of trust / (P (P - 1))"),
    Outcome("mean_commitment", "mean provider commitment to joint working (0-1)", "commitment to joint working",
            "higher", "sum of commitment / P"),
    Outcome("goal_alignment", "mean alignment of providers' priorities with a common aim (0-1)", "shared goals",
            "higher", "sum of alignment / P"),
)

#: Outcome names (the DataCollector's columns and the core's data variables) and their meaning.
OUTCOMES: dict[str, str] = {o.name: o.meaning for o in OUTCOME_REGISTRY}
#: The outcomes for which lower is better (fragmentation and its parts, handoffs, costs, low effort).
LOWER_IS_BETTER: frozenset[str] = frozenset(o.name for o in OUTCOME_REGISTRY if o.better == "lower")


def outcome(name: str) -> Outcome:
    """The registry entry of outcome ``name``; an unknown name is one clear error listing the outcomes."""
    for o in OUTCOME_REGISTRY:
        if o.name == name:
            return o
    raise KeyError(f"outcome={name!r}: not an outcome; allowed: {', '.join(OUTCOMES)}")


@formula
def outcome_values(k, episodes, handoffs, lost, duplicated, discontinuity, multi, coc, upc, kept, later, served,
                   expired, resolved, demand, experience_by_need, need, budget, capacity_ratio, n_localities,
                   trust, commitment, alignment, low_effort, n_providers, overhead):
    """The outcomes, in the order of :data:`OUTCOMES`, from a month's totals over localities (pathway counts;
    need served, expired, resolved and demanded; experience weighted by need) and over providers (trust
    between distinct providers, commitment, alignment, providers below half effort)."""
    gaps = share(lost, handoffs, 0.0)
    duplication = share(duplicated, handoffs - lost, 0.0)  # repeats happen only on handoffs not lost
    discontinuity = share(discontinuity, multi, 0.0)  # 1 - COC over episodes of more than one contact
    return (fragmentation(gaps, duplication, discontinuity), gaps, duplication, discontinuity, share(coc, multi, 1.0),
            share(upc, multi, 1.0), handoffs / episodes, share(served, served + expired, 1.0), resolved / demand,
            experience_by_need / need, resolved / (budget * capacity_ratio * k[kc.BASE_NEED] * n_localities),
            share(kept, later, 0.0), overhead, low_effort / n_providers,
            trust / (n_providers * (n_providers - 1.0)), commitment / n_providers, alignment / n_providers)


def _check_registry() -> None:
    """Every registered outcome has a formula: :func:`outcome_values` returns exactly one value per entry (a
    name without a formula would otherwise leave the core's row uninitialised)."""
    values = outcome_values(np.ones(kc.ROW_LENGTH), *([2.0] * (outcome_values.__code__.co_argcount - 1)))
    if len(values) != len(OUTCOME_REGISTRY):
        raise ImportError(f"sim.model.outcomes: outcome_values returns {len(values)} values but the registry "
                          f"lists {len(OUTCOME_REGISTRY)} outcomes ({', '.join(OUTCOMES)}): give each outcome "
                          "its formula, in the registry's order")


_check_registry()
