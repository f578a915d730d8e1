"""Would an alliance work here? The locality brief: bad context input, the numbers, and the brief itself."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.analysis import assess as a
from sim.report.brief import fragmented
from sim.runtime.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("values,message", [
    ({}, "must be a non-empty mapping"),
    (None, "must be a non-empty mapping"),
    ({"trust": 0.3}, "context.trust: unknown context"),
    ({"pooled_share": 0.5}, "context.pooled_share: is a lever"),
    ({"senior_commitment": 1.4}, r"context.senior_commitment=1.4: must be a number in \[0, 1\]"),
    ({"senior_commitment": "high"}, "context.senior_commitment='high'"),
])
def test_a_bad_context_is_refused_naming_the_key_and_what_is_allowed(values, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        a.check_context(values)


def test_the_assessment_spans_the_ensemble_and_moves_with_the_context() -> None:
    """Two members give an interval; a locality without senior buy-in expects less than one with it, and the
    local sensitivity steps every context around the locality's own values, largest change first."""
    members = pd.DataFrame({"own_priorities": [0.2, 0.7], "handoff_loss": [0.15, 0.35]})
    kwargs = {"members": 2, "seeds": 2, "sensitivity_members": 2, "sensitivity_seeds": 1}
    low = a.assess({"senior_commitment": 0.1, "culture_readiness": 0.2}, members, **kwargs)
    high = a.assess({"senior_commitment": 0.9, "culture_readiness": 0.2}, members, **kwargs)
    five = low.reduction["5 years"]
    assert five["low"] <= five["mean"] <= five["high"] and five["low"] < five["high"]
    assert high.reduction["5 years"]["mean"] > five["mean"]
    assert low.chance_worse >= high.chance_worse
    table = low.sensitivity.set_index("context")
    assert sorted(table.index) == sorted(a.contexts())
    assert table.loc["senior_commitment", "now"] == 0.1 and table.loc["culture_readiness", "now"] == 0.2
    sizes = table["change_per_step"].abs().to_numpy()
    assert (np.diff(sizes) <= 0).all() and sizes[0] > 0
    assert set(low.assumed) | set(low.given) == set(a.contexts()) and not set(low.assumed) & set(low.given)
    assert low.curves.shape == (2, 61)


def test_the_command_writes_a_two_page_brief_whose_numbers_are_the_assessments(tmp_path: Path) -> None:
    from pypdf import PdfReader

    context = tmp_path / "ours.yaml"
    context.write_text("senior_commitment: 0.3\ninitial_trust: 0.2\n")
    small = ["members=2", "seeds=1", "sensitivity_members=1", "sensitivity_seeds=1", "workers=1", "ensemble=none"]
    run = subprocess.run([sys.executable, "experiments/assess.py", f"context={context}", f"results_root={tmp_path}",
                          *small], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    folder = tmp_path / "assess" / "ours"
    numbers = json.loads((folder / "assessment.json").read_text())
    assert numbers["given"] == {"senior_commitment": 0.3, "initial_trust": 0.2}
    text = (folder / "brief.html").read_text()
    assert f"about <b>{fragmented(numbers['reduction']['5 years']['mean'])}</b>" in text
    assert "Trust at the start</td><td>0.2</td><td>given" in text
    assert "Community capacity</td><td>0.5</td><td>assumed" in text
    pages = PdfReader(folder / "brief.pdf").pages
    assert 1 <= len(pages) <= 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("monitoring: 0.5\n")
    refused = subprocess.run([sys.executable, "experiments/assess.py", f"context={bad}", f"results_root={tmp_path}"],
                             cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert refused.returncode == 2 and "monitoring: is a lever" in refused.stderr
    assert "Traceback" not in refused.stderr and not (tmp_path / "assess" / "bad").exists()


def test_a_negative_reduction_reads_as_more_fragmented() -> None:
    """Where the alliance does worse, the brief and the command say so in words, not "-4% less"."""
    assert fragmented(0.12) == "12% less fragmented"
    assert fragmented(-0.04) == "4% more fragmented"
    assert fragmented(0.0) == "0% less fragmented"
