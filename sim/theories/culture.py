"""Middle-range theory C, culture (Redgate et al. 2023, Eur J Public Health 33(1):49-55, fig. 4).

Alliances enable cultural shifts through commitment and trust at all levels, which supports
innovation and collaborative working across services.
"""

from __future__ import annotations

import numpy as np

from sim.logistic import logistic

#: Orientation to the whole system that organisations show with no drive for change.
BASELINE_ORIENTATION = 0.2
#: Monthly innovation rate at full culture readiness and full strength 1.
INNOVATION_RATE = 0.05


def ipt5_innovation_gain(alliance, culture_readiness, orientation, innovation, strength):
    """IPT5, innovation leading system change: innovation grows where culture is ready.

    - Context: a culture ready for change (``culture_readiness``, logistic around 0.5).
    - Mechanism, resource: innovative approaches to local service delivery.
    - Mechanism, reasoning: the alliance approach promotes them, the more so the more a provider is
      oriented to the whole system (``orientation``); organisations on separate contracts innovate at a
      quarter of the rate.
    - Outcome: this month's gain in a provider's ``innovation`` (0-1), which raises productivity and,
      with orientation, ``systemic_change``.

    Returns ``0.05 * strength * logistic(6 (readiness - 0.5)) * (0.25 + 0.75 alliance orientation) * (1 - innovation)``.
    """
    readiness = logistic(6.0 * (culture_readiness - 0.5))
    return INNOVATION_RATE * strength * readiness * (0.25 + 0.75 * alliance * orientation) * (1.0 - innovation)


def ipt6_leadership(alliance, senior_commitment, monitoring, strength):
    """IPT6, senior commitment to collaborative arrangements.

    - Context: within an alliance (``alliance`` 1); none under separate contracts.
    - Mechanism, resource: buy-in and commitment of senior leaders (``senior_commitment``), made
      effective by robust monitoring and evaluation (``monitoring``).
    - Mechanism, reasoning: visible leadership legitimises collaborative working arrangements, so
      providers put effort into joint work and commit to the alliance.
    - Outcome: a leadership signal (0-1 at strength 1) that raises each provider's effort on joint work
      and its commitment target, so the alliance delivers relevant interventions (``needs_met``,
      ``fragmentation``) and resists free-riding.

    Returns ``0.5 * alliance * strength * senior_commitment * (0.5 + 0.5 * monitoring)``.
    """
    return 0.5 * alliance * strength * senior_commitment * (0.5 + 0.5 * monitoring)


def ipt7_orientation_target(alliance, commitment, culture_readiness, strength):
    """IPT7, drive for systemic change: practice shifts from own organisation to whole system.

    - Context: an alliance (``alliance`` 1); under separate contracts orientation relaxes to 0.2.
    - Mechanism, resource: the cultural shift an alliance enables and a provider's commitment to
      transformation (``commitment``), amplified by ``culture_readiness``.
    - Mechanism, reasoning: committed staff allow normal practices to change.
    - Outcome: the whole-system orientation (0.2-1) a provider moves toward, which drives
      ``systemic_change`` and amplifies innovation (IPT5).

    Returns ``0.2 + 0.8 * alliance * (1 - exp(-2 * strength * commitment * (0.5 + culture_readiness)))``.
    """
    drive = -np.expm1(-2.0 * strength * commitment * (0.5 + culture_readiness))
    return BASELINE_ORIENTATION + (1.0 - BASELINE_ORIENTATION) * alliance * drive
