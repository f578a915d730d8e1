"""The seven programme theories of Redgate et al. (2023) as rules, grouped by middle-range theory.

- A, system level (:mod:`sim.model.theories.system`): IPT1 complex interventions, IPT2 whole system.
- B, local focus (:mod:`sim.model.theories.local`): IPT3 local approach, IPT4 alignment and shared focus.
- C, culture (:mod:`sim.model.theories.culture`): IPT5 innovation, IPT6 senior commitment, IPT7 systemic change.

Each rule is a pure, elementwise numpy function: it works on one agent's scalars and on a whole batch
of scenarios alike, so the Mesa agents and the vectorised core call the same code. Each is gated by its
context (:func:`sim.model.logistic.gate`: without its context it does not fire) and scaled by an effective
``response``: how strongly people respond to the mechanism, :func:`sim.model.logistic.strength_response` of
the rule's strength parameter, computed once per run (:func:`sim.model.month.rule_responses`; 0 when switched
off with ``Params(disabled=...)``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sim.model.theories.culture import (
    ipt5_innovation_gain,
    ipt6_arrangements_target,
    ipt6_leadership,
    ipt6_update_arrangements,
    ipt7_change_programme,
    ipt7_confused_keep,
    ipt7_confused_loss,
    ipt7_orientation_target,
    ipt7_role_confusion,
    ipt7_role_target,
)
from sim.model.theories.local import (
    community_navigation,
    ipt3_engagement,
    ipt3_participation_target,
    ipt3_update_tailoring,
    ipt4_alignment_target,
)
from sim.model.theories.system import (
    ipt1_pathway_drive,
    ipt1_update_pathways,
    ipt2_assessment_practice_target,
    ipt2_whole_system_target,
)
from sim.params import Params


@dataclass(frozen=True)
class Rule:
    """A programme theory as the model encodes it: its functions, the context it is gated by, the outcomes it
    moves, and the general parameters it also reads (``also_reads``: owned by mechanisms every mode shares, such
    as monitoring or how trust is lost, so credited to no theory). Its own parameters (:attr:`parameters`) are
    derived. A test checks that every parameter passed on unchanged to the rule's functions (directly, through a
    local name, or through the formulas in between) is in one of the two."""

    id: str
    theory: str
    title: str
    function: Callable
    helpers: tuple[Callable, ...]
    context: tuple[str, ...]
    outcomes: tuple[str, ...]
    also_reads: tuple[str, ...] = ()

    @property
    def parameters(self) -> tuple[str, ...]:
        """The parameters that are the rule's own: the commissioning mode, its context, the schema's parameters
        declared with ``rule=<this id>``, and its strength. Grouped analyses credit each to the first theory
        listing it (:func:`sim.analysis.sensitivity.theory_group`)."""
        tagged = tuple(s.name for s in Params.schema() if s.rule == self.id and s.name not in self.context)
        return ("commissioning", *self.context, *tagged, f"{self.id.lower()}_strength")


RULE_INFO: tuple[Rule, ...] = (
    Rule("IPT1", "A", "Complex interventions for local needs", ipt1_pathway_drive, (ipt1_update_pathways,),
         ("need_complexity",), ("fragmentation", "gaps", "duplication", "needs_met")),
    Rule("IPT2", "A", "Whole-system approach", ipt2_whole_system_target, (ipt2_assessment_practice_target,),
         ("pooled_share", "sector_mix"), ("fragmentation", "gaps", "duplication", "access")),
    Rule("IPT3", "B", "Local approach to change", ipt3_participation_target,
         (ipt3_update_tailoring, community_navigation, ipt3_engagement),
         ("place_based", "community_confidence", "community_capacity", "community_connectedness"),
         ("discontinuity", "handoffs", "gaps", "access", "needs_met", "experience")),
    Rule("IPT4", "B", "Alignment and shared focus", ipt4_alignment_target, (),
         ("initial_trust",), ("goal_alignment", "duplication", "experience", "value")),
    Rule("IPT5", "C", "Innovation leading system change", ipt5_innovation_gain, (),
         ("culture_readiness",), ("duplication", "access", "value")),
    Rule("IPT6", "C", "Senior commitment to collaborative arrangements", ipt6_arrangements_target,
         (ipt6_update_arrangements, ipt6_leadership), ("senior_commitment",),
         ("mean_commitment", "low_effort", "mean_trust", "fragmentation"), ("monitoring", "negativity_bias")),
    Rule("IPT7", "C", "Drive for systemic change", ipt7_orientation_target,
         (ipt7_role_target, ipt7_change_programme, ipt7_role_confusion, ipt7_confused_loss, ipt7_confused_keep),
         ("culture_readiness",), ("systemic_change", "handoffs", "discontinuity", "gaps", "fragmentation"),
         ("handoff_loss",)),
)

RULES: dict[str, Callable] = {r.id: r.function for r in RULE_INFO}

__all__ = ["RULES", "RULE_INFO", "Rule", *(f.__name__ for r in RULE_INFO for f in (r.function, *r.helpers))]
