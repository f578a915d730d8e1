"""Service delivery in a locality: capacity, demand, the queue, and what people experience.

Shapes: providers ``P``, localities ``L``, need domains ``D``; leading axes are scenarios (a batch of one
in the Mesa model). Formulas are documented in ``docs/ODD.md`` (submodels) under the same names.
"""

from __future__ import annotations

import numpy as np

from sim.model.elementwise import elementwise, formula

#: Share of need that a fully participating, fully capable community meets itself (assumed).
SELF_HELP = 0.15
#: Productivity gain at full innovation (assumed).
INNOVATION_PRODUCTIVITY = 0.2
#: Share of an innovation's effect that goes into shared assessment tools (fewer repeats; assumed).
INNOVATION_TOOLS = 0.3
#: Capacity a duplicated component wastes, as a share of a component (assumed).
DUPLICATION_WASTE = 0.5
#: Share of a later component that a locality team keeps at full tailoring (assumed).
LOCALITY_TEAM = 0.2
#: Most of a later component that a fully flexible provider can take on itself (assumed).
ROLE_REACH = 0.2
#: Monthly rates at which experience, participation and confidence move toward their targets (assumed).
EXPERIENCE_RATE = 0.2
PARTICIPATION_RATE = 0.08
CONFIDENCE_RATE = 0.05
#: How far a locality's confidence moves with its experience of services (voice; assumed).
VOICE = 0.5


def locality_weights(coverage):
    """Each provider's share ``(..., P, L)`` of a locality's capacity (columns sum to 1); fixed for a run."""
    return coverage / np.sum(coverage, axis=-2, keepdims=True)


def locality_means(stacked, weights):
    """Capacity-weighted means in each locality of several provider quantities: ``(..., K, P)`` -> ``(..., K, L)``."""
    return stacked @ weights


def pooled_capacity(coverage, capacity):
    """Capacity ``(..., L, D)`` providers bring to each locality and domain at full budget (fixed for a run)."""
    return np.swapaxes(coverage, -1, -2) @ capacity


@formula
def keep_chance(role_flexibility, tailoring):
    """Chance that the provider holding a person keeps their next component: its own role flexibility
    (IPT7, up to :data:`ROLE_REACH`: some care needs a specialist), or the locality team's (IPT3).
    For all pairs, pass ``role_flexibility[..., None, :]`` and ``tailoring[..., :, None]``: ``(..., L, P)``."""
    return 1.0 - (1.0 - ROLE_REACH * role_flexibility) * (1.0 - LOCALITY_TEAM * tailoring)


@formula
def flexed_capacity(capacity, need, need_total, capacity_total, flexibility):
    """Capacity in a domain after a share ``flexibility`` of the locality's capacity (``capacity_total``
    over its domains) is re-deployed across domains in proportion to need (``need`` of ``need_total``):
    whole-system working (IPT2) and tailoring (IPT3). Elementwise; the totals broadcast over domains."""
    return (1.0 - flexibility) * capacity + need / need_total * (flexibility * capacity_total)


@formula
def presented_need(new_need, participation, community_capacity):
    """New need (in one domain) that reaches services after communities meet part of it themselves."""
    return new_need * (1.0 - SELF_HELP * participation * community_capacity)


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
def service_fit(tailoring):
    """How well served need is resolved (0.8-1): services tailored to local need fit it better (IPT3)."""
    return 0.8 + 0.2 * tailoring


@formula
def experience_target(discontinuity, access, gaps, participation):
    """Service-user experience (0-1) a locality moves toward: continuity, access, no gaps, a voice."""
    return 0.35 * (1.0 - discontinuity) + 0.25 * access + 0.2 * (1.0 - gaps) + 0.2 * participation


@formula
def confidence_target(community_confidence, experience):
    """Community confidence moves with experience of services: voice feeds back (0-1)."""
    return np.minimum(np.maximum(community_confidence + VOICE * (experience - 0.5), 0.0), 1.0)


@formula
def share(part, whole, empty=1.0):
    """``part / whole`` with ``empty`` where nothing was presented (no need, nothing missed)."""
    return _share(part, whole, empty)


@elementwise("float64(float64, float64, float64)")
def _share(part, whole, empty):
    return part / whole if whole > 0.0 else empty
