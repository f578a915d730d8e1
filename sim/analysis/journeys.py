"""A person's journey: one sampled service user's care pathway, step by step, as the model walked it.

The model's walk (:func:`sim.engine.walk.walk_scenario`, compiled) only returns counts per locality. To show a
class what fragmentation means for one person, :class:`WalkRecorder` keeps what each locality's walk read this
month (the providers' trust, effort, roles and practices as the walk saw them, the locality's formal pathways,
navigation, pressure, the commissioner's whole-system working and pooled share), and :func:`replay` walks one
episode again with the **same keyed draws** (:func:`sim.model.draws.key_prefix`, :func:`~sim.model.draws.uniform3_from`)
and the same formulas, in the same order, as the compiled walk. Summed over a locality's episodes the replay
gives exactly the walk's counts (a test checks), so the journey on screen is one of the episodes behind the
fragmentation chart, not an illustration.

The recorder wraps each community's ``receive_services`` on the instance (the model's code is untouched):
the state it records is the state at the moment that month's walk runs, which later in the month (learning,
reviews, a provider leaving) moves on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.engine import walk
from sim.model import constants as kc
from sim.model import pathways
from sim.model import phases as ph
from sim.model import services as svc
from sim.model.draws import Purpose, key_prefix, uniform3_from

if TYPE_CHECKING:
    import pandas as pd

    from sim.model.alliance import AllianceModel, ProviderView

__all__ = ["Contact", "Journey", "WalkInputs", "WalkRecorder", "replay", "replay_counts", "pick_episode",
           "typical_journeys"]


@dataclass(frozen=True)
class WalkInputs:
    """What one locality's walk read in one month (arrays are copies, one scenario, no batch axis)."""

    k: np.ndarray  # the scenario's constants row
    seed: int
    month: int
    locality: int
    n_domains: int
    complexity: float
    profile_cdf: np.ndarray  # (D,)
    prob: np.ndarray  # (D, P) alias tables of this locality
    pick: np.ndarray  # (D, P, 2)
    keep: np.ndarray  # (P,) chance the provider holding the person keeps the next part
    trust: np.ndarray  # (P, P)
    effort: np.ndarray  # (P,)
    cross: np.ndarray  # (P, P) 1 for a pair across sectors
    practice: np.ndarray  # (P,)
    alignment: np.ndarray  # (P,)
    navigation: float
    formal: float
    pressure: float
    accountability: float
    whole_system: float
    handoff_loss: float
    reassessment: float
    sectors: tuple[str, ...]
    access: float = float("nan")  # filled in after the month: share of the locality's need served in time
    waiting_window: int = 0


@dataclass(frozen=True)
class Contact:
    """One part of a person's care: the need domain, the provider, and what happened on the way to it."""

    domain: int
    provider: int
    sector: str
    kept: bool = False  # the provider that had the person kept this part (no handoff)
    handoff: bool = False  # a change of provider
    lost: bool = False  # the handoff lost the person: no one took responsibility (a gap)
    repeated: bool = False  # the receiving provider repeated the assessment (duplication)


@dataclass(frozen=True)
class Journey:
    """One episode: its contacts in order, and its counts in the walk's terms."""

    locality: int
    episode: int
    month: int
    contacts: tuple[Contact, ...] = field(default_factory=tuple)

    @property
    def complex(self) -> bool:
        return len(self.contacts) > 1

    @property
    def handoffs(self) -> int:
        return sum(c.handoff for c in self.contacts)

    @property
    def lost(self) -> int:
        return sum(c.lost for c in self.contacts)

    @property
    def repeated(self) -> int:
        return sum(c.repeated for c in self.contacts)

    @property
    def kept(self) -> int:
        return sum(c.kept for c in self.contacts)

    @property
    def providers(self) -> int:
        """Different providers the person met."""
        return len({c.provider for c in self.contacts})


