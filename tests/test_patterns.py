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
