"""The nine patterns of pattern-oriented modelling (sim/analysis/patterns.py), each a test, with the smaller but
sufficient sample sizes of ``Sizes.fast()``; ``experiments/patterns.py`` prints them at full size."""

from __future__ import annotations

import numpy as np
import pytest

from sim import Params, simulate
from sim.analysis.patterns import PATTERNS, Sizes

SIZES = Sizes.fast()
SLOW = {"P9"}  # every numeric parameter across its range: ~10 s


@pytest.mark.parametrize("pattern", [pytest.param(p, marks=pytest.mark.slow) if p in SLOW else p for p in PATTERNS])
def test_pattern(pattern):
    result = PATTERNS[pattern](SIZES, 2)
    assert result.passed, f"{result.id} {result.pattern}: measured {result.measured:.3f}, target {result.target}; " \
                          f"{result.detail}\n{result.table}"


def test_fragmentation_components_have_distinct_drivers():
    """Gaps, duplication and discontinuity each respond to a mechanism that the other two respond to far
    less: navigation by connected communities (gaps: the ``navigation`` constant across its range, in a connected
    community), the pooled-payment assessment habit (duplication), role flexibility (discontinuity: ``role_reach``,
    how much of a later component a flexible provider takes on, across its range at a strong IPT7). Measured by
    moving the mechanism's lever in an alliance. (Connectedness itself also moves discontinuity, through
    participation and tailoring, IPT3; switching IPT7 on also changes which handoffs remain, and so gaps.)"""
    n, base = 40, Params(horizon=60)

    def components(p: Params) -> np.ndarray:
        ds = simulate([p] * n, list(range(n)), keep="last")
        return np.array([ds[c].values[:, 0].mean() for c in ("gaps", "duplication", "discontinuity")])

    moves = {
        "gaps": components(base.replace(community_connectedness=1.0, constants={"navigation": 0.9})) - components(
            base.replace(community_connectedness=1.0, constants={"navigation": 0.3})),
        "duplication": components(base.replace(reassessment=0.9)) - components(base.replace(reassessment=0.1)),
        "discontinuity": components(base.replace(ipt7_strength=2.0, constants={"role_reach": 0.4})) - components(
            base.replace(ipt7_strength=2.0, constants={"role_reach": 0.1})),
    }
    for k, (name, move) in enumerate(moves.items()):
        own = abs(move[k])
        others = np.abs(np.delete(move, k))
        assert own >= 0.01 and np.all(others < 0.5 * own), (name, move)


@pytest.fixture(scope="module")
def evidence():
    """The evidence patterns (sim/analysis/evidence_patterns.py) at their full sizes: 2,000 contexts x 5 paired
    seeds, 50 seeds per one-context comparison (about 10 s on 2 workers)."""
    from sim.analysis.evidence_patterns import measure_evidence

    return {r.id: r for r in measure_evidence(workers=2)}


@pytest.mark.parametrize("pattern", ["P4y5", "P10", "P11", "P12", "P13", "P14", "P14b", "P15", "P16"])
def test_evidence_pattern(evidence, pattern):
    """Each evidence pattern met at the defaults (the calibrated ensemble's representative member)."""
    result = evidence[pattern]
    assert result.passed, f"{result.id} {result.pattern}: measured {result.measured:.3f}, target {result.target}; " \
                          f"{result.detail}\n{result.table}"


def test_the_evidence_patterns_tables_list_every_row_they_promise(evidence):
    import math

    from sim.analysis.evidence_patterns import EVIDENCE_PATTERNS
    from sim.model.outcomes import OUTCOMES
    from sim.model.theories import RULE_INFO

    assert list(evidence) == list(EVIDENCE_PATTERNS)
    assert all(math.isfinite(r.measured) and r.target for r in evidence.values())
    assert len(evidence["P10"].table) == 5
    assert len(evidence["P11"].table) == sum(len(rule.context) for rule in RULE_INFO)
    assert list(evidence["P12"].table["outcome"]) == list(OUTCOMES)


def test_a_rule_switched_off_takes_its_context_with_it():
    """P11's row for IPT6, asserted: with IPT6 off, senior commitment builds no arrangements, so its level no
    longer moves the alliance's advantage (year-5 means, paired seeds)."""
    from sim.analysis.evidence_patterns import EvidenceSizes, p11_honest_ablation

    frame = p11_honest_ablation(EvidenceSizes(seeds=8), workers=2).table
    row = frame[frame["context"] == "senior_commitment"].iloc[0]
    # stricter than P11 (which allows a fall, the costs that remain): IPT6 has no cost that senior commitment scales
    assert abs(row["move"]) <= 0.02, row



def test_the_seeds_failures_a_talking_shop_and_buy_in_without_trust():
    """The seed's failures, each through its own mechanism: without senior buy-in no arrangements build, trust
    and alignment stay low and the alliance pays for its boards (no better on fragmentation, behind on value);
    with buy-in but no trust, alignment (IPT4) does not come, so the alliance is worse on fragmentation where the
    same locality with trust gains clearly."""
    from sim.analysis.evidence_patterns import failure_cases

    cases = failure_cases(seeds=20, workers=2).set_index("case")
    default, shop, untrusting, trusting = (cases.loc[k] for k in (
        "default context", "talking shop: no senior buy-in", "buy-in without trust",
        "the same locality with trust 0.6"))
    assert shop["fragmentation_gain"] <= 0.005 and shop["value_gain"] < -0.05, shop
    # the talking shop against the working alliance of the default context: no shared aim, little joint effort,
    # and a larger bill for its boards
    assert shop["a_goal_alignment"] < default["a_goal_alignment"] - 0.4, cases
    assert shop["a_low_effort"] > default["a_low_effort"] + 0.3, cases
    assert shop["a_governance_cost"] > default["a_governance_cost"] + 0.03, cases
    assert untrusting["fragmentation_gain"] < -0.005 and trusting["fragmentation_gain"] > 0.05, cases
    assert untrusting["a_goal_alignment"] < trusting["a_goal_alignment"] - 0.2, cases
