"""The agents of the alliance model: a commissioner, providers and communities (localities).

Each agent keeps its own state and acts by calling the shared functions (:mod:`sim.model.theories`,
:mod:`sim.model.relationships`, :mod:`sim.model.commissioning`, :mod:`sim.model.pathways`, :mod:`sim.model.services`,
:mod:`sim.model.month`) on its own values: the same functions, in the same order, that the vectorised core
calls on whole batches.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.model import commissioning as com
from sim.model import draws, pathways
from sim.model import month as month_
from sim.model import relationships as rel
from sim.model import services as svc
from sim.model.draws import Purpose
from sim.model.outcomes import row_sum
from sim.model.theories import culture, local, system
from sim.model.world import SECTORS, new_need

if TYPE_CHECKING:
    from sim.model.alliance import AllianceModel, ProviderView


class CommissionerAgent(mesa.Agent):
    """The local authority commissioner: commissioning mode, budget, monitoring, its trust in each
    provider, the pooled share it can change at a review, whole-system working (IPT2) and the
    collaborative arrangements that senior commitment builds (IPT6)."""

    model: AllianceModel

    def __init__(self, model: AllianceModel, world: dict[str, np.ndarray]) -> None:
        super().__init__(model)
        p = model.params
        self.alliance = 1.0 if p.alliance else 0.0
        self.pooled_share = float(world["pooled_share"][0])
        self.trust_in_providers = world["commissioner_trust"][0].copy()
        self.whole_system = float(world["whole_system"][0])
        self.arrangements = float(world["arrangements"][0])
        self.budget = self.overhead = self.leadership = 0.0
        self.senior_commitment = p.senior_commitment

    def start_month(self, month: int) -> None:
        """Events take effect; this month's budget, governance overhead and leadership signal (IPT6)."""
        p, m = self.model.params, self.model
        plan = m.plan(month)
        if month > 0 and plan["exit"][0, month] > 0:
            u = draws.uniform(np.uint64(m.scenario_seed), month, Purpose.EXIT)
            m.replace_provider(int(month_.exit_choice(u, p.n_providers)), month)
        self.budget = float(plan["budget"][0, month])
        self.senior_commitment = float(plan["senior"][0, month])
        system_trust = float(np.mean([pr.mean_trust for pr in m.provider_list]))
        self.overhead = float(com.overhead(self.alliance, p.monitoring, p.coordination_cost, p.n_providers,
                                           system_trust, self.arrangements))
        self.leadership = float(culture.ipt6_leadership(self.arrangements, m.response("IPT6")))

    def observe(self, month: int, efforts: np.ndarray) -> None:
        """Monitor each provider's cooperation (noise falls with monitoring) and update trust in it."""
        p = self.model.params
        shock = draws.shock(np.uint64(self.model.scenario_seed), month, Purpose.OBSERVE, np.arange(p.n_providers))
        observed = com.observed_performance(efforts, p.monitoring, shock)
        self.trust_in_providers = rel.update_trust(self.trust_in_providers, observed, 1.0, p.trust_learning_rate,
                                                   p.negativity_bias)

    def learn(self, month: int, efforts: np.ndarray) -> None:
        """Whole-system working follows providers' joint effort (IPT2); arrangements follow senior buy-in (IPT6)."""
        m = self.model
        self.whole_system = float(rel.relax(self.whole_system, system.ipt2_whole_system_target(
            self.alliance, self.pooled_share, row_sum(efforts) / len(efforts), m.response("IPT2")),
            system.WHOLE_SYSTEM_RATE))
        self.arrangements = float(culture.ipt6_update_arrangements(self.arrangements, culture.ipt6_arrangements_target(
            self.alliance, self.senior_commitment), m.params.negativity_bias))

    def review(self, month: int) -> None:
        """At the end of a contract term: re-tender the worst provider (separate contracts) or, for an
        alliance performing poorly, halve the pooled share."""
        p = self.model.params
        review = com.is_review_month(month, p.contract_length)
        mean_trust = row_sum(self.trust_in_providers) / p.n_providers
        self.pooled_share = float(com.review_pooled_share(self.alliance, self.pooled_share, mean_trust, review))
        leaving = int(com.retender_choice(self.alliance, self.trust_in_providers, review))
        if leaving >= 0:
            self.model.replace_provider(leaving, month)


