"""Service delivery in a locality: capacity, demand, the queue, and what people experience.

Shapes: providers ``P``, localities ``L``, need domains ``D``; leading axes are scenarios (a batch of one
in the Mesa model). Formulas are documented in ``docs/ODD.md`` (submodels) under the same names.
"""

from __future__ import annotations

import numpy as np

from sim.engine.compiled import elementwise, formula
from sim.model import constants as kc

#: Constants (self-help, waste, reaches, rates, weights) are in the registry, :mod:`sim.model.constants`.


def locality_weights(coverage):
    """Each provider's share ``(..., P, L)`` of a locality's capacity (columns sum to 1); fixed for a run."""
    return coverage / np.sum(coverage, axis=-2, keepdims=True)


def pooled_capacity(coverage, capacity):
    """Capacity ``(..., L, D)`` providers bring to each locality and domain at full budget (fixed for a run)."""
    return np.swapaxes(coverage, -1, -2) @ capacity


@formula
def keep_chance(k, role_flexibility, tailoring, accountability):
    """Chance that the provider holding a person keeps their next component: its own role flexibility
    (IPT7, up to ``role_reach``: some care needs a specialist), the locality team's (IPT3), or, either mode, the
    ownership of the person's care that individual accountability gives (``case_ownership``: a monitored contract
    names who answers for the person, and that provider carries the care on; an alliance's pooled budget
    diffuses it, :func:`sim.model.commissioning.accountability`)."""
    return 1.0 - ((1.0 - k[kc.ROLE_REACH] * role_flexibility) * (1.0 - k[kc.LOCALITY_TEAM] * tailoring)
                  * (1.0 - k[kc.CASE_OWNERSHIP] * accountability))


@formula
def flexed_capacity(capacity, need, need_total, capacity_total, flexibility):
    """Capacity in a domain after a share ``flexibility`` of the locality's capacity (``capacity_total``
    over its domains) is re-deployed across domains in proportion to need (``need`` of ``need_total``):
    whole-system working (IPT2) and tailoring (IPT3). Elementwise; the totals broadcast over domains."""
    return (1.0 - flexibility) * capacity + need / need_total * (flexibility * capacity_total)


@formula
def presented_need(k, new_need, participation, community_capacity):
    """New need (in one domain) that reaches services after communities meet part of it themselves."""
    return new_need * (1.0 - k[kc.SELF_HELP] * participation * community_capacity)


@formula
def serve(demand, capacity, waiting_window):
    """Serve this month's demand: returns (served, expired, backlog carried to next month).

    Capacity serves as much demand as it can; of what is left, a ``1/waiting_window`` share has waited
    past the window and counts as missed, the rest waits.
    """
    served = np.minimum(capacity, demand)
    remaining = demand - served
    expired = remaining / waiting_window
    return served, expired, remaining - expired


@formula
def service_fit(k, tailoring):
    """How well served need is resolved (``1 - tailoring_fit`` to 1): services tailored to local need fit it
    better (IPT3)."""
    return (1.0 - k[kc.TAILORING_FIT]) + k[kc.TAILORING_FIT] * tailoring


@formula
def experience_target(k, discontinuity, access, gaps, participation):
    """Service-user experience (0-1) a locality moves toward: continuity, access, no gaps, a voice."""
    return (k[kc.EXPERIENCE_WEIGHT_CONTINUITY] * (1.0 - discontinuity) + k[kc.EXPERIENCE_WEIGHT_ACCESS] * access
            + k[kc.EXPERIENCE_WEIGHT_SAFETY] * (1.0 - gaps) + k[kc.EXPERIENCE_WEIGHT_VOICE] * participation)


@formula
def confidence_target(k, community_confidence, experience):
    """Community confidence moves with experience of services: voice feeds back (0-1)."""
    return np.minimum(np.maximum(community_confidence + k[kc.VOICE] * (experience - k[kc.EXPERIENCE_NEUTRAL]), 0.0),
                      1.0)


@formula
def share(part, whole, empty=1.0):
    """``part / whole`` with ``empty`` where nothing was presented (no need, nothing missed)."""
    return _share(part, whole, empty)


@elementwise("float64(float64, float64, float64)")
def _share(part, whole, empty):
    return part / whole if whole > 0.0 else empty
