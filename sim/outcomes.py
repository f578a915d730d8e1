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


def weighted_mean(values, weights):
    """Mean over the last axis weighted by ``weights``."""
    return np.sum(values * weights, axis=-1) / np.sum(weights, axis=-1)


def system_outcomes(*, need, gaps, duplication, discontinuity, served, expired, resolved, demand,
                    experience, budget_factor, capacity_ratio, n_localities, trust_total, n_providers,
                    commitment, alignment, orientation, innovation) -> dict[str, np.ndarray]:
    """Aggregate per-locality ``(..., L)`` and per-provider ``(..., P)`` quantities into the outcomes.

    Locality quantities are weighted by the locality's new need this month.
    """
    parts = {"gaps": weighted_mean(gaps, need), "duplication": weighted_mean(duplication, need),
             "discontinuity": weighted_mean(discontinuity, need)}
    served_total, expired_total = np.sum(served, axis=-1), np.sum(expired, axis=-1)
    resolved_total = np.sum(resolved, axis=-1)
    return {
        "fragmentation": (parts["gaps"] + parts["duplication"] + parts["discontinuity"]) / 3.0,
        **parts,
        "access": share(served_total, served_total + expired_total),
        "needs_met": resolved_total / np.sum(demand, axis=-1),
        "experience": weighted_mean(experience, need),
        "value": resolved_total / (budget_factor * capacity_ratio * BASE_NEED * n_localities),
        "systemic_change": np.mean(0.5 * (orientation + innovation), axis=-1),
        "mean_trust": trust_total / (n_providers * (n_providers - 1.0)),
        "mean_commitment": np.mean(commitment, axis=-1),
        "goal_alignment": np.mean(alignment, axis=-1),
    }
