"""Relationship mechanisms that work under either commissioning mode: effort on joint work, trust,
commitment.

They are not programme theories of their own; they are the published behavioural mechanisms the
programme theories and the counterfactual's contracts act through:

- effort on joint work as a public-goods dilemma with free-riding (Hauert et al. 2002, Science
  296:1129-1132): when reward is pooled, a provider's own effort benefits everyone, so there is a pull
  to let partners carry the joint work; monitoring and trust hold it back;
- experience-based trust updating with a negativity bias (Kim 2009, JASSS 12(3)4): trust is lost
  faster than it is gained (Slovic 1993, Risk Analysis 13(6):675-682; about three to one in Pant & Yu
  2025);
- the trust-commitment-small-wins loop (Vangen & Huxham 2003, J Appl Behav Sci 39(1):5-31;
  Ansell & Gash 2008, J Public Adm Res Theory 18(4):543-571): trust, visible joint successes and
  leadership build commitment, which sustains effort, which builds trust.
"""

from __future__ import annotations

import numpy as np

from sim.engine.compiled import elementwise, formula
from sim.model import constants as kc
from sim.model.logistic import logistic

#: Constants of these mechanisms (slopes, thresholds, weights, rates, restraints) are in the registry,
#: :mod:`sim.model.constants`; each formula reads them from the scenario's constants ``k``.


@formula
def free_riding_pull(k, alliance, pooled_share, temptation, austerity, monitoring, mean_trust):
    """How strongly pooled reward tempts a provider to let partners carry the joint work.

    Zero under separate contracts (nothing is pooled); grows with the pooled share and with budget
    pressure; monitoring makes shirking visible and trust makes it feel like betrayal, so both hold it back.
    """
    return (alliance * temptation * pooled_share * (1.0 + austerity) * (1.0 - k[kc.MONITORING_RESTRAINT] * monitoring)
            * (1.0 - k[kc.TRUST_RESTRAINT] * mean_trust))


@formula
def effort_propensity(k, commitment, mean_trust, trust_in_commissioner, leadership, pull):
    """Log-odds that a provider puts full effort into joint work this month."""
    drive = (k[kc.EFFORT_WEIGHT_COMMITMENT] * commitment + k[kc.EFFORT_WEIGHT_TRUST] * mean_trust
             + k[kc.EFFORT_WEIGHT_COMMISSIONER] * trust_in_commissioner + leadership - pull - k[kc.EFFORT_THRESHOLD])
    return k[kc.EFFORT_SLOPE] * drive


@formula
def realised_effort(propensity, noise_sd, shock):
    """Effort actually given (0-1): the propensity plus a month's random shock (mean 0, variance 1)."""
    return logistic(propensity + noise_sd * shock)


@formula
def mean_trust_toward_others(trust_row_sum, n_providers):
    """Mean trust a provider holds toward the other providers, from the sum of its trust row."""
    return trust_row_sum / (n_providers - 1)


@formula
def negative_rate(learning_rate, negativity_bias):
    """Rate at which trust falls after a disappointment: 1 - (1 - rate)**bias.

    About ``bias`` times the rate of gain for small rates, and never above 1, so trust stays in [0, 1].
    """
    return -np.expm1(negativity_bias * np.log1p(-learning_rate))


@formula
def trust_rates(interaction, learning_rate, negativity_bias):
    """Per-pair constants of :func:`update_trust`, fixed for a run: ``(mean, half_spread)`` of the
    gain rate ``ω r`` and the loss rate ``ω r⁻``."""
    gain = interaction * learning_rate
    loss = interaction * negative_rate(learning_rate, negativity_bias)
    return 0.5 * (gain + loss), 0.5 * (gain - loss)


@formula
def update_trust(trust, observed, interaction, learning_rate, negativity_bias):
    """Experience-based trust update with a negativity bias (Kim 2009).

    Trust moves toward the cooperation that was observed (``observed``, 0-1), weighted by how much the
    two worked together (``interaction``, 0-1): at ``learning_rate`` when the other did better than
    expected, at the faster :func:`negative_rate` when worse. A convex step, so trust stays in [0, 1].
    The two-sided rate is written ``mean * s + half_spread * |s|`` for the surprise ``s``: equal to
    picking the gain or loss rate by the sign of ``s``, without a slow ``np.where``. The compiled month
    computes the rates once per run (:func:`trust_rates`) and applies :func:`trust_step`.
    """
    mean, half_spread = trust_rates(interaction, learning_rate, negativity_bias)
    return trust_step(trust, observed, mean, half_spread)


@elementwise("float64(float64, float64, float64, float64)")
def trust_step(trust, observed, mean, half_spread):
    """:func:`update_trust` given its rates (:func:`trust_rates`): one step toward what was observed."""
    surprise = observed - trust
    return trust + (abs(surprise) * half_spread + surprise * mean)


@formula
def commitment_target(k, mean_trust, success_seen, trust_in_commissioner, leadership, stake):
    """Commitment to joint working (0-1) a provider moves toward: the trust-commitment-small-wins loop.

    Trust in partners and in the commissioner, and the joint successes a provider sees in the care
    pathways it takes part in (``success_seen``: share of the pathways it served that ran without a
    gap, a repeat or a change of provider), build commitment; senior leadership (IPT6) and a stake in
    shared outcomes add to it (``stake``: the pooled share as far as whole-system working, IPT2, ties
    payment to shared outcomes; a pooled budget nobody works to is no stake).
    """
    drive = (k[kc.COMMITMENT_WEIGHT_TRUST] * mean_trust + k[kc.COMMITMENT_WEIGHT_SUCCESS] * success_seen
             + k[kc.COMMITMENT_WEIGHT_COMMISSIONER] * trust_in_commissioner + leadership
             + k[kc.COMMITMENT_WEIGHT_STAKE] * stake - k[kc.COMMITMENT_OFFSET])
    return logistic(k[kc.COMMITMENT_SLOPE] * drive)


@formula
def commitment_rates(negativity_bias, commitment_rate):
    """Rates of a provider's commitment update, fixed for a run: :func:`trust_rates` at ``commitment_rate``.
    Commitment is built at that rate toward its target and eroded faster when the target falls (the same
    negativity bias as trust: disappointment weighs more than success)."""
    return trust_rates(1.0, commitment_rate, negativity_bias)


@elementwise("float64(float64, float64, float64)")
def relax(value, target, rate):
    """Move ``value`` a fraction ``rate`` of the way to ``target`` (a convex step)."""
    return value + rate * (target - value)
