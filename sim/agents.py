"""The agents of the alliance model: a commissioner, providers and communities (localities).

Each agent keeps its own state and acts by calling the shared rule functions
(:mod:`sim.theories`, :mod:`sim.relationships`, :mod:`sim.services`) on its own values, the same
functions the vectorised core calls on whole batches.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim import draws
from sim import relationships as rel
from sim import services as svc
from sim.draws import Purpose
from sim.theories import (
    ipt2_flexibility,
    ipt3_coproduction_target,
    ipt4_alignment_target,
    ipt5_innovation_gain,
    ipt6_leadership,
    ipt7_orientation_target,
)
from sim.theories.system import ipt1_formal_integration
from sim.world import SECTORS, budget_factor, new_need

if TYPE_CHECKING:
    from sim.model import AllianceModel


class CommissionerAgent(mesa.Agent):
    """The local authority commissioner: commissioning mode, budget under austerity, pooled risk and
    reward, senior commitment (IPT6), monitoring and evaluation, and the alliance-wide flexibility (IPT2)."""

    model: AllianceModel

    def __init__(self, model: AllianceModel) -> None:
        super().__init__(model)
        p = model.params
        self.commissioning = p.commissioning
        self.alliance = 1.0 if p.alliance else 0.0
        self.pooled_share = p.pooled_share * self.alliance  # no pooled budget under separate contracts
        self.senior_commitment = p.senior_commitment
        self.monitoring = p.monitoring
        self.budget = 1.0
        self.leadership = 0.0
        self.pull = 0.0
        self.flexibility = 0.0

    def set_budget_and_incentives(self, month: int) -> None:
        """Budget this month under austerity; the leadership signal (IPT6) and the free-riding pull."""
        p = self.model.params
        self.budget = budget_factor(p.austerity, month)
        self.leadership = ipt6_leadership(self.alliance, self.senior_commitment, self.monitoring,
                                          p.strength("IPT6"))
        self.pull = rel.free_riding_pull(self.alliance, p.pooled_share, p.free_riding_temptation, p.austerity,
                                         self.monitoring)

    def set_flexibility(self, mean_effort: float) -> None:
        """Whole-system flexibility of capacity across domains (IPT2), given providers' mean effort."""
        p = self.model.params
        self.flexibility = ipt2_flexibility(self.alliance, p.pooled_share, mean_effort, p.strength("IPT2"))


class ProviderAgent(mesa.Agent):
    """A provider organisation (NHS, council social care, voluntary/community or private).

    State: capacity by need domain, coverage of localities, directed trust toward each other provider,
    commitment to the alliance, shared-goal alignment, whole-system orientation (culture), innovation.
    """

    model: AllianceModel

    def __init__(self, model: AllianceModel, index: int, world: dict[str, np.ndarray]) -> None:
        super().__init__(model)
        self.index = index
        self.sector = SECTORS[int(world["sector"][0, index])]
        self.capacity = world["capacity"][0, index].copy()
        self.coverage = world["coverage"][0, index].copy()
        self.interaction = world["interaction"][0, index].copy()
        self.trust = world["trust"][0, index].copy()  # trust[j]: this provider's trust in provider j
        self.commitment = float(world["commitment"][0, index])
        self.alignment = float(world["alignment"][0, index])
        self.orientation = float(world["orientation"][0, index])
        self.innovation = float(world["innovation"][0, index])
        self.effort = 0.0

    @property
    def mean_trust(self) -> float:
        return rel.mean_trust_toward_others(self.trust.sum(), self.model.params.n_providers)

    def choose_effort(self, month: int) -> None:
        """Decide how much effort to put into joint work: commitment and trust against free-riding."""
        p, boss = self.model.params, self.model.commissioner
        propensity = rel.effort_propensity(self.commitment, self.mean_trust, boss.leadership, boss.pull)
        shock = draws.shock(self.model.scenario_seed, month, Purpose.EFFORT, self.index)
        self.effort = float(rel.realised_effort(propensity, p.effort_noise, shock))

    def learn(self, efforts: np.ndarray, integration_seen: float) -> None:
        """After a month's work: update trust, then commitment, alignment (IPT4), orientation (IPT7),
        innovation (IPT5), each from this provider's own experience."""
        p, boss = self.model.params, self.model.commissioner
        self.trust = rel.update_trust(self.trust, efforts, self.interaction, p.trust_learning_rate,
                                      p.negativity_bias)
        trust = self.mean_trust
        target = rel.commitment_target(boss.alliance, trust, integration_seen, boss.leadership, boss.pooled_share)
        self.commitment = float(rel.relax(self.commitment, target, rel.COMMITMENT_RATE))
        self.alignment = float(rel.relax(self.alignment, ipt4_alignment_target(boss.alliance, trust,
                                                                                 p.strength("IPT4")),
                                         rel.ALIGNMENT_RATE))
        self.orientation = float(rel.relax(self.orientation, ipt7_orientation_target(
            boss.alliance, self.commitment, p.culture_readiness, p.strength("IPT7")), rel.ORIENTATION_RATE))
        self.innovation = float(self.innovation + ipt5_innovation_gain(
            boss.alliance, p.culture_readiness, self.orientation, self.innovation, p.strength("IPT5")))