class WalkRecorder:
    """Keeps, for each locality, what its walk read in the latest month (see the module's docstring)."""

    def __init__(self, model: AllianceModel) -> None:
        self.model = model
        self.inputs: dict[int, WalkInputs] = {}
        for community in model.communities:
            community.receive_services = self._wrap(community, community.receive_services)

    def _wrap(self, community: Any, original: Callable[[int, ProviderView], None]) -> Callable[..., None]:
        def receive_services(month: int, view: ProviderView) -> None:
            recorded = self._record(community, month, view)
            original(month, view)
            served, expired = community.results["served"], community.results["expired"]
            access = float(svc.share(served, served + expired))
            self.inputs[community.index] = _with(recorded, access=access,
                                                 waiting_window=self.model.params.waiting_window)
        return receive_services

    def _record(self, community: Any, month: int, view: ProviderView) -> WalkInputs:
        """The arguments the community is about to give :func:`pathways.walk`, computed by the same calls."""
        m, p, boss, here = self.model, self.model.params, self.model.commissioner, community.index
        keep = np.empty(len(view.effort))
        accountable, handoff_loss, confusion = (float(v) for v in ph.handoff_conditions(
            m.k, boss.alliance, p.monitoring, boss.pooled_share, month, p.handoff_loss, p.culture_readiness,
            view.role_flexibility, m.r.ipt7))
        navigation = ph.pathway_conditions(m.c, m.k, community.participation, community.tailoring,
                                           view.role_flexibility, accountable, confusion, keep)
        t = m.tables
        return WalkInputs(
            k=np.array(m.k), seed=int(m.scenario_seed), month=int(month), locality=int(here),
            n_domains=int(p.n_domains), complexity=float(p.need_complexity),
            profile_cdf=np.array(t["profile_cdf"][here], dtype=float), prob=np.array(t["prob"][here]),
            pick=np.array(t["pick"][here]), keep=keep, trust=np.array(view.trust), effort=np.array(view.effort),
            cross=np.array(t["cross"]), practice=np.array(view.practice), alignment=np.array(view.alignment),
            navigation=float(navigation), formal=float(community.formal), pressure=float(community.pressure),
            accountability=accountable,
            whole_system=float(boss.whole_system), handoff_loss=handoff_loss,
            reassessment=float(p.reassessment), sectors=tuple(pr.sector for pr in m.provider_list))


def _with(inputs: WalkInputs, **changes: Any) -> WalkInputs:
    return WalkInputs(**{**inputs.__dict__, **changes})


def _draw(u: float, inputs: WalkInputs, domain: int) -> int:
    # the walk's own alias draw (compiled, callable from Python), on this locality's tables
    return int(walk._draw_provider(u, inputs.prob[None], inputs.pick[None], 0, domain, inputs.prob.shape[-1]))


def replay(inputs: WalkInputs, episode: int) -> Journey:
    """Walk episode ``episode`` (0 .. EPISODES - 1) of ``inputs``' locality and month again, contact by contact.

    The arithmetic follows :func:`sim.engine.walk.walk_scenario` term for term and in the same order (floating
    point is not associative: a reordered product could flip a draw at the edge)."""
    if not 0 <= episode < pathways.EPISODES:
        raise ValueError(f"episode={episode}: must be in [0, {pathways.EPISODES - 1}]")
    D = inputs.n_domains
    key = inputs.locality * pathways.EPISODES + episode
    # numba hands a uint64 back as a Python int, which it would then read as int64: keep it uint64
    episode_key = np.uint64(key_prefix(np.uint64(inputs.seed), inputs.month, int(Purpose.EPISODE)))
    contact_key = np.uint64(key_prefix(np.uint64(inputs.seed), inputs.month, int(Purpose.CONTACT)))
    u_complex, u_size, u_start = uniform3_from(episode_key, key, 0)
    size = 1 + (u_complex < inputs.complexity) * (1 + int(u_size * (D - 1)))
    first = 0
    for d in range(D - 1):
        first += int(inputs.profile_cdf[d] < u_start)
    provider = _draw(uniform3_from(contact_key, key, 0)[0], inputs, first)
    contacts = [Contact(first, provider, inputs.sectors[provider])]
    if size == 1:  # a simple episode: the walk draws nothing more for it
        return Journey(inputs.locality, episode, inputs.month, tuple(contacts))
    k = inputs.k
    unmanaged = pathways.unmanaged_share(k, inputs.navigation, inputs.formal, inputs.accountability)
    loss_base = pathways.stretched_loss(k, inputs.handoff_loss, inputs.pressure)
    shared_base = pathways.shared_records(k, inputs.formal)
    cross_weight = pathways.cross_sector_weight(k, inputs.whole_system)
    prev = provider
    for contact in range(1, size):
        domain = first + contact
        domain = domain - D if domain >= D else domain
        u, loss_draw, repeat_draw = uniform3_from(contact_key, key, contact)
        stay = inputs.keep[prev]
        is_kept = u < stay
        drawn = _draw(min(max(u - stay, 0.0) / max(1.0 - stay, 1e-12), 1.0), inputs, domain)
        now = prev if is_kept else drawn
        handoff = now != prev
        penalty = pathways.handoff_penalty(cross_weight, inputs.cross[prev, now])
        informal = pathways.pair_informal(inputs.trust[prev, now], inputs.trust[now, prev], inputs.effort[prev],
                                          inputs.effort[now])
        loss = pathways.loss_chance(loss_base, penalty, informal, unmanaged, k[kc.INFORMAL_REACH])
        is_lost = handoff and loss_draw < loss
        shared = pathways.information_shared(shared_base, inputs.alignment[now], k[kc.UNALIGNED_SHARING_SHARE])
        is_repeat = handoff and not is_lost and (
            repeat_draw < pathways.repeat_chance(inputs.reassessment, inputs.practice[now], shared, penalty))
        contacts.append(Contact(domain, now, inputs.sectors[now], kept=bool(is_kept), handoff=bool(handoff),
                                lost=bool(is_lost), repeated=bool(is_repeat)))
        prev = now
    return Journey(inputs.locality, episode, inputs.month, tuple(contacts))


