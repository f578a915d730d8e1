"""Relationship mechanisms that work under any commissioning mode: effort on joint work, trust, commitment.

These are not programme theories of their own; they are the published behavioural mechanisms the
programme theories act through:

- effort on joint work as a public-goods dilemma with free-riding (Hauert et al. 2002, Science
  296:1129-1132): when reward is pooled, a provider's own effort benefits everyone, so there is a pull
  to let partners carry the joint work;
- experience-based trust updating with a negativity bias (Kim 2009, JASSS 12(3)4): trust is lost
  faster than it is gained, about three to one (Pant & Yu 2025);
- the trust-commitment-small-wins loop (Vangen & Huxham 2003, J Appl Behav Sci 39(1):5-31;
  Ansell & Gash 2008, J Public Adm Res Theory 18(4):543-571): trust and visible joint successes build
  commitment, which sustains effort, which builds trust.
"""

from __future__ import annotations

import numpy as np

from sim.logistic import logistic

EFFORT_SLOPE = 4.0
COMMITMENT_SLOPE = 4.0
#: Months-to-target rate of commitment; small, so benefits take time.
COMMITMENT_RATE = 0.1
#: Monthly rates at which alignment (IPT4) and orientation (IPT7) move toward their targets.
ALIGNMENT_RATE = 0.1
ORIENTATION_RATE = 0.05


def free_riding_pull(alliance, pooled_share, temptation, austerity, monitoring):
    """How strongly pooled reward tempts a provider to let partners carry the joint work.

    Zero under separate contracts (nothing is pooled); grows with the pooled share, with budget
    pressure, and falls as monitoring and evaluation make shirking visible.
    """
    return alliance * temptation * pooled_share * (1.0 + austerity) * (1.0 - 0.7 * monitoring)


def effort_propensity(commitment, mean_trust, leadership, pull):
    """Log-odds that a provider puts full effort into joint work this month."""
    return EFFORT_SLOPE * (0.6 * commitment + 0.4 * mean_trust + leadership - pull - 0.5)


def realised_effort(propensity, noise_sd, shock):
    """Effort actually given (0-1): the propensity plus a month's random shock (mean 0, variance 1)."""
    return logistic(propensity + noise_sd * shock)


def mean_trust_toward_others(trust_row_sum, n_providers):
    """Mean trust a provider holds toward the other providers, from the sum of its trust row."""
    return trust_row_sum / (n_providers - 1)


def negative_rate(learning_rate, negativity_bias):
    """Rate at which trust falls after a disappointment: 1 - (1 - rate)**bias.

    About ``bias`` times the rate of gain for small rates, and never above 1, so trust stays in [0, 1].
    """
    return -np.expm1(negativity_bias * np.log1p(-learning_rate))


def trust_rates(interaction, learning_rate, negativity_bias):
    """Per-pair constants of :func:`update_trust`, fixed for a run: ``(mean, half_spread)`` of the
    gain rate ``ω r`` and the loss rate ``ω r⁻`` (the core computes them once, outside the month loop)."""
    gain = interaction * learning_rate
    loss = interaction * negative_rate(learning_rate, negativity_bias)
    return 0.5 * (gain + loss), 0.5 * (gain - loss)


def update_trust(trust, partner_effort, interaction, learning_rate, negativity_bias, *, rates=None):
    """Experience-based trust update with a negativity bias (Kim 2009).

    Trust of i in j moves toward the effort j was seen to give, weighted by how much i and j worked
    together (``interaction``, 0-1): at ``learning_rate`` when j did better than expected, at the
    faster :func:`negative_rate` when j did worse. A convex step, so trust stays in [0, 1].

    The two-sided rate is written ``mean * s + half_spread * |s|`` for the surprise ``s``: equal to
    picking the gain or loss rate by the sign of ``s``, without a slow branchy ``np.where``.
    ``rates`` is :func:`trust_rates`, optionally precomputed.
    """
    mean, half_spread = trust_rates(interaction, learning_rate, negativity_bias) if rates is None else rates
    surprise = np.subtract(partner_effort, trust)
    change = np.abs(surprise)
    change *= half_spread
    surprise *= mean
    change += surprise
    return trust + change


def commitment_target(alliance, mean_trust, integration_seen, leadership, pooled_share):
    """Commitment (0-1) a provider moves toward: the trust-commitment-small-wins loop.

    Trust in partners and the joint successes a provider sees (``integration_seen``: how joined-up
    the services it takes part in were this month) build commitment; senior leadership (IPT6) and a
    stake in the pooled budget add to it.
    """
    drive = 0.5 * mean_trust + 0.5 * integration_seen + leadership + 0.3 * alliance * pooled_share - 0.6
    return logistic(COMMITMENT_SLOPE * drive)


def relax(value, target, rate):
    """Move ``value`` a fraction ``rate`` of the way to ``target`` (a convex step)."""
    return value + rate * (target - value)
