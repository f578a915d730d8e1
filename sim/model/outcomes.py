"""System outcomes recorded every step, counted from what happened.

Fragmentation and its components come from the care pathways walked this month (:mod:`sim.model.pathways`),
access and needs met from the queue, value from what was resolved for the money, systemic change
from how later parts of care pathways were delivered. Trust, commitment and alignment are the
mechanisms' own state, reported as such. The same function serves the Mesa model (a batch of one)
and the vectorised core. Formulas are written out in ``docs/ODD.md``.
"""

from __future__ import annotations

import numpy as np

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


def weighted_mean(values, weights):
    """Mean over the last axis weighted by ``weights``."""
    return row_sum(values * weights) / row_sum(weights)


def system_outcomes(*, counts, need, served, expired, resolved, demand, experience, budget, capacity_ratio,
                    n_localities, trust, commitment, alignment, effort, overhead) -> dict[str, np.ndarray]:
    """Aggregate pathway counts and locality ``(..., L)`` and provider ``(..., P)`` quantities into outcomes."""
    total = {k: row_sum(v) for k, v in counts.items()}
    handoffs = total["handoffs"]
    gaps = share(total["lost"], handoffs, empty=0.0)
    duplication = share(total["duplicated"], handoffs, empty=0.0)
    discontinuity = total["discontinuity"] / total["episodes"]
    multi = total["multi"]
    served_total, expired_total, resolved_total = row_sum(served), row_sum(expired), row_sum(resolved)
    n_providers = np.shape(trust)[-1]
    return {
        "fragmentation": (gaps + duplication + discontinuity) / 3.0,
        "gaps": gaps, "duplication": duplication, "discontinuity": discontinuity,
        "coc": share(total["coc"], multi), "upc": share(total["upc"], multi),
        "handoffs": total["handoffs"] / total["episodes"],
        "access": share(served_total, served_total + expired_total),
        "needs_met": resolved_total / row_sum(demand),
        "experience": weighted_mean(experience, need),
        "value": resolved_total / (budget * capacity_ratio * BASE_NEED * n_localities),
        "systemic_change": share(total["kept"], total["later"], empty=0.0),
        "governance_cost": np.asarray(overhead, dtype=float),
        "low_effort": row_sum(np.asarray(effort) < 0.5) / n_providers,
        "mean_trust": row_sum(row_sum(trust)) / (n_providers * (n_providers - 1.0)),
        "mean_commitment": row_sum(commitment) / n_providers,
        "goal_alignment": row_sum(alignment) / n_providers,
    }
