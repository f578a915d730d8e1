"""Middle-range theory A, system level (Redgate et al. 2023, Eur J Public Health 33(1):49-55, fig. 2).

Alliances use a whole-system approach: they integrate services through common goals, which reduces
system fragmentation and provides services that meet local population need.
"""

from __future__ import annotations

import numpy as np

from sim.logistic import logistic

#: Need complexity at which the complex-needs pathway is half-activated, and how sharply.
COMPLEXITY_MIDPOINT = 0.3
COMPLEXITY_SLOPE = 6.0


def ipt1_formal_integration(alliance, need_complexity, alignment, strength):
    """IPT1, complex interventions for local needs: formal integration of care pathways.

    - Context: local need calls for complex interventions; gated smoothly by ``need_complexity``
      (logistic around 0.3) and present only under alliance commissioning (``alliance`` is 1 or 0).
    - Mechanism, resource: the alliance contract itself, which formalises common goals.
    - Mechanism, reasoning: providers serving a locality join up pathways for complex episodes in
      proportion to how far their priorities are aligned (``alignment``, 0-1).
    - Outcome: formal integration (0-1) of the locality's services; it raises the share of complex
      episodes handled as one joined-up episode, lowering gaps, duplication and discontinuity
      (``fragmentation``) and raising ``needs_met``.

    Returns ``alliance * (1 - exp(-1.5 * strength * activation * alignment))``, in [0, 1).
    """
    activation = logistic(COMPLEXITY_SLOPE * (need_complexity - COMPLEXITY_MIDPOINT))
    return alliance * -np.expm1(-1.5 * strength * activation * alignment)


def ipt2_flexibility(alliance, pooled_share, mean_effort, strength):
    """IPT2, whole-system approach: capacity flows to where the need is, and overlap stops paying.

    - Context: a whole-system approach, i.e. an alliance with a pooled budget (``pooled_share``).
    - Mechanism, resource: cross-sector services brought together under one budget.
    - Mechanism, reasoning: holistic, joined-up working on shared outcomes, as far as providers
      actually put effort into joint work (``mean_effort``, 0-1).
    - Outcome: flexibility (0-1): the share of each locality's capacity that is re-deployed across
      need domains to match need (raising ``access``), and the drop in the incentive to duplicate
      activity that output-based payment creates (lowering ``duplication``, ``fragmentation``).

    Returns ``alliance * (1 - exp(-1.5 * strength * pooled_share * mean_effort))``, in [0, 1).
    """
    return alliance * -np.expm1(-1.5 * strength * pooled_share * mean_effort)
