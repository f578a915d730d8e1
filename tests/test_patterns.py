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
    less: navigation by connected communities (gaps), the pooled-payment assessment habit (duplication),
    role flexibility (discontinuity). Measured by switching the mechanism's lever on in an alliance."""
    n, base = 40, Params(horizon=60)

    def components(p: Params) -> np.ndarray:
        ds = simulate([p] * n, list(range(n)), keep="last")
        return np.array([ds[c].values[:, 0].mean() for c in ("gaps", "duplication", "discontinuity")])

    moves = {
        "gaps": components(base.replace(community_connectedness=1.0)) - components(
            base.replace(community_connectedness=0.0)),
        "duplication": components(base.replace(reassessment=0.9)) - components(base.replace(reassessment=0.1)),
        "discontinuity": components(base.replace(ipt7_strength=2.0)) - components(
            base.replace(disabled=("IPT7",))),
    }
    for k, (name, move) in enumerate(moves.items()):
        own = abs(move[k])
        others = np.abs(np.delete(move, k))
        assert own >= 0.01 and np.all(others < 0.5 * own), (name, move)


@pytest.fixture(scope="module")
def evidence():
    """The evidence patterns P4y5 and P10-P15 at the sizes ``experiments/patterns.py --evidence`` reports (one
    sweep of 2,000 uniform contexts shared by P4y5, P10 and P12; about a minute on two workers)."""
    from sim.analysis.evidence_patterns import EvidenceSizes, measure_evidence

    return {r.id: r for r in measure_evidence(sizes=EvidenceSizes(), workers=2)}


@pytest.mark.slow
@pytest.mark.parametrize("pattern", ["P4y5", "P10", "P11", "P12", "P13", "P14", "P14b", "P15"])
def test_evidence_pattern(evidence, pattern):
    result = evidence[pattern]
    assert result.passed, f"{result.id} {result.pattern}: measured {result.measured:.3f}, target {result.target}; " \
                          f"{result.detail}\n{result.table}"


@pytest.mark.slow
def test_evidence_pattern_tables_list_every_row(evidence):
    """P10 has its five failure rows, P11 a row per rule's context, P12 a row per outcome."""
    from sim.analysis.evidence_patterns import EVIDENCE_PATTERNS
    from sim.model.outcomes import OUTCOMES
    from sim.model.theories import RULE_INFO

    assert list(evidence) == list(EVIDENCE_PATTERNS)
    assert len(evidence["P10"].table) == 5
    assert len(evidence["P11"].table) == sum(len(rule.context) for rule in RULE_INFO)
    assert list(evidence["P12"].table["outcome"]) == list(OUTCOMES)


def test_a_rule_switched_off_takes_its_context_with_it():
    """P11's row for IPT6, asserted: with IPT6 off, senior commitment builds no arrangements, so its level no
    longer moves the alliance's advantage (year-5 means, paired seeds)."""
    from sim.analysis.evidence_patterns import EvidenceSizes, p11_honest_ablation

    frame = p11_honest_ablation(EvidenceSizes(seeds=8), workers=2).table
    row = frame[frame["context"] == "senior_commitment"].iloc[0]
    assert abs(row["move"]) <= 0.02, row


def test_senior_buy_in_without_trust_is_a_talking_shop():
    """IPT6 without IPT4's context: senior leaders back the alliance, but providers start from a history of
    distrust, so none aligns with the common aim (IPT4's trust gate) and each one's own agenda keeps pulling effort
    off joint work (``commissioning.own_priorities_pull``): the alliance is worse on fragmentation than separate
    contracts (the seed's talking shops). With trust the same buy-in makes it better; with no own agendas
    (``own_priorities`` 0) the distrustful alliance loses far less: the pull, not something else, made it fail."""
    from sim.analysis.evidence_patterns import YEAR_5, _year_means

    backed = Params(senior_commitment=0.9, initial_trust=0.05)

    def advantage(p: Params) -> float:
        frag = _year_means(p, 8, list(YEAR_5), 2, ("fragmentation",))["fragmentation"][:, 0]
        return float(frag[1] - frag[0])  # traditional minus alliance: positive when the alliance is better

    distrust = advantage(backed)
    assert distrust < -0.01
    assert advantage(backed.replace(initial_trust=0.9)) > 0.01
    assert advantage(backed.replace(own_priorities=0.0)) > distrust + 0.01
