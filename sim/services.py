"""Service delivery in a locality and the fragmentation it shows.

Shapes: providers ``P``, localities ``L``, need domains ``D``; any leading axes are scenarios (the
vectorised core) or absent (one Mesa agent). Arrays are ``trust (..., P, P)``, ``effort (..., P)``,
``coverage (..., P, L)`` (share of each provider's capacity spent in each locality),
``capacity (..., P, D)`` and locality-by-domain quantities ``(..., L, D)``.

Formulas are documented in ``docs/ODD.md`` (submodels) under the same names.
"""

from __future__ import annotations

import numpy as np

#: Chance that a handoff between two uncoordinated services loses the person (no one takes responsibility).
HANDOFF_LOSS = 0.3
#: Share of need that a fully participating, fully capable community meets itself.
SELF_HELP = 0.15
#: Productivity gain at full innovation.
PRODUCTIVITY_GAIN = 0.2
#: Share of duplicated work that is wasted capacity.
DUPLICATION_WASTE = 0.5
#: Monthly rates at which experience and co-production participation move toward their targets.
EXPERIENCE_RATE = 0.2
PARTICIPATION_RATE = 0.1


def episode_domains(n_domains):
    """Mean number of need domains a complex episode spans: half the domains plus one."""
    return (n_domains + 2.0) / 2.0


def locality_weights(coverage):
    """Each provider's share ``(..., P, L)`` of the coverage of a locality (columns sum to 1)."""
    return coverage / np.sum(coverage, axis=-2, keepdims=True)


def locality_mean(values, coverage, *, weights=None):
    """Coverage-weighted mean of a provider quantity ``(..., P)`` in each locality ``(..., L)``.

    ``weights`` (from :func:`locality_weights`) may be passed precomputed: coverage is fixed for a
    run, so the core normalises it once instead of every month.
    """
    weights = locality_weights(coverage) if weights is None else weights
    return locality_means(values[..., None, :], weights)[..., 0, :]


def locality_means(stacked, weights):
    """:func:`locality_mean` of several provider quantities at once: ``(..., K, P)`` -> ``(..., K, L)``.

    A matrix product, which numpy runs as one small BLAS call per scenario; much faster than a
    broadcast multiply and a sum over the provider axis.
    """
    return stacked @ weights


def provider_diversity(coverage):
    """1 - Herfindahl index of providers' shares of a locality's capacity: how many overlap there."""
    share = coverage / np.sum(coverage, axis=-2, keepdims=True)
    return 1.0 - np.sum(share * share, axis=-2)


def pair_weight(coverage):
    """``1 / Σ_{i≠j} C_il C_jl``: normaliser of :func:`informal_integration` ``(..., L)``, fixed for a run."""
    total = np.sum(coverage, axis=-2)
    return 1.0 / (total * total - np.sum(coverage * coverage, axis=-2))


def informal_integration(trust, effort, coverage, *, weight=None):
    """Joint working that trust alone produces in each locality ``(..., L)``, in [0, 1].

    The coverage-weighted mean over pairs of distinct providers of ``trust[i, j] * effort[i] * effort[j]``:
    partners coordinate when both put effort in and trust each other. Computed as
    ``Σ_i x_il (T x)_il`` with ``x_il = C_il effort_i``, two small matrix products (the diagonal of
    trust is 0, so pairs i = j add nothing). ``weight`` is :func:`pair_weight`, optionally precomputed.
    """
    weight = pair_weight(coverage) if weight is None else weight
    x = coverage * effort[..., :, None]
    x *= trust @ x
    return (np.ones(x.shape[-2]) @ x) * weight


def integration(informal, formal, local_effort):
    """Overall integration: coordinated either informally or through formal pathways staffed with effort."""
    return 1.0 - (1.0 - informal) * (1.0 - formal * local_effort)


