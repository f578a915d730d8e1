"""Middle-range theory B, local focus (Redgate et al. 2023, Eur J Public Health 33(1):49-55, fig. 3).

Alliances build on local capacity to tailor services to local need, influencing change at the local
level and a better service-user experience.
"""

from __future__ import annotations

import numpy as np

#: Alignment of priorities that separate contracts leave in place (no common aim).
BASELINE_ALIGNMENT = 0.2


def ipt3_coproduction_target(alliance, place_based, community_assets, strength):
    """IPT3, local approach to change: co-production built on community assets.

    - Context: the national shift to locality working (``place_based``, 0-0.9); it works under either
      commissioning mode but an alliance, which rewards it, builds on it more (weight 1 vs 0.3).
    - Mechanism, resource: local confidence, capacity and connectedness (``community_assets``, 0-1).
    - Mechanism, reasoning: services tailor themselves to local need by designing and delivering
      with residents.
    - Outcome: the level of co-production participation a locality moves toward (0-1). Participation
      lets communities meet part of their own need, improves the fit of services (``needs_met``) and
      raises ``experience``.

    Returns ``1 - exp(-2 * strength * (0.3 + 0.7 * alliance) * (0.5 + place_based) * community_assets)``.
    """
    return -np.expm1(-2.0 * strength * (0.3 + 0.7 * alliance) * (0.5 + place_based) * community_assets)


def ipt4_alignment_target(alliance, mean_trust, strength):
    """IPT4, alignment and shared focus: priorities align through trust and a common aim.

    - Context: within an alliance (``alliance`` 1), which gives providers a common aim; under separate
      contracts alignment relaxes to a low baseline (0.2).
    - Mechanism, resource: a shared focus between the services involved.
    - Mechanism, reasoning: a provider aligns its priorities with the alliance's aim as far as it
      trusts its partners (``mean_trust``, its mean trust toward the others).
    - Outcome: the shared-goal alignment a provider moves toward (0.2-1); alignment adds value to
      services (``value``, ``needs_met``) and improves ``experience``, and feeds IPT1.

    Returns ``0.2 + 0.8 * alliance * (1 - exp(-2 * strength * mean_trust))``.
    """
    return BASELINE_ALIGNMENT + (1.0 - BASELINE_ALIGNMENT) * alliance * -np.expm1(-2.0 * strength * mean_trust)
