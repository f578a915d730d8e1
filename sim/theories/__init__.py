"""The seven programme theories of Redgate et al. (2023) as rules, grouped by middle-range theory.

- A, system level (:mod:`sim.theories.system`): IPT1 complex interventions, IPT2 whole system.
- B, local focus (:mod:`sim.theories.local`): IPT3 local approach, IPT4 alignment and shared focus.
- C, culture (:mod:`sim.theories.culture`): IPT5 innovation, IPT6 senior commitment, IPT7 systemic change.

Each rule is a pure, elementwise numpy function: it works on one agent's scalars and on a whole batch
of scenarios alike, so the Mesa agents and the vectorised core call the same code. Each takes an
effective ``strength`` (0 when the rule is switched off), and with strength 0 it reproduces what the
world looks like without that mechanism.
"""

from sim.theories.culture import ipt5_innovation_gain, ipt6_leadership, ipt7_orientation_target
from sim.theories.local import ipt3_coproduction_target, ipt4_alignment_target
from sim.theories.system import ipt1_formal_integration, ipt2_flexibility

RULES = {
    "IPT1": ipt1_formal_integration,
    "IPT2": ipt2_flexibility,
    "IPT3": ipt3_coproduction_target,
    "IPT4": ipt4_alignment_target,
    "IPT5": ipt5_innovation_gain,
    "IPT6": ipt6_leadership,
    "IPT7": ipt7_orientation_target,
}

__all__ = ["RULES", *(f.__name__ for f in RULES.values())]
