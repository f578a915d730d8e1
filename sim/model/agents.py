"""The agents of the alliance model: a commissioner, providers and communities (localities).

Each agent keeps its own state and acts by calling the month's phases (:mod:`sim.model.phases`) on it: the same
functions, in the same order, that the compiled run calls in loops over a batch (:mod:`sim.engine.batch`).
Every phase reads the scenario's parameters ``c`` and rule responses ``r`` at row 0 (a batch of one), and its
constants ``k``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.engine.walk import walk_scenario
from sim.model import pathways
from sim.model import phases as ph
from sim.model.world import SECTORS

if TYPE_CHECKING:
    from sim.model.alliance import AllianceModel, ProviderView


class CommissionerAgent(mesa.Agent):
    """The local authority commissioner: commissioning mode, budget, monitoring, its trust in each
    provider, the pooled share it can change at a review, whole-system working (IPT2) and the
    collaborative arrangements that senior commitment builds (IPT6)."""

    model: AllianceModel

    def __init__(self, model: AllianceModel, world: dict[str, np.ndarray]) -> None:
        super().__init__(model)
        self.alliance = float(model.c.alliance)
        self.pooled_share = float(world["pooled_share"][0])
        self.trust_in_providers = world["commissioner_trust"][0].copy()
        self.whole_system = float(world["whole_system"][0])
        self.arrangements = float(world["arrangements"][0])
        self.budget = self.overhead = self.leadership = 0.0
        self.senior_commitment = model.params.senior_commitment

    def start_month(self, month: int) -> None:
        """Events take effect; this month's budget, governance overhead and leadership signal (IPT6)."""
        m = self.model
        plan = m.plan(month)
        if month > 0 and plan["exit"][0, month] > 0:
            m.replace_provider(m.leaving_provider(month), month)
        self.budget = float(plan["budget"][0, month])
        self.senior_commitment = float(plan["senior"][0, month])
        mean_trust = np.array([p.mean_trust for p in m.provider_list])
        self.overhead, self.leadership = ph.commissioner_sets_month(m.c, m.r, m.k, mean_trust, self.arrangements)

    def observe(self, month: int, efforts: np.ndarray) -> None:
        """Monitor each provider's cooperation (noise falls with monitoring) and update trust in it."""
        m = self.model
        for i in range(len(efforts)):
            self.trust_in_providers[i] = ph.commissioner_observes(
                m.c, m.k, month, i, self.trust_in_providers[i], efforts[i], m.tables["commissioner_mean"],
                m.tables["commissioner_half_spread"])

    def learn(self, month: int, efforts: np.ndarray, alignments: np.ndarray) -> None:
        """Whole-system working follows providers' joint effort and alignment (IPT2); arrangements follow senior
        buy-in (IPT6)."""
        m = self.model
        self.whole_system, self.arrangements = ph.commissioner_learns(
            m.c, m.r, m.k, efforts, alignments, self.pooled_share, self.whole_system, self.arrangements,
            self.senior_commitment)

    def review(self, month: int) -> None:
        """At the end of a contract term: re-tender the worst provider (separate contracts) or, for an
        alliance performing poorly, halve the pooled share."""
        m = self.model
        self.pooled_share, leaving = ph.commissioner_reviews(m.c, m.k, month, self.pooled_share,
                                                             self.trust_in_providers)
        if leaving >= 0:
            m.replace_provider(int(leaving), month)


