"""System outcomes recorded every step, and how they are aggregated from localities and providers.

The same function serves the Mesa model (arrays over its agents) and the vectorised core (the same
arrays with a leading scenario axis). Formulas are written out in ``docs/ODD.md``.
"""

from __future__ import annotations

import numpy as np

from sim.services import share
from sim.world import BASE_NEED

#: Outcome names (the DataCollector's columns and the core's data variables) and their meaning.
OUTCOMES: dict[str, str] = {
    "fragmentation": "mean of gaps, duplication and discontinuity (0-1, lower is better)",
    "gaps": "share of need episodes with a component no provider takes responsibility for",
    "duplication": "share of need components served by more than one uncoordinated provider",
    "discontinuity": "1 - expected Bice-Boxerman continuity of care over a person's contacts",
    "access": "share of need leaving the queue this month that was served within the waiting window",
    "needs_met": "share of this month's demand that was served and resolved",
    "experience": "service-user experience (0-1)",
    "value": "need resolved per unit of budget, relative to a fully funded month 0 (1 = all expected need)",
    "systemic_change": "mean over providers of whole-system orientation and innovation (0-1)",
    "mean_trust": "mean trust between distinct providers (0-1)",
    "mean_commitment": "mean provider commitment to joint working / the alliance (0-1)",
    "goal_alignment": "mean alignment of providers' priorities with the common aim (0-1)",
}


def row_sum(x):
    """Sum over the last axis. For a batch, a stacked product with a vector of ones: several times
    faster than ``np.sum`` on short rows, and computed row by row, so a scenario's sum never depends
    on the batch it is in (a single 2-D product would)."""
    x = np.asarray(x)
    if x.ndim < 2:
        return np.sum(x, axis=-1)
    return (x[..., None, :] @ np.ones(x.shape[-1]))[..., 0]


def weighted_mean(values, weights):
    """Mean over the last axis weighted by ``weights``."""
    return row_sum(values * weights) / row_sum(weights)


def system_outcomes(*, need, gaps, duplication, discontinuity, served, expired, resolved, demand,
                    experience, budget_factor, capacity_ratio, n_localities, trust_total, n_providers,
                    commitment, alignment, orientation, innovation) -> dict[str, np.ndarray]:
    """Aggregate per-locality ``(..., L)`` and per-provider ``(..., P)`` quantities into the outcomes.

    Locality quantities are weighted by the locality's new need this month.
    """
    parts = {"gaps": weighted_mean(gaps, need), "duplication": weighted_mean(duplication, need),
             "discontinuity": weighted_mean(discontinuity, need)}
    served_total, expired_total, resolved_total = row_sum(served), row_sum(expired), row_sum(resolved)
    return {
        "fragmentation": (parts["gaps"] + parts["duplication"] + parts["discontinuity"]) / 3.0,
        **parts,
        "access": share(served_total, served_total + expired_total),
        "needs_met": resolved_total / row_sum(demand),
        "experience": weighted_mean(experience, need),
        "value": resolved_total / (budget_factor * capacity_ratio * BASE_NEED * n_localities),
        "systemic_change": row_sum(0.5 * (orientation + innovation)) / np.shape(orientation)[-1],
        "mean_trust": trust_total / (n_providers * (n_providers - 1.0)),
        "mean_commitment": row_sum(commitment) / np.shape(commitment)[-1],
        "goal_alignment": row_sum(alignment) / np.shape(alignment)[-1],
    }
