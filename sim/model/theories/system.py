"""Middle-range theory A, system level (Redgate et al. 2023, Eur J Public Health 33(1):49-55, fig. 2).

Alliances use a whole-system approach: they integrate services through common goals, which reduces
system fragmentation and provides services that meet local population need.
"""

from __future__ import annotations

from sim.engine.compiled import formula
from sim.model import constants as kc
from sim.model.logistic import gate, saturation

#: Constants (thresholds, rates, reaches) are in the registry, :mod:`sim.model.constants`; each rule reads them from
#: the scenario's constants ``k``, and its context gate from the gate's threshold (:func:`sim.model.logistic.gate`).


@formula
def ipt1_pathway_drive(k, alliance, need_complexity, aligned, local_effort, informal, response):
    """IPT1, complex interventions for local needs: what drives formal joint care pathways in a locality.

    - Context: local need that calls for complex interventions (``need_complexity``, gated at ``complexity_threshold``).
    - Mechanism, resource: the alliance contract, which formalises common goals.
    - Mechanism, reasoning: providers join up pathways for complex episodes as far as their priorities
      are aligned (``aligned``) and they put effort into joint work (``local_effort``).
    - Outcome: formal pathway integration (:func:`ipt1_update_pathways`), which makes handoffs safe
      (fewer gaps) and lets assessments be shared (less duplication).

    In either mode, partners who trust each other and work together (``informal``) also agree bilateral
    protocols, at a lower rate; under separate contracts that is all there is. Returns the drive (0-1.7).
    """
    formal_goals = alliance * gate(k, need_complexity, kc.COMPLEXITY_THRESHOLD) * response
    return formal_goals * aligned * local_effort + k[kc.BILATERAL_PROTOCOLS] * informal


@formula
def ipt1_update_pathways(k, formal, drive, local_effort):
    """Formal pathway integration (0-1) after a month: built by the drive, lost where effort lapses."""
    return formal + k[kc.FORMAL_RATE] * drive * (1.0 - formal) - k[kc.FORMAL_DECAY] * (1.0 - local_effort) * formal


@formula
def ipt2_whole_system_target(k, alliance, pooled_share, mean_effort, mean_alignment, response):
    """IPT2, whole-system approach: cross-sector services work to shared outcomes under one budget.

    - Context: a whole-system approach with a shared budget (``pooled_share``, gated at ``pooled_threshold``)
      across sectors (its effect grows with ``sector_mix``: the cross-sector boundaries it removes).
    - Mechanism, resource: cross-sector services brought together through the alliance.
    - Mechanism, reasoning: "holistic and joined up working focusing on shared outcomes" (Redgate et al.
      2023): as far as providers put effort into joint work (``mean_effort``, gated at
      ``joint_effort_threshold``) *and* have aligned their priorities with the shared outcomes
      (``mean_alignment``, IPT4, gated at ``shared_outcomes_threshold``). Alignment needs trust, so a pooled
      budget that leaders push through without it does not become whole-system working.
    - Outcome: whole-system working (0-1) that (a) re-deploys capacity across need domains to where the
      need is (``access``), (b) removes the extra loss and repetition at cross-sector handoffs
      (``gaps``, ``duplication``) and (c) ends the activity-payment incentive to repeat assessments.
    """
    joint_work = gate(k, mean_effort, kc.JOINT_EFFORT_THRESHOLD) * gate(k, mean_alignment, kc.SHARED_OUTCOMES_THRESHOLD)
    return alliance * gate(k, pooled_share, kc.POOLED_THRESHOLD) * saturation(
        k[kc.WHOLE_SYSTEM_RESPONSE] * response * joint_work)


@formula
def ipt2_assessment_practice_target(k, whole_system, pooled_share, innovation):
    """How readily a provider repeats assessments (0-1): paid per activity it does (1); as whole-system
    working ties payment to shared outcomes (the pooled share), the incentive goes; shared assessment
    tools from innovation (IPT5) cut it further."""
    return (1.0 - k[kc.PAYMENT_EFFECT] * whole_system * pooled_share) * (1.0 - k[kc.INNOVATION_TOOLS] * innovation)