class ProviderAgent(mesa.Agent):
    """A provider organisation (NHS, council social care, voluntary/community or private).

    State: coverage of localities, trust toward each other provider and toward the commissioner, commitment to
    joint working, alignment with a common aim, whole-system orientation, role flexibility, assessment practice,
    innovation, and this month's effort.
    """

    model: AllianceModel

    def __init__(self, model: AllianceModel, index: int, world: dict[str, np.ndarray]) -> None:
        super().__init__(model)
        self.index = index
        self.sector = SECTORS[int(world["sector"][0, index])]
        self.coverage = world["coverage"][0, index].copy()
        self.trust = world["trust"][0, index].copy()  # trust[j]: this provider's trust in provider j
        self.trust_in_commissioner = float(world["trust_in_commissioner"][0, index])
        for key in ("commitment", "alignment", "orientation", "role_flexibility", "practice", "innovation"):
            setattr(self, key, float(world[key][0, index]))
        self.effort = 0.0

    @property
    def mean_trust(self) -> float:
        return float(ph.provider_mean_trust(self.trust))

    def choose_effort(self, month: int) -> None:
        """Decide how much effort to put into joint work: commitment and trust against the pulls of
        free-riding and its own agenda until it aligns with the common aim (alliance), or own-organisation
        targets (separate contracts)."""
        m, boss = self.model, self.model.commissioner
        self.effort = float(ph.provider_effort(
            m.c, m.k, month, self.index, boss.pooled_share, self.alignment, boss.leadership, self.commitment,
            self.mean_trust, self.trust_in_commissioner))

    def learn(self, efforts: np.ndarray, success_seen: float) -> None:
        """After a month's work: trust in partners and in the commissioner, commitment, alignment (IPT4),
        orientation and roles (IPT7), innovation (IPT5) and assessment practice (IPT2)."""
        m, boss, t, i = self.model, self.model.commissioner, self.model.tables, self.index
        (self.trust_in_commissioner, self.commitment, self.alignment, self.orientation, self.role_flexibility,
         self.innovation, self.practice) = (float(v) for v in ph.provider_learns(
            m.c, m.r, m.k, self.trust, efforts, t["trust_mean"][i], t["trust_half_spread"][i],
            boss.trust_in_providers[i], t["reciprocity"], success_seen, boss.leadership, boss.pooled_share,
            boss.whole_system, t["commitment_mean"], t["commitment_half_spread"], self.trust_in_commissioner,
            self.commitment, self.alignment, self.orientation, self.role_flexibility, self.innovation,
            self.practice))


class CommunityAgent(mesa.Agent):
    """A locality: its need profile, community confidence and co-production participation, experience,
    the queue of need waiting for a service, its formal joint pathways (IPT1) and how far services are
    tailored to it (IPT3)."""

    model: AllianceModel

    def __init__(self, model: AllianceModel, index: int, world: dict[str, np.ndarray]) -> None:
        super().__init__(model)
        self.index = index
        for key in ("participation", "confidence", "experience", "formal", "tailoring", "pressure"):
            setattr(self, key, float(world[key][0, index]))
        self.backlog = world["backlog"][0, index].copy()
        self.results: dict[str, float] = {}
        self.counts: dict[str, float] = {}

    def receive_services(self, month: int, view: ProviderView) -> None:
        """One month of services here: care pathways walked through providers, demand served from capacity."""
        m, boss, t, here = self.model, self.model.commissioner, self.model.tables, self.index
        keep = np.empty((1, len(view.effort)))
        accountable, handoff_loss, confusion = ph.handoff_conditions(
            m.k, boss.alliance, m.c.monitoring, boss.pooled_share, month, m.c.handoff_loss, m.c.culture_readiness,
            view.role_flexibility, m.r.ipt7)
        navigation = ph.pathway_conditions(m.c, m.k, self.participation, self.tailoring, view.role_flexibility,
                                           accountable, confusion, keep[0])
        counts = np.zeros((1, len(pathways.COUNTS)))
        walk_scenario(m.k, m.c.seed, month, np.array([here]), len(self.backlog), m.c.need_complexity,
                      t["profile_cdf"][here:here + 1], t["prob"][here:here + 1], t["pick"][here:here + 1], keep,
                      view.trust, view.effort, t["cross"], np.array([navigation]), np.array([self.formal]),
                      np.array([self.pressure]), accountable,
                      boss.whole_system, handoff_loss, m.c.reassessment, view.practice, view.alignment,
                      counts, m.walk_space)
        (gaps, duplication, discontinuity, gap_episodes, need, demand, served, expired, resolved, access,
         self.experience) = (float(v) for v in ph.locality_services(
            m.c, m.k, month, here, counts[0], t["need_profile"][here], t["pooled_capacity"][here], self.backlog,
            self.participation, self.tailoring, view.innovation_local[here], view.role_flexibility_local[here],
            boss.budget, boss.overhead, boss.whole_system, accountable, m.plan(month)["demand"][0, month],
            self.experience, m.domain_space))
        self.pressure = 1.0 - access
        self.counts = dict(zip(pathways.COUNTS, counts[0].tolist(), strict=True))
        self.results = {"need": need, "served": served, "expired": expired, "resolved": resolved, "demand": demand,
                        "gaps": gaps, "duplication": duplication, "discontinuity": discontinuity,
                        "gap_episodes": gap_episodes}

    def respond(self, view: ProviderView) -> None:
        """After the month: confidence follows experience (voice), co-production and tailoring (IPT3)
        move, and formal joint pathways are built or lost (IPT1)."""
        m, k = self.model, self.index
        self.confidence, self.participation, self.tailoring, self.formal = (float(v) for v in ph.locality_responds(
            m.c, m.r, m.k, self.confidence, self.participation, self.tailoring, self.formal, self.experience,
            view.effort_local[k], view.aligned[k], view.informal_local[k]))
