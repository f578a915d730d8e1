"""System outcomes recorded every step, counted from what happened.

Fragmentation and its components come from the care pathways walked this month (:mod:`sim.model.pathways`),
access and needs met from the queue, value from what was resolved for the money, systemic change
from how later parts of care pathways were delivered. Trust, commitment and alignment are the
mechanisms' own state, reported as such. The same function serves the Mesa model (a batch of one)
and the vectorised core. Formulas are written out in ``docs/ODD.md``.
"""

from __future__ import annotations

import numpy as np

from sim.model.elementwise import formula
from sim.model.pathways import fragmentation
from sim.model.services import share
from sim.model.world import BASE_NEED

#: Outcome names (the DataCollector's columns and the core's data variables) and their meaning.
OUTCOMES: dict[str, str] = {
    "fragmentation": "mean of gaps, duplication and discontinuity (0-1, lower is better), counted from care "
                     "pathways: how safe, how wasteful and how many the handoffs were",
    "gaps": "share of handoffs between providers in which the person was lost (no provider took responsibility)",
    "duplication": "share of completed handoffs followed by a repeated assessment (work done twice)",
    "discontinuity": "share of episodes times 1 - Bice-Boxerman continuity of care of their contact sequence",
    "coc": "mean Bice-Boxerman continuity of care of episodes with two or more contacts (1 = one provider)",
    "upc": "mean usual-provider continuity of episodes with two or more contacts (share with the main provider)",
    "handoffs": "mean number of changes of provider per episode",
    "access": "share of need leaving the queue this month that was served within the waiting window",
    "needs_met": "share of this month's demand that was served and resolved",
    "experience": "service-user experience (0-1): continuity, access, no gaps, a voice",
    "value": "need resolved per unit of budget, net of governance cost, relative to a fully funded month 0",
    "systemic_change": "share of later care-pathway components kept by the provider or locality team "
                       "that had the person (new ways of working) instead of handed on",
    "governance_cost": "share of capacity spent on monitoring and coordination (alliance boards, joint planning)",
    "low_effort": "share of providers giving less than half effort to joint work this month",
    "mean_trust": "mean trust between distinct providers (0-1)",
    "mean_commitment": "mean provider commitment to joint working (0-1)",
    "goal_alignment": "mean alignment of providers' priorities with a common aim (0-1)",
}


def row_sum(x):
    """Sum over the last axis. For a batch, a stacked product with a vector of ones: faster than
    ``np.sum`` on short rows, and computed row by row, so a scenario's sum never depends on the batch
    it is in (a single 2-D product would)."""
    x = np.asarray(x, dtype=float)
    if x.ndim < 2:
        return np.sum(x, axis=-1)
    return (x[..., None, :] @ np.ones(x.shape[-1]))[..., 0]


def system_outcomes(*, counts, need, served, expired, resolved, demand, experience, budget, capacity_ratio,
                    n_localities, trust, commitment, alignment, effort, overhead) -> dict[str, np.ndarray]:
    """Aggregate pathway counts and locality ``(..., L)`` and provider ``(..., P)`` quantities into outcomes."""
    total = {k: row_sum(v) for k, v in counts.items()}
    n_providers = np.shape(trust)[-1]
    values = outcome_values(
        total["episodes"], total["handoffs"], total["lost"], total["duplicated"], total["discontinuity"],
        total["multi"], total["coc"], total["upc"], total["kept"], total["later"], row_sum(served),
        row_sum(expired), row_sum(resolved), row_sum(demand), row_sum(experience * need), row_sum(need), budget,
        capacity_ratio, n_localities, row_sum(row_sum(trust)), row_sum(commitment), row_sum(alignment),
        row_sum(np.asarray(effort) < 0.5), n_providers, np.asarray(overhead, dtype=float))
    return dict(zip(OUTCOMES, values, strict=True))


@formula
def outcome_values(episodes, handoffs, lost, duplicated, discontinuity, multi, coc, upc, kept, later, served,
                   expired, resolved, demand, experience_by_need, need, budget, capacity_ratio, n_localities,
                   trust, commitment, alignment, low_effort, n_providers, overhead):
    """The outcomes, in the order of :data:`OUTCOMES`, from a month's totals over localities (pathway counts;
    need served, expired, resolved and demanded; experience weighted by need) and over providers (trust
    between distinct providers, commitment, alignment, providers below half effort)."""
    gaps = share(lost, handoffs, 0.0)
    duplication = share(duplicated, handoffs, 0.0)
    discontinuity = discontinuity / episodes
    return (fragmentation(gaps, duplication, discontinuity), gaps, duplication, discontinuity, share(coc, multi, 1.0),
            share(upc, multi, 1.0), handoffs / episodes, share(served, served + expired, 1.0), resolved / demand,
            experience_by_need / need, resolved / (budget * capacity_ratio * BASE_NEED * n_localities),
            share(kept, later, 0.0), overhead, low_effort / n_providers,
            trust / (n_providers * (n_providers - 1.0)), commitment / n_providers, alignment / n_providers)
