"""The commissioner and the counterfactual's own mechanisms.

Traditional commissioning (separate contracts, each provider paid on its own outputs) is not the
alliance with its rules switched off; it works through mechanisms of its own, from the commissioning
literature (summarised in ``docs/ODD.md``):

- **performance management against own-organisation KPIs**: the commissioner monitors each contract;
  the targets pull effort away from work that benefits other providers (:func:`own_priorities_pull`);
- **low governance overhead**: a contract manager per contract instead of alliance boards, shared
  decisions and joint planning, whose cost grows with the number of partner pairs and falls as trust
  substitutes for monitoring (:func:`overhead`; Williamson 1985; Gulati 1995; Provan & Kenis 2008);
- **specialisation**: staff who keep to their contracted role are more productive at it
  (:func:`productivity`; the gain is lost as roles become fluid, in either mode);
- **re-tendering** a poorly performing provider at the end of a contract term (:func:`retender_choice`):
  the newcomer starts with no relationships.

Monitoring acts in both modes: it sharpens what the commissioner sees of each provider
(:func:`observed_performance`), and the commissioner's trust in providers and theirs in it move with
that experience (reciprocal cooperation, Redgate et al. 2023). At the end of each contract term the
commissioner reviews: under traditional commissioning it re-tenders the worst performer if it falls
below a threshold; under an alliance that performs poorly it moves risk back to the providers by
halving the pooled share (:func:`review_pooled_share`).
"""

from __future__ import annotations

import numpy as np

from sim.engine.compiled import formula
from sim.model import constants as kc

#: Constants (costs, reaches, noise, rates, the review threshold) are in the registry, :mod:`sim.model.constants`.


@formula
def accountability(k, alliance, monitoring, pooled_share, month):
    """Share of handoff losses that someone is made to answer for (0-1). Monitored contracts name who owns
    each referral; in an alliance, the pooled part of payment answers only to shared outcomes, so
    individual accountability diffuses ("everyone's job is no one's") until joint pathways replace it. The
    diffusion builds up over ``diffusion_months`` as the pooled budget beds in: staff keep to their own
    contract's targets at first."""
    bedded = min(1.0, (month + 1.0) / k[kc.DIFFUSION_MONTHS])
    return k[kc.ACCOUNTABILITY] * monitoring * (1.0 - k[kc.DIFFUSION] * alliance * pooled_share * bedded)


@formula
def own_priorities_pull(k, alliance, monitoring, alignment, own_priorities, austerity):
    """How far a provider's own organisation's priorities pull its effort away from joint work.

    Under separate contracts the pull is the commissioner's performance management against
    own-organisation KPIs: it grows with ``monitoring``. In an alliance there are no own KPIs, but each
    organisation's own agenda pulls until the provider has aligned its priorities with the alliance's
    common aim (``alignment``, IPT4): the seed's "by aligning priorities of the services involved" (Redgate
    et al. 2023), and Huxham & Vangen's (2005) collaborative inertia where partners' aims stay apart. Alignment
    needs trust (:func:`sim.model.theories.local.ipt4_alignment_target`), so senior buy-in alone does not
    remove the pull. Budget pressure sharpens self-interest in both modes.
    """
    agenda = (1.0 - alliance) * monitoring + alliance * (1.0 - alignment)
    return own_priorities * agenda * (1.0 + k[kc.AUSTERITY_SELF_INTEREST] * austerity)


@formula
def coordination_cost(k, alliance, cost, n_providers, mean_trust, arrangements):
    """Share of capacity spent on alliance governance: boards, shared decisions, joint planning.

    ``cost`` at ``half_cost_pairs`` partner pairs, no trust and no established arrangements; it grows with the
    number of partner pairs n(n-1)/2 toward twice that, trust saves up to ``trust_substitution`` of it, and
    senior-backed arrangements (administrative capacity at the centre) up to ``admin_relief``
    (without it, collaboration hits administrative bottlenecks: Bitterman & Koliba 2020).
    """
    pairs = n_providers * (n_providers - 1.0) / 2.0
    return (alliance * cost * (2.0 * pairs / (pairs + k[kc.HALF_COST_PAIRS]))
            * (1.0 - k[kc.TRUST_SUBSTITUTION] * mean_trust) * (1.0 - k[kc.ADMIN_RELIEF] * arrangements))


