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

import math

from sim.model.elementwise import elementwise

#: Steepness of every context gate (assumed; the gates' thresholds are per rule).
GATE_SLOPE = 12.0

# Compiled for arrays (sim.model.elementwise): the same arithmetic as scipy's expit and numpy's expm1, bit for bit
# (a test checks).


@elementwise("float64(float64)")
def logistic(x):
    """1 / (1 + exp(-x)), elementwise."""
    return 1.0 / (1.0 + math.exp(-x))


@elementwise("float64(float64, float64)")
def gate(context, threshold):
    """How present a context is (0-1): a logistic step at ``threshold``, rescaled to 0 at 0 and 1 at 1."""
    low = 1.0 / (1.0 + math.exp(GATE_SLOPE * threshold))
    high = 1.0 / (1.0 + math.exp(-(GATE_SLOPE * (1.0 - threshold))))
    return (1.0 / (1.0 + math.exp(-(GATE_SLOPE * (context - threshold)))) - low) / (high - low)


@elementwise("float64(float64)")
def saturation(x):
    """1 - exp(-x): how far a response with diminishing returns has gone toward its ceiling of 1.

    Written with ``exp``, not ``-expm1(-x)``: equal within 1.2e-16 (the rules' arguments are never so
    small that the relative error matters), and libm's ``exp`` is several times faster; it runs for every
    provider every month."""
    return 1.0 - math.exp(-x)


@elementwise("float64(float64)")
def strength_response(strength):
    """How strongly a mechanism responds at a given strength: 1 at the reference strength 1, saturating
    (0.35 at 0.25, 1.37 at 2)."""
    return -math.expm1(-strength) / -math.expm1(-1.0)