class CommunityAgent(mesa.Agent):
    """A locality: its need profile across domains and complexity, community assets, co-production
    participation, experienced service quality, and the queue of need waiting for a service."""

    model: AllianceModel

    def __init__(self, model: AllianceModel, index: int, world: dict[str, np.ndarray]) -> None:
        super().__init__(model)
        self.index = index
        self.need_profile = world["need_profile"][0, index].copy()
        self.complexity = model.params.need_complexity
        self.assets = float(world["community_assets"][0])
        self.participation = float(world["participation"][0, index])
        self.experience = float(world["experience"][0, index])
        self.backlog = world["backlog"][0, index].copy()
        self.coverage = world["coverage"][0, :, index].copy()  # share of each provider's capacity here
        self.diversity = float(svc.provider_diversity(self.coverage[:, None])[0])
        self.results: dict[str, float] = {}

    def receive_services(self, month: int, trust: np.ndarray, efforts: np.ndarray, alignment: np.ndarray,
                         innovation: np.ndarray, capacity: np.ndarray) -> None:
        """One month of services here: how integrated they are, what is served, missed and resolved."""
        p, boss = self.model.params, self.model.commissioner
        column = self.coverage[:, None]
        aligned = svc.locality_mean(alignment, column)[0]
        local_effort = svc.locality_mean(efforts, column)[0]
        productivity = 1.0 + svc.PRODUCTIVITY_GAIN * svc.locality_mean(innovation, column)
        formal = ipt1_formal_integration(boss.alliance, self.complexity, aligned, p.strength("IPT1"))
        joined = svc.integration(svc.informal_integration(trust, efforts, column)[0], formal, local_effort)

        domains = svc.episode_domains(p.n_domains)
        gaps = svc.gap_share(self.complexity, joined, domains)
        duplication = svc.duplication_share(self.complexity, joined, self.diversity, boss.flexibility)
        discontinuity = svc.discontinuity_share(self.complexity, joined, domains)

        shock = draws.shock(self.model.scenario_seed, month, Purpose.NEED, self.index, np.arange(p.n_domains))
        need = new_need(self.need_profile, shock)
        demand = self.backlog + svc.presented_need(need, np.asarray(self.participation), p.community_capacity)
        available = svc.locality_capacity(column, capacity, boss.budget, productivity)[0]
        available = svc.flexed_capacity(available, demand, boss.flexibility) * (
            1.0 - svc.DUPLICATION_WASTE * duplication)
        served, expired, self.backlog = svc.serve(demand, available, p.waiting_window)
        served_total, expired_total = served.sum(), expired.sum()
        access = float(svc.share(served_total, served_total + expired_total))
        self.experience = float(rel.relax(self.experience, svc.experience_target(
            discontinuity, access, aligned, self.participation), svc.EXPERIENCE_RATE))
        self.results = {
            "need": need.sum(), "integration": joined, "gaps": gaps, "duplication": duplication,
            "discontinuity": discontinuity, "served": served_total, "expired": expired_total,
            "resolved": served_total * (1.0 - gaps) * svc.service_fit(self.participation, aligned),
            "demand": demand.sum(),
        }
        target = ipt3_coproduction_target(boss.alliance, p.place_based, self.assets, p.strength("IPT3"))
        self.participation = float(rel.relax(self.participation, target, svc.PARTICIPATION_RATE))
