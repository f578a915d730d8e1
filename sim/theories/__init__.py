"""The seven programme theories of Redgate et al. (2023) as rules, grouped by middle-range theory.

- A, system level (:mod:`sim.theories.system`): IPT1 complex interventions, IPT2 whole system.
- B, local focus (:mod:`sim.theories.local`): IPT3 local approach, IPT4 alignment and shared focus.
- C, culture (:mod:`sim.theories.culture`): IPT5 innovation, IPT6 senior commitment, IPT7 systemic change.

Each rule is a pure, elementwise numpy function: it works on one agent's scalars and on a whole batch
of scenarios alike, so the Mesa agents and the vectorised core call the same code. Each takes an
effective ``strength`` (0 when the rule is switched off with ``Params(disabled=...)``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sim.theories.culture import ipt5_innovation_gain, ipt6_leadership, ipt7_orientation_target
from sim.theories.local import ipt3_coproduction_target, ipt4_alignment_target
from sim.theories.system import ipt1_formal_integration, ipt2_flexibility


@dataclass(frozen=True)
class Rule:
    """A programme theory as the model encodes it: its rule, the parameters it reads, what it moves."""

    id: str
    theory: str
    title: str
    function: Callable
    parameters: tuple[str, ...]
    outcomes: tuple[str, ...]


RULE_INFO: tuple[Rule, ...] = (
    Rule("IPT1", "A", "Complex interventions for local needs", ipt1_formal_integration,
         ("commissioning", "need_complexity", "ipt1_strength"),
         ("fragmentation", "gaps", "duplication", "discontinuity", "needs_met")),
    Rule("IPT2", "A", "Whole-system approach", ipt2_flexibility,
         ("commissioning", "pooled_share", "ipt2_strength"),
         ("fragmentation", "duplication", "access")),
    Rule("IPT3", "B", "Local approach to change", ipt3_coproduction_target,
         ("commissioning", "place_based", "community_confidence", "community_capacity",
          "community_connectedness", "ipt3_strength"),
         ("needs_met", "experience", "access")),
    Rule("IPT4", "B", "Alignment and shared focus", ipt4_alignment_target,
         ("commissioning", "initial_trust", "ipt4_strength"),
         ("goal_alignment", "experience", "value", "needs_met")),
    Rule("IPT5", "C", "Innovation leading system change", ipt5_innovation_gain,
         ("commissioning", "culture_readiness", "ipt5_strength"),
         ("systemic_change", "access", "value")),
    Rule("IPT6", "C", "Senior commitment to collaborative arrangements", ipt6_leadership,
         ("commissioning", "senior_commitment", "monitoring", "ipt6_strength"),
         ("mean_commitment", "mean_trust", "fragmentation", "needs_met")),
    Rule("IPT7", "C", "Drive for systemic change", ipt7_orientation_target,
         ("commissioning", "culture_readiness", "ipt7_strength"),
         ("systemic_change",)),
)

RULES: dict[str, Callable] = {r.id: r.function for r in RULE_INFO}

__all__ = ["RULES", "RULE_INFO", "Rule", *(r.function.__name__ for r in RULE_INFO)]
