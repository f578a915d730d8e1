"""Smooth response functions shared by every rule: the logistic, context gates and strength responses.

Every programme theory follows one pattern: ``effect = gate(context) * strength_response(strength)``.
The *gate* says whether the mechanism's context is present: about 0 well below its threshold, 1 at the
top of its range, so without its context a mechanism does not fire however strong it is. The
*strength* (a mechanism parameter, 0.25-2) expresses structural uncertainty about how strongly
people respond once the context is there. Because the gate is a threshold and the strength is a
saturating multiplier, the two are not interchangeable: doubling a strength cannot stand in for an
absent context.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

#: Steepness of every context gate (assumed; the gates' thresholds are per rule).
GATE_SLOPE = 12.0


def logistic(x):
    """1 / (1 + exp(-x)), elementwise and overflow-free."""
    return expit(x)


def gate(context, threshold):
    """How present a context is (0-1): a logistic step at ``threshold``, rescaled to 0 at 0 and 1 at 1."""
    low, high = expit(-GATE_SLOPE * threshold), expit(GATE_SLOPE * (1.0 - threshold))
    return (expit(GATE_SLOPE * (np.asarray(context) - threshold)) - low) / (high - low)


def strength_response(strength):
    """How strongly a mechanism responds at a given strength: 1 at the reference strength 1, saturating
    (0.35 at 0.25, 1.37 at 2)."""
    return -np.expm1(-np.asarray(strength, dtype=float)) / -np.expm1(-1.0)
