"""Middle-range theory A, system level (Redgate et al. 2023, Eur J Public Health 33(1):49-55, fig. 2).

Alliances use a whole-system approach: they integrate services through common goals, which reduces
system fragmentation and provides services that meet local population need.
"""

from __future__ import annotations

from sim.model.elementwise import formula
from sim.model.logistic import gate, saturation

#: Need complexity at which the complex-needs pathway work is half-switched on (assumed).
COMPLEXITY_THRESHOLD = 0.35
#: Pooled share at which whole-system working is half-switched on (assumed).
POOLED_THRESHOLD = 0.3
#: Mean joint effort at which whole-system working is half-possible: a board that meets while no one
#: works jointly is a talking shop (assumed).
EFFORT_THRESHOLD = 0.45
#: Monthly rate of building, and of losing, formal joint pathways (assumed; years to build).
FORMAL_RATE = 0.1
FORMAL_DECAY = 0.03
#: Drive of bilateral protocols between trusting partners, in either mode (assumed).
BILATERAL_PROTOCOLS = 0.3
#: Monthly rate at which whole-system working follows its target (assumed).
WHOLE_SYSTEM_RATE = 0.1

#: Share of the habit of repeating assessments that ends once payment no longer rewards activity (assumed).
PAYMENT_EFFECT = 0.5
#: Monthly rate at which assessment practice follows its incentive (assumed; habits change slowly).
PRACTICE_RATE = 0.06


@formula
def ipt1_pathway_drive(alliance, need_complexity, aligned, local_effort, informal, response):
    """IPT1, complex interventions for local needs: what drives formal joint care pathways in a locality.

    - Context: local need that calls for complex interventions (``need_complexity``, gated at 0.35).
    - Mechanism, resource: the alliance contract, which formalises common goals.
    - Mechanism, reasoning: providers join up pathways for complex episodes as far as their priorities
      are aligned (``aligned``) and they put effort into joint work (``local_effort``).
    - Outcome: formal pathway integration (:func:`ipt1_update_pathways`), which makes handoffs safe
      (fewer gaps) and lets assessments be shared (less duplication).

    In either mode, partners who trust each other and work together (``informal``) also agree bilateral
    protocols, at a lower rate; under separate contracts that is all there is. Returns the drive (0-1.7).
    """
    formal_goals = alliance * gate(need_complexity, COMPLEXITY_THRESHOLD) * response
    return formal_goals * aligned * local_effort + BILATERAL_PROTOCOLS * informal


@formula
def ipt1_update_pathways(formal, drive, local_effort):
    """Formal pathway integration (0-1) after a month: built by the drive, lost where effort lapses."""
    return formal + FORMAL_RATE * drive * (1.0 - formal) - FORMAL_DECAY * (1.0 - local_effort) * formal


@formula
def ipt2_whole_system_target(alliance, pooled_share, mean_effort, response):
    """IPT2, whole-system approach: cross-sector services work to shared outcomes under one budget.

    - Context: a whole-system approach with a shared budget (``pooled_share``, gated at 0.3) across
      sectors (its effect grows with ``sector_mix``: the cross-sector boundaries it removes).
    - Mechanism, resource: cross-sector services brought together through the alliance.
    - Mechanism, reasoning: holistic, joined-up working on shared outcomes, as far as providers put
      effort into joint work (``mean_effort``, gated at 0.45).
    - Outcome: whole-system working (0-1) that (a) re-deploys capacity across need domains to where the
      need is (``access``), (b) removes the extra loss and repetition at cross-sector handoffs
      (``gaps``, ``duplication``) and (c) ends the activity-payment incentive to repeat assessments.
    """
    joint_work = gate(mean_effort, EFFORT_THRESHOLD)
    return alliance * gate(pooled_share, POOLED_THRESHOLD) * saturation(2.0 * response * joint_work)


@formula
def ipt2_assessment_practice_target(whole_system, pooled_share, innovation, innovation_tools):
    """How readily a provider repeats assessments (0-1): paid per activity it does (1); as whole-system
    working ties payment to shared outcomes (the pooled share), the incentive goes; shared assessment
    tools from innovation (IPT5) cut it further."""
    return (1.0 - PAYMENT_EFFECT * whole_system * pooled_share) * (1.0 - innovation_tools * innovation)
