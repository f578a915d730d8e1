"""The alliance model in Mesa 3: the readable reference implementation.

Usage::

    from sim import AllianceModel, Params
    model = AllianceModel(params=Params(commissioning="alliance"), seed=7)
    for _ in range(model.params.horizon):
        model.step()
    model.datacollector.get_model_vars_dataframe()

Row 0 of the collected data is month 0 (services delivered before anyone has learned anything);
row t is month t. Every random draw is keyed by (seed, month, purpose, agent), so the result is a pure
function of the parameters and the seed, equal to the vectorised core's (:func:`sim.simulate`).
"""

from __future__ import annotations

import mesa
import numpy as np

from sim.agents import CommissionerAgent, CommunityAgent, ProviderAgent
from sim.outcomes import OUTCOMES, system_outcomes
from sim.params import Params
from sim.world import initial_world

__all__ = ["AllianceModel"]


def check_seed(seed: object, name: str = "seed") -> int:
    """A seed must be an integer in [0, 2**63 - 1]; anything else is refused with a clear message."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(f"{name}={seed!r}: must be a non-negative integer")
    if not 0 <= int(seed) < 2**63:
        raise ValueError(f"{name}={seed!r}: must be an integer in [0, 2**63 - 1]")
    return int(seed)


class AllianceModel(mesa.Model):
    """Providers, communities and a commissioner under alliance or traditional commissioning."""

    def __init__(self, params: Params | None = None, seed: int = 0) -> None:
        params = Params() if params is None else params
        if not isinstance(params, Params):
            raise TypeError(f"params={params!r}: must be a sim.Params")
        self.scenario_seed = check_seed(seed)
        super().__init__(rng=self.scenario_seed)
        self.params = params
        self.month = 0
        arrays = {name: np.array([getattr(params, name)], dtype=float) for name in Params.numeric_names()}
        world = initial_world(arrays, np.array([self.scenario_seed]), params.n_providers, params.n_localities,
                              params.n_domains)
        self.commissioner = CommissionerAgent(self)
        self.providers = mesa.agent.AgentSet([ProviderAgent(self, i, world) for i in range(params.n_providers)],
                                       random=self.random)
        self.communities = mesa.agent.AgentSet([CommunityAgent(self, k, world) for k in range(params.n_localities)],
                                         random=self.random)
        self.outcomes: dict[str, float] = {}
        self.datacollector = mesa.DataCollector(
            model_reporters={name: (lambda m, name=name: m.outcomes[name]) for name in OUTCOMES})
        self._deliver()
        self._record()
        self.datacollector.collect(self)

    # ------------------------------------------------------------------------------------------
    def step(self) -> None:
        """One month: services are delivered, then providers learn from what they saw."""
        self.month += 1
        self._deliver()
        self._learn()
        self._record()
        self.datacollector.collect(self)

    def run(self, months: int | None = None) -> None:
        """Step to the end of the horizon (or for ``months`` more months)."""
        for _ in range(self.params.horizon - self.month if months is None else months):
            self.step()

    # ------------------------------------------------------------------------------------------
    def _deliver(self) -> None:
        self.commissioner.set_budget_and_incentives(self.month)
        self.providers.do("choose_effort", self.month)
        efforts = self._provider_array("effort")
        self.commissioner.set_flexibility(float(np.mean(efforts)))
        self._efforts = efforts
        trust = np.stack([p.trust for p in self.providers])
        capacity = np.stack([p.capacity for p in self.providers])
        self.communities.do("receive_services", self.month, trust, efforts, self._provider_array("alignment"),
                            self._provider_array("innovation"), capacity)

    def _learn(self) -> None:
        seen = {p: float(np.dot(p.coverage, self._locality_array("integration"))) for p in self.providers}
        for provider in self.providers:
            provider.learn(self._efforts, seen[provider])

    def _record(self) -> None:
        trust = np.stack([p.trust for p in self.providers])
        local = {k: self._locality_array(k) for k in ("need", "gaps", "duplication", "discontinuity", "served",
                                                       "expired", "resolved", "demand")}
        self.outcomes = {k: float(v) for k, v in system_outcomes(
            **local, experience=np.array([c.experience for c in self.communities]),
            budget_factor=self.commissioner.budget, capacity_ratio=self.params.capacity_ratio,
            n_localities=self.params.n_localities, trust_total=trust.sum(), n_providers=self.params.n_providers,
            commitment=self._provider_array("commitment"), alignment=self._provider_array("alignment"),
            orientation=self._provider_array("orientation"), innovation=self._provider_array("innovation"),
        ).items()}

    def _provider_array(self, name: str) -> np.ndarray:
        return np.array([getattr(p, name) for p in self.providers])

    def _locality_array(self, key: str) -> np.ndarray:
        return np.array([c.results[key] for c in self.communities])
