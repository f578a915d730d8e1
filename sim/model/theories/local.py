"""Middle-range theory B, local focus (Redgate et al. 2023, Eur J Public Health 33(1):49-55, fig. 3).

Alliances build on local capacity to tailor services to local need, influencing change at the local
level and a better service-user experience.
"""

from __future__ import annotations

import numpy as np

from sim.engine.compiled import formula
from sim.model import constants as kc
from sim.model.logistic import gate, saturation

#: Constants (thresholds, rates, reaches) are in the registry, :mod:`sim.model.constants`; each rule reads them from
#: the scenario's constants ``k``, and its context gate from the gate's threshold (:func:`sim.model.logistic.gate`).


@formula
def ipt3_participation_target(k, alliance, place_based, confidence, connectedness, response):
    """IPT3, local approach to change (resource): the co-production a locality moves toward (0-1).

    - Context: the national shift to locality working (``place_based``, gated at ``place_threshold``).
    - Mechanism, resource: local confidence (``confidence``, which moves with experience) and
      connectedness, built on by an alliance that seeks co-production; elsewhere communities offer a
      base level.
    - Mechanism, reasoning: residents who take part shape services to their locality's need (the
      tailoring itself is :func:`ipt3_update_tailoring`).
    - Outcome: participation, which drives tailoring (:func:`ipt3_update_tailoring`), community
      navigation across handoffs (:func:`community_navigation`) and ``experience``.
    """
    base = k[kc.BASE_COPRODUCTION]
    seek = base + (1.0 - base) * alliance * gate(k, place_based, kc.PLACE_THRESHOLD) * response
    reach = k[kc.UNCONNECTED_PARTICIPATION]
    return np.minimum(1.0, confidence * (reach + (1.0 - reach) * connectedness) * seek)


@formula
def ipt3_update_tailoring(k, tailoring, alliance, place_based, participation, community_capacity, local_effort,
                          response):
    """IPT3, local approach to change (reasoning): services tailored to each locality's own need (0-1).

    - Mechanism, reasoning: with residents taking part (``participation``) and community capacity to
      shape services (``community_capacity``), an alliance whose providers work jointly there
      (``local_effort``) re-profiles capacity to the locality's need
      and forms locality teams that keep a person's care together.
    - Outcome: tailoring, which moves capacity to the locality's need profile (``access``,
      ``needs_met``), raises the fit of services, and keeps later parts of a care pathway with the
      locality team (``discontinuity``, ``handoffs``). Separate contracts fix their specifications
      centrally: nothing builds tailoring and it decays.
    """
    build = alliance * gate(k, place_based, kc.PLACE_THRESHOLD) * response * participation \
        * community_capacity * local_effort
    return tailoring + k[kc.TAILOR_RATE] * build * (1.0 - tailoring) - k[kc.TAILOR_DECAY] * tailoring


@formula
def ipt3_engagement(k, place_based, response):
    """IPT3's cost: how much community engagement an alliance runs (0-1): where place-based working is the
    national context, at the rule's strength (capped at full). Its capacity cost (``engagement_cost``,
    :func:`sim.model.commissioning.overhead`) is spent whether or not the community has the confidence,
    capacity and connectedness to take part; only those assets repay it through co-production."""
    return gate(k, place_based, kc.PLACE_THRESHOLD) * min(response, 1.0)


@formula
def community_navigation(k, connectedness, participation):
    """Share of handoff losses a locality's own networks prevent: connected, involved communities carry
    people between services (IPT3's connectedness asset, in either mode)."""
    return k[kc.NAVIGATION] * connectedness * participation


@formula
def ipt4_alignment_target(k, alliance, mean_trust, n_providers, response):
    """IPT4, alignment and shared focus: priorities align through trust and a common aim.

    - Context: within an alliance, which gives providers a common aim.
    - Mechanism, resource: a shared focus between the services involved.
    - Mechanism, reasoning: a provider aligns its priorities with the common aim once it trusts its
      partners (``mean_trust``, gated at ``trust_threshold``: with a prehistory of distrust no shared focus forms, and
      the alliance's pathways stall; Ansell & Gash 2008). A common aim is harder to agree the more partners
      there are (``consensus_partners``; Provan & Kenis 2008: shared governance strains as partners multiply).
    - Outcome: the alignment a provider moves toward (0-1); in an alliance, alignment takes the pull of
      its own organisation's agenda off joint work (:func:`sim.model.commissioning.own_priorities_pull`);
      it drives formal pathways (IPT1) and information sharing at handoffs (less repeated assessment:
      ``duplication``), and so
      ``experience`` and ``value``. Without a common aim (separate contracts, or the rule switched off),
      trust still brings a little alignment through familiarity.
    """
    consensus = (k[kc.CONSENSUS_PARTNERS] + 10.0) / (k[kc.CONSENSUS_PARTNERS] + n_providers)
    common_aim = alliance * saturation(k[kc.ALIGNMENT_RESPONSE] * response * consensus
                                       * gate(k, mean_trust, kc.TRUST_THRESHOLD))
    return 1.0 - (1.0 - common_aim) * (1.0 - k[kc.BILATERAL_ALIGNMENT] * mean_trust)
