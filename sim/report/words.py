"""Plain words and numbers for the advisory group: labels from the schema, rounding that never shows -0.00 or
a misleading 0 %, and the names of the theories and roles."""

from __future__ import annotations

import math
import re

import numpy as np

from sim.analysis.sensitivity import parse_effect
from sim.model.outcomes import OUTCOMES
from sim.model.outcomes import outcome as outcome_spec
from sim.model.theories import RULE_INFO
from sim.params import THEORY_RULES, Params

__all__ = ["param_label", "outcome_label", "effect_label", "variant_label", "num", "pct", "small_pct", "span"]


THEORY_NAMES = {"A": "system level", "B": "local focus", "C": "culture", "other": "general mechanism",
                "dummy": "dummy (noise floor)"}
KIND_NAMES = {"context": "local context", "lever": "commissioning lever", "mechanism": "model assumption",
              "scale": "size and timing", "events": "events", "ablation": "switch", "constants": "model constants"}
DUMMY_LABEL = "dummy (does nothing; noise floor)"

RULE_TITLES = {r.id: r.title for r in RULE_INFO}
CONVERGENCE_GUIDE = 0.02  # sim/conf/study/full.yaml: ST should move < 0.02 between N/2 and N
SIGNIFICANT_QP = 0.05  # PRIM restriction counts as a main condition below this quasi-p value


# ------------------------------------------------------------------------------------------------
# Plain words and numbers
# ------------------------------------------------------------------------------------------------
def param_label(name: str) -> str:
    """A parameter's short plain-word name from the schema (IPT strengths named after their programme theory)."""
    m = re.fullmatch(r"ipt(\d)_strength", name)
    if m:
        return f"strength of IPT {m.group(1)} ({RULE_TITLES[f'IPT{m.group(1)}'].lower()})"
    if name == "dummy":
        return DUMMY_LABEL
    label = Params.spec(name).label  # the schema's plain-language label, in running text
    return label[0].lower() + label[1:] if label[1:2].islower() else label


def outcome_label(outcome: str) -> str:
    return outcome_spec(outcome).label if outcome in OUTCOMES else outcome.replace("_", " ")


def effect_label(effect: str) -> str:
    """``fragmentation_reduction`` -> ``reduction in fragmentation``."""
    outcome, sign = parse_effect(effect)
    return f"{'reduction' if sign < 0 else 'gain'} in {outcome_label(outcome)}"


def variant_label(variant: str) -> str:
    """An ablation variant: ``IPT6`` -> ``IPT 6 senior commitment ...``, ``C`` -> ``all of C (culture)``."""
    if variant in THEORY_RULES:
        return f"all of {variant} ({THEORY_NAMES[variant]}: IPT {', '.join(r[3:] for r in THEORY_RULES[variant])})"
    return f"IPT {variant[3:]} ({RULE_TITLES.get(variant, variant).lower()})"


def num(x: float, digits: int = 2) -> str:
    """Fixed decimals, never ``-0.00``; a dash for a missing value."""
    if x is None or not np.isfinite(x):
        return "–"
    text = f"{x:.{digits}f}"
    return text[1:] if re.fullmatch(r"-0\.?0*", text) else text


def pct(x: float) -> str:
    """A share as a whole percentage; tiny shares as '< 1%' rather than a misleading 0%."""
    if x is None or not np.isfinite(x):
        return "–"
    if 0 < x < 0.005:
        return "less than 1%"
    return f"{100 * x:.0f}%"


def small_pct(x: float) -> str:
    """A small share with one significant figure (e.g. noise shares of 0.05%)."""
    if not np.isfinite(x):
        return "–"
    p = 100 * x
    if p >= 1:
        return f"{p:.0f}%"
    if p < 0.01:
        return "less than 0.01%"
    return f"{p:.{max(0, -math.floor(math.log10(p)))}f}%"


def span(low: float, high: float, digits: int = 2) -> str:
    return f"{num(low, digits)} to {num(high, digits)}"



def upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def join_words(items: list[str]) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1] if items else ""


def plain_rule(rule: str) -> str:
    def one(m: re.Match) -> str:
        return f"{param_label(m.group(1))} {'at most' if m.group(2) == '<=' else 'above'} {num(float(m.group(3)))}"
    return re.sub(r"([a-z_0-9]+) (<=|>) ([-0-9.e]+)", one, rule)

