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

from dataclasses import dataclass

import mesa
import numpy as np

from sim.model import month as month_
from sim.model import pathways
from sim.model import services as svc
from sim.model.agents import CommissionerAgent, CommunityAgent, ProviderAgent
from sim.model.outcomes import OUTCOMES, system_outcomes
from sim.model.world import PROVIDER_STATES, STRANGER_TRUST, fresh_provider, initial_world
from sim.params import Params

__all__ = ["AllianceModel", "ProviderView"]


def check_seed(seed: object, name: str = "seed") -> int:
    """A seed must be an integer in [0, 2**63 - 1]; anything else is refused with a clear message."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(f"{name}={seed!r}: must be a non-negative integer")
    if not 0 <= int(seed) < 2**63:
        raise ValueError(f"{name}={seed!r}: must be an integer in [0, 2**63 - 1]")
    return int(seed)


@dataclass
class ProviderView:
    """What the communities see of the providers this month: stacked provider arrays (a batch of one)
    and their capacity-weighted means in each locality."""

    trust: np.ndarray  # (1, P, P): informal cooperation of a handoff's pair is formed from it in the walk
    effort: np.ndarray
    cross: np.ndarray
    role_flexibility: np.ndarray
    practice: np.ndarray
    alignment: np.ndarray
    aligned: np.ndarray
    effort_local: np.ndarray
    innovation_local: np.ndarray
    role_flexibility_local: np.ndarray
    informal_local: np.ndarray


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
        arrays["alliance"] = np.array([1.0 if params.alliance else 0.0])
        world = initial_world(arrays, np.array([self.scenario_seed]), params.n_providers, params.n_localities,
                              params.n_domains)
        self._responses = {k: float(v[0]) for k, v in month_.rule_responses(arrays, [params.disabled]).items()}
        self._plan = month_.schedule([params.events], params.horizon, arrays["austerity"],
                                     arrays["senior_commitment"])
        self._cross = world["cross"]
        self._weights = svc.locality_weights(world["coverage"])
        tables = {"profile_cdf": pathways.profile_table(world["need_profile"]),
                  "choice": pathways.choice_table(world["coverage"], world["capacity"]),
                  "pooled_capacity": svc.pooled_capacity(world["coverage"], world["capacity"])}
        self.commissioner = CommissionerAgent(self, world)
        self.provider_list = [ProviderAgent(self, i, world) for i in range(params.n_providers)]
        self.providers = mesa.agent.AgentSet(self.provider_list, random=self.random)
        self.communities = mesa.agent.AgentSet(
            [CommunityAgent(self, k, world, tables) for k in range(params.n_localities)], random=self.random)
        self.outcomes: dict[str, float] = {}
        self.datacollector = mesa.DataCollector(
            model_reporters={name: (lambda m, name=name: m.outcomes[name]) for name in OUTCOMES})
        self._month(learn=False)
        self.datacollector.collect(self)

    # ------------------------------------------------------------------------------------------
    def step(self) -> None:
        """One month: the commissioner sets the month, providers choose effort, communities receive
        services, everyone learns, and at the end of a contract term the commissioner reviews."""
        self.month += 1
        self._month(learn=True)
        self.datacollector.collect(self)

    def run(self, months: int | None = None) -> None:
        """Step to the end of the horizon (or for ``months`` more months)."""
        for _ in range(self.params.horizon - self.month if months is None else months):
            self.step()

    def response(self, rule: str) -> float:
        """How strongly a programme theory's rule responds (0 when switched off; :func:`month_.rule_responses`)."""
        return self._responses[rule]

    def plan(self, month: int) -> dict[str, np.ndarray]:
        """The per-month event schedule, extended if the model is run past its horizon."""
        if month >= self._plan["budget"].shape[1]:
            arrays = {k: np.array([getattr(self.params, k)], dtype=float) for k in ("austerity", "senior_commitment")}
            self._plan = month_.schedule([self.params.events], 2 * month, arrays["austerity"],
                                         arrays["senior_commitment"])
        return self._plan

    def replace_provider(self, index: int, month: int) -> None:
        """A newcomer takes provider ``index``'s contract: same capacity and localities, no relationships
        (trust at the stranger level both ways), fresh commitment and inherited practices."""
        old = self.provider_list[index]
        p = self.params
        new = ProviderAgent.__new__(ProviderAgent)
        mesa.Agent.__init__(new, self)
        new.index, new.sector, new.capacity, new.coverage, new.interaction = (
            index, old.sector, old.capacity, old.coverage, old.interaction)
        stranger = STRANGER_TRUST * p.initial_trust
        new.trust = np.where(np.arange(p.n_providers) == index, 0.0, stranger)
        new.trust_in_commissioner = p.initial_trust
        for key in PROVIDER_STATES:
            setattr(new, key, float(fresh_provider(np.uint64(self.scenario_seed), month, index, key)))
        new.innovation, new.effort = 0.0, 0.0
        old.remove()
        for other in self.provider_list:
            other.trust[index] = 0.0 if other is old else stranger
        self.provider_list[index] = new
        self.providers = mesa.agent.AgentSet(self.provider_list, random=self.random)
        self.commissioner.trust_in_providers[index] = p.initial_trust

    # ------------------------------------------------------------------------------------------
    def _month(self, *, learn: bool) -> None:
        month, boss = self.month, self.commissioner
        boss.start_month(month)
        self.providers.do("choose_effort", month)
        efforts = self._provider_array("effort")
        view = self._view(efforts)
        self.communities.do("receive_services", month, view)
        if learn:
            boss.observe(month, efforts)
            fragmentation = np.array([[pathways.fragmentation(c.results["gaps"], c.results["duplication"],
                                                              c.results["discontinuity"]) for c in self.communities]])
            seen = month_.success_seen(np.stack([p.coverage for p in self.provider_list])[None], fragmentation)[0]
            for provider in self.provider_list:
                provider.learn(efforts, float(seen[provider.index]))
            self.communities.do("respond", view)
            boss.learn(month, efforts)
            boss.review(month)
        self._record(efforts)

    def _view(self, efforts: np.ndarray) -> ProviderView:
        trust = np.stack([p.trust for p in self.provider_list])[None]
        alignment = self._provider_array("alignment")[None]
        role = self._provider_array("role_flexibility")[None]
        innovation = self._provider_array("innovation")[None]
        effort = efforts[None]
        aligned, effort_local, innovation_local, role_local = np.moveaxis(svc.locality_means(
            np.stack([alignment, effort, innovation, role], axis=-2), self._weights), -2, 0)
        mean_trust = np.array([[p.mean_trust for p in self.provider_list]])
        return ProviderView(
            trust=trust, effort=effort, cross=self._cross, role_flexibility=role,
            practice=self._provider_array("practice")[None], alignment=alignment, aligned=aligned[0],
            effort_local=effort_local[0], innovation_local=innovation_local[0], role_flexibility_local=role_local[0],
            informal_local=month_.local_informal(self._weights, effort, mean_trust)[0])

    def _record(self, efforts: np.ndarray) -> None:
        communities = list(self.communities)
        counts = {k: np.array([[c.counts[k] for c in communities]]) for k in pathways.COUNTS}
        local = {k: np.array([[c.results[k] for c in communities]]) for k in ("need", "served", "expired",
                                                                              "resolved", "demand")}
        boss = self.commissioner
        self.outcomes = {k: float(np.asarray(v).reshape(-1)[0]) for k, v in system_outcomes(
            counts=counts, **local, experience=np.array([[c.experience for c in communities]]),
            budget=np.array([boss.budget]), capacity_ratio=np.array([self.params.capacity_ratio]),
            n_localities=self.params.n_localities, trust=np.stack([p.trust for p in self.provider_list])[None],
            commitment=self._provider_array("commitment")[None], alignment=self._provider_array("alignment")[None],
            effort=efforts[None], overhead=np.array([boss.overhead])).items()}

    def _provider_array(self, name: str) -> np.ndarray:
        return np.array([getattr(p, name) for p in self.provider_list])
