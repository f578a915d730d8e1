"""Smooth response functions shared by every rule: the logistic, context gates and strength responses.

Every programme theory follows one pattern: ``effect = gate(context) * strength_response(strength)``.
The *gate* says whether the mechanism's context is present: about 0 well below its threshold, 1 at the
top of its range, so without its context a mechanism does not fire however strong it is. The
*strength* (a mechanism parameter, 0.2-2) expresses structural uncertainty about how strongly
people respond once the context is there. Because the gate is a threshold and the strength is a
saturating multiplier, the two are not interchangeable: doubling a strength cannot stand in for an
absent context.
"""

from __future__ import annotations

import math

from sim.engine.compiled import elementwise, formula
from sim.model import constants as kc

# Compiled for arrays (sim.engine.compiled): the same arithmetic as scipy's expit and numpy's expm1, within an ulp
# (a test checks).


@elementwise("float64(float64)")
def logistic(x):
    """1 / (1 + exp(-x)), elementwise."""
    return 1.0 / (1.0 + math.exp(-x))


@formula
def gate(k, context, threshold):
    """How present a context is (0-1): a logistic step of steepness ``gate_slope`` at the constant ``threshold``
    (its index in the scenario's constants ``k``), rescaled to 0 at 0 and 1 at 1. The rescaling's ends depend on
    the constants alone, so they are computed once per scenario (:func:`gate_low`, :func:`gate_high`) and read
    from ``k``."""
    low, high = k[kc.GATE_LOW + threshold], k[kc.GATE_HIGH + threshold]
    return (1.0 / (1.0 + math.exp(-(k[kc.GATE_SLOPE] * (context - k[threshold])))) - low) / (high - low)


@elementwise("float64(float64, float64)")
def gate_low(threshold, slope):
    """The logistic step's value at context 0, which :func:`gate` rescales to 0 (fixed by the constants)."""
    return 1.0 / (1.0 + math.exp(slope * threshold))


@elementwise("float64(float64, float64)")
def gate_high(threshold, slope):
    """The logistic step's value at context 1, which :func:`gate` rescales to 1 (fixed by the constants)."""
    return 1.0 / (1.0 + math.exp(-(slope * (1.0 - threshold))))


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