class ProviderAgent(mesa.Agent):
    """A provider organisation (NHS, council social care, voluntary/community or private).

    State: capacity by need domain, coverage of localities, trust toward each other provider and toward
    the commissioner, commitment to joint working, alignment with a common aim, whole-system
    orientation, role flexibility, assessment practice, innovation, and this month's effort.
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
        self.trust_in_commissioner = float(world["trust_in_commissioner"][0, index])
        for key in ("commitment", "alignment", "orientation", "role_flexibility", "practice", "innovation"):
            setattr(self, key, float(world[key][0, index]))
        self.effort = 0.0

    @property
    def mean_trust(self) -> float:
        return float(rel.mean_trust_toward_others(self.trust.sum(), self.model.params.n_providers))

    def choose_effort(self, month: int) -> None:
        """Decide how much effort to put into joint work: commitment and trust against the pulls of
        free-riding (alliance) or own-organisation targets (separate contracts)."""
        p, boss = self.model.params, self.model.commissioner
        trust = self.mean_trust
        pull = month_.effort_pull(boss.alliance, boss.pooled_share, p.monitoring, p.austerity, trust,
                                  p.free_riding_temptation, p.own_priorities, boss.arrangements)
        drive = month_.effort_drive(self.commitment, trust, self.trust_in_commissioner, boss.leadership, pull)
        shock = draws.shock(np.uint64(self.model.scenario_seed), month, Purpose.EFFORT, self.index)
        self.effort = float(rel.realised_effort(drive, p.effort_noise, shock))

    def learn(self, efforts: np.ndarray, success_seen: float) -> None:
        """After a month's work: trust in partners and in the commissioner, commitment, alignment (IPT4),
        orientation and roles (IPT7), innovation (IPT5) and assessment practice (IPT2)."""
        m, p, boss = self.model, self.model.params, self.model.commissioner
        self.trust = rel.update_trust(self.trust, efforts, self.interaction, p.trust_learning_rate, p.negativity_bias)
        trust = self.mean_trust
        self.trust_in_commissioner = float(rel.relax(self.trust_in_commissioner,
                                                     boss.trust_in_providers[self.index],
                                                     com.reciprocity_rate(boss.alliance)))
        self.commitment = float(rel.update_commitment(self.commitment, rel.commitment_target(
            trust, success_seen, self.trust_in_commissioner, boss.leadership, boss.pooled_share), p.negativity_bias))
        self.alignment = float(rel.relax(self.alignment, local.ipt4_alignment_target(
            boss.alliance, trust, m.response("IPT4")), local.ALIGNMENT_RATE))
        self.orientation = float(rel.relax(self.orientation, culture.ipt7_orientation_target(
            boss.alliance, self.commitment, p.culture_readiness, m.response("IPT7")), culture.ORIENTATION_RATE))
        self.role_flexibility = float(rel.relax(self.role_flexibility, culture.ipt7_role_target(
            boss.alliance, self.orientation), culture.ROLE_RATE))
        self.innovation = float(self.innovation + culture.ipt5_innovation_gain(
            boss.alliance, p.culture_readiness, self.orientation, self.innovation, m.response("IPT5")))
        self.practice = float(rel.relax(self.practice, system.ipt2_assessment_practice_target(
            boss.whole_system, boss.pooled_share, self.innovation, svc.INNOVATION_TOOLS), system.PRACTICE_RATE))


class CommunityAgent(mesa.Agent):
    """A locality: its need profile, community confidence and co-production participation, experience,
    the queue of need waiting for a service, its formal joint pathways (IPT1) and how far services are
    tailored to it (IPT3)."""

    model: AllianceModel

    def __init__(self, model: AllianceModel, index: int, world: dict[str, np.ndarray],
                 tables: dict[str, np.ndarray]) -> None:
        super().__init__(model)
        self.index = index
        self.need_profile = world["need_profile"][0, index].copy()
        for key in ("participation", "confidence", "experience", "formal", "tailoring", "pressure"):
            setattr(self, key, float(world[key][0, index]))
        self.backlog = world["backlog"][0, index].copy()
        self.profile_cdf = tables["profile_cdf"][0, index]
        self.choice = tuple(t[0, index] for t in tables["choice"])
        self.pooled_capacity = tables["pooled_capacity"][0, index]
        self.results: dict[str, float] = {}
        self.counts: dict[str, float] = {}

    def receive_services(self, month: int, view: ProviderView) -> None:
        """One month of services here: care pathways walked through providers, demand served from capacity."""
        m, p, boss = self.model, self.model.params, self.model.commissioner
        seed = np.array([m.scenario_seed], dtype=np.uint64)
        here = np.array([[self.tailoring]])
        navigation = local.community_navigation(p.community_connectedness, np.array([[self.participation]]))
        counts = pathways.walk(
            seed, month, np.array([self.index]), complexity=np.array([p.need_complexity]),
            profile_cdf=self.profile_cdf[None, None], choice=tuple(t[None, None] for t in self.choice),
            keep=svc.keep_chance(view.role_flexibility[..., None, :], here[..., :, None]),
            trust=view.trust, effort=view.effort,
            formal=np.array([[self.formal]]), navigation=navigation, pressure=np.array([[self.pressure]]),
            accountability=np.array([com.accountability(boss.alliance, p.monitoring, boss.pooled_share)]),
            cross=view.cross,
            whole_system=np.array([boss.whole_system]), handoff_loss=np.array([p.handoff_loss]),
            reassessment=np.array([p.reassessment]), practice=view.practice, alignment=view.alignment,
            n_domains=p.n_domains)
        frag = {k: float(v[0, 0]) for k, v in pathways.locality_fragmentation(counts).items()}
        shock = draws.shock(np.uint64(m.scenario_seed), month, Purpose.NEED, self.index, np.arange(p.n_domains))
        need = new_need(self.need_profile, shock) * m.plan(month)["demand"][0, month]
        demand = self.backlog + svc.presented_need(need, np.asarray(self.participation), p.community_capacity)
        k = self.index
        productivity = month_.locality_productivity(view.innovation_local[k], view.role_flexibility_local[k],
                                                    p.specialisation_gain)
        available = month_.available_capacity(self.pooled_capacity, boss.budget, productivity, boss.overhead,
                                              demand, boss.whole_system, self.tailoring, frag["duplication"])
        served, expired, self.backlog = svc.serve(demand, available, p.waiting_window)
        served_total, expired_total = served.sum(), expired.sum()
        access = float(svc.share(served_total, served_total + expired_total))
        self.pressure = 1.0 - access
        self.experience = float(rel.relax(self.experience, svc.experience_target(
            frag["discontinuity"], access, frag["gap_episodes"], self.participation), svc.EXPERIENCE_RATE))
        self.counts = {k: float(v[0, 0]) for k, v in counts.items()}
        self.results = {"need": need.sum(), "served": served_total, "expired": expired_total,
                        "resolved": served_total * (1.0 - frag["gap_episodes"]) * svc.service_fit(self.tailoring),
                        "demand": demand.sum(), **frag}

    def respond(self, view: ProviderView) -> None:
        """After the month: confidence follows experience (voice), co-production and tailoring (IPT3)
        move, and formal joint pathways are built or lost (IPT1)."""
        m, p, boss = self.model, self.model.params, self.model.commissioner
        k = self.index
        self.confidence = float(rel.relax(self.confidence, svc.confidence_target(
            p.community_confidence, self.experience), svc.CONFIDENCE_RATE))
        self.participation = float(rel.relax(self.participation, local.ipt3_participation_target(
            boss.alliance, p.place_based, self.confidence, p.community_connectedness, m.response("IPT3")),
            svc.PARTICIPATION_RATE))
        self.tailoring = float(local.ipt3_update_tailoring(self.tailoring, boss.alliance, p.place_based,
                                                           self.participation, p.community_capacity,
                                                           view.effort_local[k], m.response("IPT3")))
        drive = system.ipt1_pathway_drive(boss.alliance, p.need_complexity, view.aligned[k], view.effort_local[k],
                                          view.informal_local[k], m.response("IPT1"))
        self.formal = float(system.ipt1_update_pathways(self.formal, drive, view.effort_local[k]))