def gap_share(complexity, integration_level, domains):
    """Service gaps: share of need episodes in which some component has no responsible provider.

    A complex episode needs ``domains - 1`` handoffs; each is lost with chance HANDOFF_LOSS unless the
    services are integrated.
    """
    return complexity * (1.0 - (1.0 - HANDOFF_LOSS * (1.0 - integration_level)) ** (domains - 1.0))


def duplication_share(complexity, integration_level, diversity, flexibility):
    """Duplication: share of need components served by more than one uncoordinated provider.

    Arises in complex episodes that are not integrated, where several providers overlap
    (``diversity``) and output-based payment rewards activity; alliance flexibility (IPT2) removes
    that incentive.
    """
    return complexity * (1.0 - integration_level) * diversity * (1.0 - flexibility)


def continuity_of_care(integration_level, domains):
    """Expected Bice-Boxerman continuity of care of a complex episode.

    A person's contacts go to a lead provider with chance ``integration`` and otherwise spread evenly
    over the ``domains`` services involved; the expected COC index is then the sum of squared contact
    shares, ``(q + (1-q)/m)^2 + (m-1) ((1-q)/m)^2``: 1 when fully integrated, 1/m when not at all.
    """
    spread = (1.0 - integration_level) / domains
    lead = integration_level + spread
    return lead * lead + (domains - 1.0) * spread * spread


def discontinuity_share(complexity, integration_level, domains):
    """Discontinuity: 1 - continuity of care, over all episodes (simple episodes are continuous)."""
    return complexity * (1.0 - continuity_of_care(integration_level, domains))


def pooled_capacity(coverage, capacity):
    """Capacity ``(..., L, D)`` providers bring to each locality and domain at full budget."""
    # fixed for a run, so the core computes it once
    return np.swapaxes(coverage, -1, -2) @ capacity


def locality_capacity(coverage, capacity, budget_factor, productivity, *, pooled=None):
    """Capacity ``(..., L, D)`` available in each locality and domain this month.

    ``pooled`` is :func:`pooled_capacity`, optionally precomputed.
    """
    pooled = pooled_capacity(coverage, capacity) if pooled is None else pooled
    return pooled * (budget_factor * productivity)[..., None]


def flexed_capacity(capacity, need, flexibility):
    """Re-deploy a share ``flexibility`` of each locality's capacity across domains in proportion to need."""
    ones = np.ones(need.shape[-1])  # sums over domains as products: fast on short last axes
    moved = need / (need @ ones)[..., None]
    moved *= flexibility * (capacity @ ones)[..., None]
    return (1.0 - flexibility) * capacity + moved


def presented_need(new_need, participation, community_capacity):
    """New need that reaches services after communities meet part of it themselves (IPT3)."""
    return new_need * (1.0 - SELF_HELP * participation * community_capacity)[..., None]


def serve(demand, capacity, waiting_window):
    """Serve this month's demand: returns (served, expired, backlog carried to next month).

    Capacity serves as much demand as it can; of what is left, a ``1/waiting_window`` share has waited
    past the window and counts as missed, the rest waits.
    """
    served = np.minimum(capacity, demand)
    remaining = demand - served
    expired = remaining / waiting_window
    return served, expired, remaining - expired


def service_fit(participation, alignment):
    """How well served need is actually resolved (0.7-1): tailoring (IPT3) and aligned priorities (IPT4)."""
    return 0.7 + 0.15 * participation + 0.15 * alignment


def experience_target(discontinuity, access, alignment, participation):
    """Service-user experience (0-1) a locality moves toward: continuity, access, aligned services, voice."""
    return 0.35 * (1.0 - discontinuity) + 0.25 * access + 0.2 * alignment + 0.2 * participation


def share(part, whole, empty=1.0):
    """``part / whole`` with ``empty`` where nothing was presented (no need, nothing missed)."""
    part, whole = np.asarray(part, dtype=float), np.asarray(whole, dtype=float)
    out = np.full(np.broadcast(part, whole).shape, empty)
    np.divide(part, whole, out=out, where=whole > 0.0)
    return out
