"""Sensitivity analysis: generic functions against analytic results, the model study end to end,
distribution through the sweep machinery, and clear errors for bad input."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import run_entry
from SALib.test_functions import Ishigami

from sim.analysis.sensitivity import PairedEffects, morris, noise_share, sobol, study_bounds, theory_group
from sim.params import Params

ROOT = Path(__file__).resolve().parents[1]
PI = (-np.pi, np.pi)
ISHIGAMI = {"x1": PI, "x2": PI, "x3": PI}


def test_sobol_recovers_ishigami_indices():
    table = sobol(Ishigami.evaluate, ISHIGAMI, 4096, seed=7)
    np.testing.assert_allclose(table["S1"], [0.3139, 0.4424, 0.0], atol=0.03)
    np.testing.assert_allclose(table["ST"], [0.5576, 0.4424, 0.2437], atol=0.03)
    assert list(table.columns) == ["S1", "S1_conf", "ST", "ST_conf"]
    assert table.attrs["evaluations"] == 4096 * 5


def test_sobol_with_replicates_averages_noise_and_ranks_a_dummy_last():
    rng_cache = {}

    def noisy(X, r):
        rng = rng_cache.setdefault(r, np.random.default_rng(r))
        return Ishigami.evaluate(X[:, :3]) + rng.normal(0, 0.5, len(X))

    bounds = {**ISHIGAMI, "dummy": (0.0, 1.0)}
    table = sobol(noisy, bounds, 2048, seed=3, replicates=4)
    assert table["ST"].idxmin() == "dummy" and table.loc["dummy", "ST"] < 0.02
    np.testing.assert_allclose(table.loc[["x1", "x2", "x3"], "ST"], [0.5576, 0.4424, 0.2437], atol=0.05)


def test_sobol_groups_sum_their_members():
    table = sobol(Ishigami.evaluate, ISHIGAMI, 2048, seed=1, groups={"x1": "a", "x2": "b", "x3": "a"})
    assert set(table.index) == {"a", "b"}
    # x1 and x3 together explain everything x2 does not
    assert table.loc["a", "ST"] == pytest.approx(0.5576, abs=0.05)


def test_morris_ranks_ishigami_and_linear_function():
    table = morris(lambda X: 3 * X[:, 0] + 1 * X[:, 1] + 0 * X[:, 2], {"a": (0, 1), "b": (0, 1), "c": (0, 1)}, 20,
                   seed=1)
    np.testing.assert_allclose(table["mu_star"], [3, 1, 0], atol=1e-9)
    np.testing.assert_allclose(table["sigma"], [0, 0, 0], atol=1e-9)
    ish = morris(Ishigami.evaluate, ISHIGAMI, 50, seed=1)
    assert list(ish.columns[:3]) == ["mu_star", "mu_star_conf", "sigma"]
    assert ish["mu_star"].min() > 1 and ish.loc["x2", "mu"] < ish.loc["x2", "mu_star"]


def test_noise_share():
    signal = np.linspace(0, 1, 200)[:, None]
    assert noise_share(np.repeat(signal, 3, axis=1)) == pytest.approx(0.0, abs=1e-12)
    noisy = signal + np.random.default_rng(0).normal(0, 0.3, (200, 4))
    expected = 0.09 / 4 / (signal.var(ddof=1) + 0.09 / 4)
    assert noise_share(noisy) == pytest.approx(expected, rel=0.3)


def test_bounds_come_from_the_schema_and_may_only_narrow():
    bounds = study_bounds()  # by role: contexts and levers; mechanisms are model uncertainty (the ensemble)
    assert bounds["place_based"] == (0.0, 1.0) and "negativity_bias" not in bounds
    assert {Params.spec(n).group for n in bounds} == {"context", "lever"}
    assert bounds["contract_length"] == (12.0, 120.0)  # integer levers are studied too (rounded)
    assert "commissioning" not in bounds and "n_providers" not in bounds
    assert study_bounds(roles=["mechanism"])["negativity_bias"] == (1.0, 5.0)
    with pytest.raises(ValueError, match="'contexts': not a role of the schema; roles: context, lever"):
        study_bounds(roles=["contexts"])
    assert study_bounds(["initial_trust"], {"initial_trust": [0.2, 0.6]}) == {"initial_trust": (0.2, 0.6)}
    assert theory_group("senior_commitment") == "C" and theory_group("negativity_bias") == "other"
    assert theory_group("sector_mix") == "A" and theory_group("monitoring") == "other"


@pytest.mark.parametrize(
    ("call", "fragments"),
    [
        (lambda: study_bounds(["trust"]), ["'trust'", "not a numeric parameter"]),
        (lambda: study_bounds(["initial_trust"], {"initial_trust": [0.0, 1.5]}), ["initial_trust", "1.5", "widen"]),
        (lambda: study_bounds(["initial_trust"], {"initial_trust": [0.6, 0.2]}), ["initial_trust", "low < high"]),
        (lambda: sobol(Ishigami.evaluate, {"x": (1.0, 1.0)}, 64, seed=1), ["bounds['x']", "low < high"]),
        (lambda: sobol(Ishigami.evaluate, ISHIGAMI, 1000, seed=1), ["n=1000", "power of 2", "512", "1024"]),
        (lambda: sobol(Ishigami.evaluate, ISHIGAMI, 64, seed=1, replicates=0), ["replicates=0", ">= 1"]),
        (lambda: PairedEffects(["initial_trust"], ["fragmentaton_reduction"]), ["fragmentaton_reduction",
                                                                                  "fragmentation_reduction"]),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(call, fragments):
    with pytest.raises(ValueError) as info:
        call()
    for fragment in fragments:
        assert fragment in str(info.value)


@pytest.mark.slow
def test_model_effects_use_common_random_numbers_and_match_the_sweep_machinery(tmp_path):
    X = np.random.default_rng(2).uniform(size=(9, 2))
    names, outcomes = ["initial_trust", "senior_commitment"], ["fragmentation_reduction", "access_gain"]
    local = PairedEffects(names, outcomes, steps=12).run(X, 2)
    assert local["fragmentation_reduction"].shape == (9, 2)
    swept = PairedEffects(names, outcomes, steps=12, launcher="local", chunks=3, work_dir=str(tmp_path)).run(X, 2)
    for outcome in outcomes:
        np.testing.assert_array_equal(local[outcome], swept[outcome])


def test_a_batch_of_designs_gives_each_designs_own_effects():
    rng = np.random.default_rng(4)
    names, outcomes = ["initial_trust", "austerity"], ["fragmentation_reduction", "value_gain"]
    model = PairedEffects(names, outcomes, steps=8, seed=3)
    designs = [(rng.uniform(size=(5, 2)), None), (rng.uniform(size=(3, 2)), Params(disabled=("IPT6",))),
               (rng.uniform(size=(1, 2)), Params(commissioning="traditional", n_providers=4))]
    batch = model.run_batch(designs, 2)
    assert model.evaluations == (5 + 3 + 1) * 2 * 2
    for (X, base), effects in zip(designs, batch, strict=True):
        alone = PairedEffects(names, outcomes, steps=8, seed=3).run(X, 2, base=base)
        for outcome in outcomes:
            assert effects[outcome].shape == (len(X), 2)
            np.testing.assert_array_equal(effects[outcome], alone[outcome])


def _study(tmp_path: Path, *overrides: str) -> subprocess.CompletedProcess:
    """``experiments/sensitivity.py study=smoke ...`` as a forked child of the test process (conftest.run_entry)."""
    args = ["study=smoke", "report=false", f"results_root={tmp_path}", "name=s", "workers=1", *overrides]
    return run_entry("sensitivity", args, tmp_path, timeout=600, env={"TMPDIR": str(tmp_path)})


def test_smoke_study_writes_every_table_and_figure(smoke_run):
    """The session's smoke study (conftest.smoke_run: the main job's command in a new interpreter)."""
    proc, folder = smoke_run, smoke_run.folder
    root = folder.parents[1]
    for name in ("morris.csv", "sobol.csv", "sobol_groups.csv", "convergence.csv", "noise.csv", "prim_boxes.csv",
                 "prim_stats.csv", "cart.txt", "ablation.csv", "heatmap.csv", "morris_samples.parquet",
                 "sobol_samples.parquet", "discovery_samples.parquet", "timeseries.parquet", "config.yaml",
                 "manifest.json", "morris.png", "sobol.png", "ablation.png", "heatmap.png", "prim_tradeoff.png"):
        assert (folder / name).is_file() and (folder / name).stat().st_size > 0, name
    morris_table = pd.read_csv(folder / "morris.csv")
    assert "dummy" in set(morris_table["parameter"])
    sobol_table = pd.read_csv(folder / "sobol.csv")
    assert set(sobol_table["N"]) == {8, 16} and set(sobol_table["outcome"]) >= {"fragmentation_reduction"}
    ablation = pd.read_csv(folder / "ablation.csv")
    assert set(ablation["disabled"]) == {"IPT1", "IPT2", "IPT3", "IPT4", "IPT5", "IPT6", "IPT7", "A", "B", "C"}
    theories = ablation[ablation.disabled.isin(["A", "B", "C"]) & (ablation.outcome == "fragmentation_reduction")]
    # system level and local focus carry part of the effect in any context; culture's share depends on readiness
    # (IPT7's role confusion costs more than the cultural shift repays where the culture is not ready), so over
    # contexts drawn across readiness its sign is the study's finding, not an invariant
    assert (theories.set_index("disabled").loc[["A", "B"], "change"] < 0).all()
    assert (theories["change_low"] <= theories["change"]).all()
    assert (theories["change"] <= theories["change_high"]).all()
    boxes = pd.read_csv(folder / "prim_stats.csv")
    assert (boxes["density"] > boxes["base_rate"]).all() and boxes["coverage"].between(0, 1).all()
    assert (root / "sensitivity" / "latest").resolve() == folder.resolve()
    assert "most influential" in proc.stdout


def test_the_study_answers_by_role_with_failure_regions_and_resilience(smoke_run):
    """Contexts and levers are the study's factors (mechanisms are model uncertainty), each with its robustness;
    the regions where the alliance did worse and the shocks' dips are tables of the study's own runs."""
    folder = smoke_run.folder
    table = pd.read_csv(folder / "contexts_sobol.csv")
    assert list(table.columns[:7]) == ["parameter", "role", "S1", "S1_conf", "ST", "ST_conf", "robustness"]
    assert set(table["role"]) == {"context", "lever"}
    assert table["robustness"].between(0, 1).all() and (table["robustness"] <= table["sign_robustness"]).all()
    sobol_table = pd.read_csv(folder / "sobol.csv")
    assert set(sobol_table["parameter"]) <= set(table["parameter"])
    assert table.loc[~table["screened_out"], "ST"].notna().all()
    regions = pd.read_csv(folder / "failure_regions.csv")
    assert {"worse_fragmentation", "worse_value", "best"} <= set(regions["question"])
    samples = pd.read_parquet(folder / "discovery_samples.parquet")
    worse = regions[regions["question"] == "worse_fragmentation"].iloc[0]
    assert worse["hits"] == int((samples["fragmentation_reduction"] < -0.01).sum())  # counted from the runs
    assert worse["base_rate"] == pytest.approx(worse["hits"] / len(samples))
    resilience = pd.read_csv(folder / "resilience.csv")
    assert set(zip(resilience["preset"], resilience["commissioning"], strict=True)) == {
        (p, m) for p in ("leadership_turnover", "budget_shock", "pandemic_surge") for m in ("alliance", "traditional")}
    curves = pd.read_csv(folder / "resilience_curves.csv")
    for _, r in resilience.iterrows():
        rise = curves[(curves["preset"] == r["preset"]) & (curves["commissioning"] == r["commissioning"])]["rise"]
        assert r["depth"] == pytest.approx(rise.iloc[r["first_event_month"]:].max())
        assert rise.iloc[: r["first_event_month"]].abs().max() == 0  # the same world until the shock
    for name in ("failure_regions.png", "resilience.png", "model_uncertainty.json", "robustness.csv", "journeys.png"):
        assert (folder / name).stat().st_size > 0, name
    # the journeys: the same people with the same needs under each mode (the walk's draws are keyed by person)
    people = pd.read_csv(folder / "journeys.csv")
    by_mode = {mode: rows.sort_values(["person", "contact"]) for mode, rows in people.groupby("commissioning")}
    assert set(by_mode) == {"alliance", "traditional"} and people["person"].nunique() >= 1
    np.testing.assert_array_equal(by_mode["alliance"][["person", "contact", "domain"]].to_numpy(),
                                  by_mode["traditional"][["person", "contact", "domain"]].to_numpy())
    assert not (people["lost"] & ~people["handoff"]).any()  # only a handoff can lose a person


def test_ensemble_members_are_shared_within_a_block_and_paired_across_modes():
    """Model uncertainty: replicate r of block b runs member (b * R + r) mod M, the same member for every row of a
    Saltelli block (so a factor's move is never confounded with a change of constants) and for both modes."""
    from sim.analysis.calibration import member_params
    from sim.analysis.model_uncertainty import robustness

    members = pd.DataFrame({"own_priorities": [0.1, 0.7, 0.4], "leadership": [0.1, 0.25, 0.15]})
    names, outcomes = ["initial_trust"], ["fragmentation_reduction"]
    model = PairedEffects(names, outcomes, steps=6, seed=2, members=members, block=2)
    X = np.array([[0.2], [0.8], [0.3], [0.5]])
    effects = model.run(X, 2)["fragmentation_reduction"]
    for i in range(4):
        for r in range(2):
            m = ((i // 2) * 2 + r) % 3
            alone = PairedEffects(names, outcomes, steps=6, seed=2 + r).run(
                X[i:i + 1], 1, base=member_params(members.iloc[m]))["fragmentation_reduction"]
            assert effects[i, r] == alone[0, 0], (i, r, m)
    same = robustness(["initial_trust", "senior_commitment"], {"initial_trust": (0.0, 1.0),
                      "senior_commitment": (0.0, 1.0)}, Params(horizon=12), pd.concat([members.iloc[:1]] * 2),
                      "fragmentation_reduction", seeds=1)
    assert (same["members"] == 2).all() and (same["robustness"] == 1.0).all()  # identical members always agree


@pytest.mark.parametrize(
    ("override", "fragments"),
    [
        ("study.sobol_n=1000", ["study.sobol_n=1000", "power of 2"]),
        ("study.replicates=0", ["study.replicates=0", ">= 1"]),
        ("study.outcomes=[nonsense]", ["'nonsense'", "fragmentation_reduction"]),
        ("study.parameters=[trust]", ["'trust'", "not a numeric parameter"]),
        ("study.narrow.initial_trust=[0.5,2.0]", ["initial_trust", "widen"]),
        ("study.prim_threshold=5.0", ["no run reached", "fragmentation_reduction >= 5"]),
        ("study.roles=[contexts]", ["study.roles=['contexts']", "context, lever"]),
    ],
)
def test_bad_study_input_fails_clearly_and_leaves_nothing_that_looks_finished(tmp_path, override, fragments):
    proc = _study(tmp_path, override)
    assert proc.returncode != 0
    message = proc.stderr + proc.stdout
    assert "Traceback" not in message, message[-2000:]
    for fragment in fragments:
        assert fragment in message, message[-2000:]
    assert not (tmp_path / "sensitivity" / "s").exists()


def test_a_study_evaluated_in_blocks_gives_the_numbers_of_one_evaluation(monkeypatch) -> None:
    """A full study's million rows are evaluated in blocks (memory); each row's effect is the same bit for bit,
    members of the ensemble included."""
    import sim.analysis.sensitivity as sens

    members = pd.DataFrame({"gate_slope": [10.0, 16.0], "own_priorities": [0.2, 0.5]})
    X = np.random.default_rng(4).uniform([0.1, 0.1], [0.9, 0.9], size=(7, 2))
    whole = PairedEffects(["initial_trust", "austerity"], ["fragmentation_reduction"], steps=6,
                          members=members).run(X, 2)
    monkeypatch.setattr(sens, "EVALUATION_BLOCK", 5)
    blocks = PairedEffects(["initial_trust", "austerity"], ["fragmentation_reduction"], steps=6,
                           members=members).run(X, 2)
    np.testing.assert_array_equal(whole["fragmentation_reduction"], blocks["fragmentation_reduction"])
    assert not np.array_equal(whole["fragmentation_reduction"][:, 0], whole["fragmentation_reduction"][:, 1])
