"""What is fixed for a run, set up once for a batch of scenarios (a batch of one for the Mesa model).

:func:`prepare` builds, with numpy over the batch, everything the month's phases read but never change: the
scenarios' parameter and response records, their constants rows, the starting world, the month-by-month events,
each locality's capacity and need tables, the care-pathway walk's draw tables and the learning rates. The Mesa
model (:class:`sim.model.alliance.AllianceModel`) and the compiled run (:func:`sim.model.core.run_group`) both call
it, so they start from the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.engine.walk import choice_table, profile_table
from sim.model import commissioning as com
from sim.model import constants as kc
from sim.model import month as month_
from sim.model import relationships as rel
from sim.model import services as svc
from sim.model.records import Responses, Scenarios, response_record, scenario_record
from sim.model.world import initial_world

__all__ = ["Prepared", "prepare"]


@dataclass
class Prepared:
    """A batch's fixed inputs (see :func:`prepare`); ``world`` is the starting state, which the run then changes."""

    c: Scenarios
    r: Responses
    constants: np.ndarray  # (S, ROW_LENGTH)
    world: dict[str, np.ndarray]
    plan: dict[str, np.ndarray]  # (S, steps + 1) each: budget, demand, senior, exit
    tables: dict[str, np.ndarray]


def prepare(columns: dict[str, np.ndarray], seeds: np.ndarray, disabled: list[tuple[str, ...]],
            events: list[tuple[str, ...]], constants: list[tuple[tuple[str, float], ...]], steps: int,
            n_providers: int, n_localities: int, n_domains: int) -> Prepared:
    """Set up ``S`` scenarios that share their numbers of providers, localities and domains. ``columns``: each
    numeric parameter ``(S,)`` and ``alliance`` (0/1); ``disabled``, ``events``, ``constants``: each scenario's."""
    seeds = np.asarray(seeds, dtype=np.uint64)
    K = kc.constant_matrix(constants)
    world = initial_world(columns, K, seeds, n_providers, n_localities, n_domains)
    plan = month_.schedule(events, steps, columns["austerity"], columns["senior_commitment"],
                           K[:, kc.BUDGET_CUT_RATE])
    coverage, capacity = world["coverage"], world["capacity"]
    learning, bias = columns["trust_learning_rate"], columns["negativity_bias"]
    trust_mean, trust_half_spread = rel.trust_rates(world["interaction"], learning[:, None, None],
                                                    bias[:, None, None])
    commissioner_mean, commissioner_half_spread = rel.trust_rates(1.0, learning, bias)
    commitment_mean, commitment_half_spread = rel.commitment_rates(bias, K[:, kc.COMMITMENT_RATE])
    prob, pick = choice_table(coverage, capacity)
    tables = {
        "weights": svc.locality_weights(coverage), "pooled_capacity": svc.pooled_capacity(coverage, capacity),
        "need_profile": world["need_profile"], "profile_cdf": profile_table(world["need_profile"]),
        "prob": prob, "pick": pick, "cross": world["cross"], "coverage": coverage,
        "trust_mean": trust_mean, "trust_half_spread": trust_half_spread,
        "commissioner_mean": commissioner_mean, "commissioner_half_spread": commissioner_half_spread,
        "commitment_mean": commitment_mean, "commitment_half_spread": commitment_half_spread,
        "reciprocity": com.reciprocity_rate(columns["alliance"], K[:, kc.RECIPROCITY_RATE_ALLIANCE],
                                            K[:, kc.RECIPROCITY_RATE_TRADITIONAL])}
    return Prepared(scenario_record(columns, seeds), response_record(month_.rule_responses(columns, disabled)), K,
                    world, plan, tables)