def replay_counts(inputs: WalkInputs) -> dict[str, float]:
    """The walk's whole-number counts for the locality and month, summed over every replayed episode."""
    journeys = [replay(inputs, e) for e in range(pathways.EPISODES)]
    return {"episodes": float(len(journeys)), "components": float(sum(len(j.contacts) for j in journeys)),
            "handoffs": float(sum(j.handoffs for j in journeys)), "lost": float(sum(j.lost for j in journeys)),
            "duplicated": float(sum(j.repeated for j in journeys)), "kept": float(sum(j.kept for j in journeys)),
            "gap_episodes": float(sum(j.lost > 0 for j in journeys)),
            "multi": float(sum(j.complex for j in journeys)),
            "later": float(sum(len(j.contacts) - 1 for j in journeys))}


def pick_episode(inputs: WalkInputs, person: int = 0) -> int:
    """The ``person``-th complex episode of the month (cycling), or episode 0 if none was complex: a simple
    episode has one contact and nothing to show."""
    complex_ = [e for e in range(pathways.EPISODES) if replay(inputs, e).complex]
    return complex_[person % len(complex_)] if complex_ else 0


def typical_journeys(base: Any, *, seed: int = 1, month: int = 60, people: int = 3,
                     locality: int = 0) -> pd.DataFrame:
    """A few service users' care pathways in the same place under each commissioning mode, at ``month``.

    Both modes run the Mesa model from the same seed; each walk is recorded and the first ``people`` complex
    episodes of ``locality`` are replayed. The walk's draws are keyed by seed, month, locality and episode, so an
    episode is the same person with the same needs in both modes: what differs is who cares for them and what is
    lost or repeated on the way. One row per contact: ``commissioning``, ``person``, ``contact`` (0 = the first),
    ``domain``, ``provider``, ``sector``, ``kept``, ``handoff``, ``lost``, ``repeated``."""
    import pandas as pd

    from sim.model.alliance import AllianceModel

    walked = {}
    for mode in ("alliance", "traditional"):
        model = AllianceModel(base.replace(commissioning=mode, horizon=max(int(base.horizon), month)), seed=seed)
        recorder = WalkRecorder(model)
        for _ in range(month):
            model.step()
        walked[mode] = recorder.inputs[locality]
    chosen = [e for e in range(pathways.EPISODES) if replay(walked["traditional"], e).complex][:people]
    rows = []
    for mode, inputs in walked.items():
        for person, episode in enumerate(chosen, start=1):
            for i, c in enumerate(replay(inputs, episode).contacts):
                rows.append({"commissioning": mode, "person": person, "episode": episode, "month": month,
                             "contact": i, "domain": c.domain, "provider": c.provider, "sector": c.sector,
                             "kept": c.kept, "handoff": c.handoff, "lost": c.lost, "repeated": c.repeated})
    return pd.DataFrame(rows)