@formula
def overhead(k, alliance, monitoring, cost, n_providers, mean_trust, arrangements, engagement, change):
    """Share of capacity that governance takes this month: monitoring (both modes), coordination, and the
    alliance's two programmes: community engagement (``engagement``: IPT3's effort, 0-1) and transformation
    (``change``: IPT7's effort, 0-1). Their costs are spent whether or not the contexts that repay them
    (community assets, a culture ready for change) are there: the seed's talking shops."""
    return (k[kc.MONITORING_COST] * monitoring
            + coordination_cost(k, alliance, cost, n_providers, mean_trust, arrangements)
            + alliance * (k[kc.ENGAGEMENT_COST] * engagement + k[kc.CHANGE_COST] * change))


@formula
def specified_tailoring(k, tailoring, month, contract_length):
    """Tailoring of a locality's services in effect this month (0-1): what co-production has built (``tailoring``,
    IPT3) or what contracts specified from the locality's assessed need give (``needs_specification``), whichever
    part each leaves untailored the other covers. Commissioners in either mode assess local need and commission to
    it (joint strategic needs assessment, Local Government and Public Involvement in Health Act 2007); contracts
    are re-let in turn, so the specification reaches every contract over one ``contract_length`` (a shorter
    term follows need sooner: the counterfactual's lever as well as the alliance's)."""
    let = min(1.0, (month + 1.0) / contract_length)
    return 1.0 - (1.0 - tailoring) * (1.0 - k[kc.NEEDS_SPECIFICATION] * let)


@formula
def productivity(k, innovation, role_flexibility, specialisation_gain, accountability):
    """Output per unit of capacity: innovation raises it (IPT5); specialisation raises it as far as roles
    stay within their specialism (the counterfactual's strength, lost as roles become fluid); performance
    management raises it as far as providers are individually accountable (targets with sanctions raise
    contracted output: Propper et al. 2010; Bevan & Hood 2006), which an alliance's pooled budget diffuses
    (:func:`accountability`)."""
    return ((1.0 + k[kc.INNOVATION_PRODUCTIVITY] * innovation) * (1.0 + specialisation_gain * (1.0 - role_flexibility))
            * (1.0 + k[kc.PERFORMANCE_GAIN] * accountability))


@formula
def observed_performance(k, effort, monitoring, shock):
    """What the commissioner sees of each provider's cooperation (0-1): effort plus noise that monitoring cuts."""
    return np.minimum(np.maximum(effort + k[kc.OBSERVATION_NOISE] * (1.0 - monitoring) * shock, 0.0), 1.0)


@formula
def reciprocity_rate(alliance, rate_alliance, rate_traditional):
    """Monthly rate at which providers' trust in the commissioner follows the commissioner's trust in them: faster
    in an alliance (the seed: reciprocity matters more there)."""
    return alliance * rate_alliance + (1.0 - alliance) * rate_traditional


@formula
def is_review_month(month, contract_length):
    """Contract reviews happen at the end of each term."""
    return (month > 0) and (month % contract_length == 0)


@formula
def retender_choice(k, alliance, commissioner_trust, review):
    """Provider to re-tender (-1 for none), from the commissioner's trust in each provider ``(P,)``: under
    separate contracts, at a review, the provider the commissioner trusts least (the first if tied), if below
    ``review_threshold``."""
    worst = 0
    for i in range(1, len(commissioner_trust)):
        if commissioner_trust[i] < commissioner_trust[worst]:
            worst = i
    return worst if (alliance < 0.5) and review and (commissioner_trust[worst] < k[kc.REVIEW_THRESHOLD]) else -1


@formula
def review_pooled_share(k, alliance, pooled_share, mean_commissioner_trust, review):
    """An alliance reviewed as performing poorly moves risk back to its providers: the pooled share halves."""
    cut = (alliance > 0.5) and review and (mean_commissioner_trust < k[kc.REVIEW_THRESHOLD])
    return k[kc.REVIEW_POOLED_CUT] * pooled_share if cut else pooled_share
