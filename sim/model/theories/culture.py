"""Middle-range theory C, culture (Redgate et al. 2023, Eur J Public Health 33(1):49-55, fig. 4).

Alliances enable cultural shifts through commitment and trust at all levels, which supports
innovation and collaborative working across services.
"""

from __future__ import annotations

from sim.engine.compiled import formula
from sim.model import constants as kc
from sim.model import relationships as rel
from sim.model.logistic import gate, saturation

#: Constants (thresholds, rates, reaches) are in the registry, :mod:`sim.model.constants`; each rule reads them from
#: the scenario's constants ``k``, and its context gate from the gate's threshold (:func:`sim.model.logistic.gate`).


@formula
def ipt5_innovation_gain(k, alliance, culture_readiness, orientation, innovation, response):
    """IPT5, innovation leading system change: innovation grows where culture is ready.

    - Context: a culture ready for change (``culture_readiness``, gated at ``readiness_threshold``).
    - Mechanism, resource: innovative approaches to local service delivery.
    - Mechanism, reasoning: the alliance approach promotes them, the more a provider is oriented to the
      whole system (``orientation``); organisations on separate contracts innovate at a quarter of the rate.
    - Outcome: this month's gain in a provider's innovation (0-1), which changes delivery: productivity
      and shared assessment tools (fewer repeated assessments, ``duplication``).
    """
    ready = gate(k, culture_readiness, kc.READINESS_THRESHOLD)
    bilateral = k[kc.BILATERAL_INNOVATION]
    return k[kc.INNOVATION_RATE] * ready * response * (bilateral + (1.0 - bilateral) * alliance * orientation) \
        * (1.0 - innovation)


@formula
def ipt6_arrangements_target(k, alliance, senior_commitment, monitoring, response):
    """IPT6, senior commitment to collaborative arrangements (context and resource).

    - Context: within an alliance.
    - Mechanism, resource: buy-in of senior leaders (``senior_commitment``, gated at ``senior_threshold``; events can
      change it during a run), supported by robust monitoring and evaluation of joint work, which makes up
      ``evaluation_support`` of the missing buy-in at full ``monitoring`` (the seed: strategic commitment is
      supported through robust monitoring and evaluation).
    - Mechanism, reasoning: senior leaders who back the alliance set up collaborative working
      arrangements, which relieve its administrative bottlenecks (:func:`sim.model.commissioning.coordination_cost`)
      and, through :func:`ipt6_leadership`, legitimise joint work. They do not align priorities: that needs
      trust (IPT4), so a senior-backed alliance without trust can still be a talking shop.
    - Outcome: the level of collaborative working arrangements (boards, joint posts, shared decisions)
      that the alliance moves toward (0-1); arrangements take time to build and decay when buy-in goes.

    The rule's ``response`` scales how far buy-in turns into arrangements (up to full arrangements at the
    reference strength and above): switched off, senior commitment builds none, and no longer acts through
    them on effort, commitment or coordination cost.
    """
    buy_in = senior_commitment + k[kc.EVALUATION_SUPPORT] * monitoring * (1.0 - senior_commitment)
    return alliance * gate(k, buy_in, kc.SENIOR_THRESHOLD) * min(response, 1.0)


@formula
def ipt6_update_arrangements(k, arrangements, target, negativity_bias):
    """Arrangements after a month: built at ``arrangement_rate`` toward what senior buy-in supports, and
    dismantled faster when it goes (the same negativity bias as trust: easier to destroy than to build)."""
    return rel.update_trust(arrangements, target, 1.0, k[kc.ARRANGEMENT_RATE], negativity_bias)


@formula
def ipt6_leadership(k, arrangements, response):
    """IPT6 (reasoning): visible leadership through established arrangements legitimises collaborative
    working, so providers put effort into joint work and commit to it (a log-odds drive)."""
    return k[kc.LEADERSHIP] * response * arrangements


@formula
def ipt7_orientation_target(k, alliance, commitment, culture_readiness, response):
    """IPT7, drive for systemic change: practice shifts from own organisation to whole system.

    - Context: an alliance.
    - Mechanism, resource I: the cultural shift an alliance enables, greater where culture is ready;
      resource II: a provider's commitment to transformation (``commitment``, gated at
      ``transformation_threshold``: lukewarm commitment to joint working does not change practice).
    - Mechanism, reasoning: committed staff allow normal practices to change.
    - Outcome: the whole-system orientation a provider moves toward (0-1), which turns into fluid roles
      (:func:`ipt7_role_target`): a provider takes on later parts of a person's care instead of handing
      them on (``handoffs``, ``discontinuity``, ``systemic_change``). Without an alliance (or with the
      rule switched off), commitment still brings a little orientation.
    """
    transformation = gate(k, commitment, kc.TRANSFORMATION_THRESHOLD)
    unready = k[kc.UNREADY_SHIFT]
    shift = (unready + (1.0 - unready) * gate(k, culture_readiness, kc.READINESS_THRESHOLD)) * saturation(
        k[kc.ORIENTATION_RESPONSE] * response * transformation)
    return 1.0 - (1.0 - alliance * shift) * (1.0 - k[kc.BILATERAL_ORIENTATION] * commitment)


@formula
def ipt7_change_programme(response):
    """IPT7's cost: how much of a transformation programme an alliance runs (0-1; full at reference strength
    and above, none with the rule off). Its capacity cost (``change_cost``, :func:`sim.model.commissioning.
    overhead`) is spent whether or not the culture is ready; only a ready culture repays it with new roles."""
    return min(response, 1.0)


@formula
def ipt7_role_confusion(k, alliance, culture_readiness, mean_roles, response):
    """IPT7's risk: confusion over who owns a person's next step once an alliance's transformation programme has
    changed roles. Where the culture is not ready (``culture_readiness`` below ``readiness_threshold``), roles
    changed from those providers inherited (``mean_roles`` above ``inherited_role_flexibility``) leave staff
    unsure whose the next step now is (confusion over roles and responsibilities hinders joint working: Cameron,
    Lart, Bostock & Coomber 2014, Health Soc Care Community 22(3):225-233; the seed notes that earlier
    partnerships stressed clear roles and responsibilities). Unsure, staff drop more referrals and carry less care
    on themselves (:func:`ipt7_confused_loss`, :func:`ipt7_confused_keep`). A ready culture absorbs the change;
    with the rule off there is no programme and no confusion. Returns the confusion, 0 for none:
    ``role_confusion`` at fully changed roles in a wholly unready culture."""
    changed = max(mean_roles - k[kc.INHERITED_ROLE_FLEXIBILITY], 0.0)
    unready = 1.0 - gate(k, culture_readiness, kc.READINESS_THRESHOLD)
    return alliance * k[kc.ROLE_CONFUSION] * ipt7_change_programme(response) * changed * unready


@formula
def ipt7_confused_loss(handoff_loss, confusion):
    """The chance of losing an uncoordinated handoff, raised by role confusion (:func:`ipt7_role_confusion`): no
    one is sure who now owns the referral."""
    return handoff_loss * (1.0 + confusion)


@formula
def ipt7_confused_keep(keep, confusion):
    """The chance that the provider holding a person keeps their next component, lowered by the same factor: no
    one is sure the new role covers it, so it is referred on."""
    return keep / (1.0 + confusion)


@formula
def ipt7_role_target(k, alliance, orientation):
    """Role flexibility (0-1) a provider moves toward: its orientation, within the scope its contract allows."""
    return orientation * (alliance + (1.0 - alliance) * k[kc.CONTRACT_SCOPE])
