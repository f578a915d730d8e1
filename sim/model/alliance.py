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

from sim.engine.walk import walk_workspace
from sim.model import constants as kc
from sim.model import month as month_
from sim.model import phases as ph
from sim.model.agents import CommissionerAgent, CommunityAgent, ProviderAgent
from sim.model.draws import Purpose, uniform
from sim.model.outcomes import OUTCOMES
from sim.model.records import response_row, scenario_row
from sim.model.setup import prepare
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
    """What the communities see of the providers this month: their trust, effort, practices and roles ``(P,)``,
    and capacity-weighted means in each locality ``(L,)`` (:func:`sim.model.phases.locality_mean`)."""

    trust: np.ndarray  # (P, P)
    effort: np.ndarray
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
        columns = {name: np.array([getattr(params, name)], dtype=float) for name in Params.numeric_names()}
        columns["alliance"] = np.array([1.0 if params.alliance else 0.0])
        run = prepare(columns, np.array([self.scenario_seed]), [params.disabled], [params.events],
                      [params.constants], params.horizon, params.n_providers, params.n_localities, params.n_domains)
        self.c, self.r = scenario_row(run.c, 0), response_row(run.r, 0)  # the scenario's parameters, rule responses
        self.k = run.constants[0]  # its constants row
        self._plan = run.plan
        self.tables = {name: value[0] for name, value in run.tables.items()}
        self.walk_space = walk_workspace(1, params.n_domains)
        self.domain_space = np.empty((3, params.n_domains))
        world = run.world
        self.commissioner = CommissionerAgent(self, world)
        self.provider_list = [ProviderAgent(self, i, world) for i in range(params.n_providers)]
        self.providers = mesa.agent.AgentSet(self.provider_list, random=self.random)
        self.communities = mesa.agent.AgentSet(
            [CommunityAgent(self, k, world) for k in range(params.n_localities)], random=self.random)
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
        return float(getattr(self.r, rule.lower()))

    def plan(self, month: int) -> dict[str, np.ndarray]:
        """The per-month event schedule, extended if the model is run past its horizon."""
        if month >= self._plan["budget"].shape[1]:
            p = self.params
            self._plan = month_.schedule([p.events], 2 * month, np.array([p.austerity]),
                                         np.array([p.senior_commitment]), self.k[[kc.BUDGET_CUT_RATE]])
        return self._plan

    def leaving_provider(self, month: int) -> int:
        """The provider who leaves in a ``provider_exit`` event this month: drawn uniformly from (seed, month)."""
        u = uniform(np.uint64(self.scenario_seed), month, Purpose.EXIT)
        return int(month_.exit_choice(u, self.params.n_providers))

    def replace_provider(self, index: int, month: int) -> None:
        """A newcomer (:func:`sim.model.phases.newcomer`) takes provider ``index``'s contract: same capacity and
        localities, no relationships (trust at the stranger level both ways), fresh commitment and inherited
        practices."""
        old = self.provider_list[index]
        new = ProviderAgent.__new__(ProviderAgent)
        mesa.Agent.__init__(new, self)
        new.index, new.sector, new.coverage = index, old.sector, old.coverage
        (stranger, self.commissioner.trust_in_providers[index], new.trust_in_commissioner, new.commitment,
         new.alignment, new.orientation, new.role_flexibility, new.practice, new.innovation) = (
            float(v) for v in ph.newcomer(self.k, self.c.seed, month, index, self.c.initial_trust))
        new.trust = np.where(np.arange(self.params.n_providers) == index, 0.0, stranger)
        new.effort = 0.0
        old.remove()
        for other in self.provider_list:
            if other is not old:
                other.trust[index] = stranger
        self.provider_list[index] = new
        self.providers = mesa.agent.AgentSet(self.provider_list, random=self.random)

    # ------------------------------------------------------------------------------------------
    def _month(self, *, learn: bool) -> None:
        """The month's phases (:data:`sim.model.phases.MONTH`), in the compiled run's order."""
        month, boss = self.month, self.commissioner
        boss.start_month(month)  # commissioner_sets_month
        self.providers.do("choose_effort", month)  # provider_effort
        efforts = self._provider_array("effort")
        view = self._view(efforts)
        self.communities.do("receive_services", month, view)  # pathway_conditions, walk, locality_services
        if learn:
            boss.observe(month, efforts)  # commissioner_observes
            fragmentation = np.array([ph.pathways.fragmentation(c.results["gaps"], c.results["duplication"],
                                                                c.results["discontinuity"]) for c in self.communities])
            for provider in self.provider_list:  # provider_learns
                provider.learn(efforts, float(ph.success_seen(provider.coverage, fragmentation)))
            self.communities.do("respond", view)  # locality_responds
            boss.learn(month, efforts, self._provider_array("alignment"))  # commissioner_learns
            boss.review(month)  # commissioner_reviews
        self._record(efforts)  # month_outcomes

    def _view(self, efforts: np.ndarray) -> ProviderView:
        weights, L = self.tables["weights"], self.params.n_localities
        alignment, innovation = self._provider_array("alignment"), self._provider_array("innovation")
        roles = self._provider_array("role_flexibility")
        mean_trust = self._provider_array("mean_trust")

        def by_locality(values: np.ndarray) -> np.ndarray:
            return np.array([ph.locality_mean(values, weights, loc) for loc in range(L)])

        return ProviderView(
            trust=np.stack([p.trust for p in self.provider_list]), effort=efforts, role_flexibility=roles,
            practice=self._provider_array("practice"), alignment=alignment, aligned=by_locality(alignment),
            effort_local=by_locality(efforts), innovation_local=by_locality(innovation),
            role_flexibility_local=by_locality(roles),
            informal_local=np.array([ph.local_informal(efforts, mean_trust, weights, loc) for loc in range(L)]))

    def _record(self, efforts: np.ndarray) -> None:
        communities = list(self.communities)
        local = {k: np.array([c.results[k] for c in communities]) for k in ("need", "served", "expired",
                                                                            "resolved", "demand")}
        counts = np.array([[c.counts[k] for k in ph.pathways.COUNTS] for c in communities])
        values = ph.month_outcomes(
            self.k, counts, local["need"], local["served"], local["expired"], local["resolved"], local["demand"],
            np.array([c.experience for c in communities]), self.commissioner.budget, self.c.capacity_ratio,
            np.stack([p.trust for p in self.provider_list]), self._provider_array("commitment"),
            self._provider_array("alignment"), efforts, self.commissioner.overhead, np.empty(len(ph.pathways.COUNTS)))
        self.outcomes = {name: float(v) for name, v in zip(OUTCOMES, values, strict=True)}

    def _provider_array(self, name: str) -> np.ndarray:
        return np.array([getattr(p, name) for p in self.provider_list])
