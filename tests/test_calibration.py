"""Calibration (history matching): targets as data, the battery, the waves, the ensemble and bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.analysis import calibration as cal
from sim.analysis import targets as tg
from sim.analysis.patterns import SEED_CONTEXTS

ROOT = Path(__file__).resolve().parents[1]
TINY = cal.BatterySizes.tiny()


def _targets_file(tmp_path: Path, *entries: dict) -> Path:
    import yaml

    path = tmp_path / "targets.yaml"
    path.write_text(yaml.safe_dump({"targets": list(entries)}))
    return path


def _entry(**changes) -> dict:
    return {"name": "T", "quantity": "effect", "pattern": "toy", "low": 0.0, "high": 0.6, "tolerance": 0.02,
            "role": "calibrate", "source": "test", **changes}


def test_the_shipped_targets_name_every_pattern_and_hold_out_p15_and_the_value_gain() -> None:
    targets = tg.load_targets()
    names = {t.name for t in targets}
    assert {"P1", "P2", "P3", "P4y5", "P5", "P6", "P7", "P8", "P9", "P10", "P11", "P12", "P13", "P14early",
            "P14late", "P14b", "P15"} <= names
    roles = {t.name: t.role for t in targets}
    assert roles["P15"] == roles["P14b"] == "held_out"
    assert roles["P9"] == roles["P11"] == "structural"
    for t in targets:
        assert t.source and t.tolerance > 0 and t.low <= t.high


@pytest.mark.parametrize("changes,message", [
    ({"quantity": "happiness"}, "quantity='happiness': unknown"),
    ({"low": 0.5, "high": 0.1}, "low=0.5 > high=0.1"),
    ({"tolerance": 0}, "tolerance=0: must be a number > 0"),
    ({"tolerance": -1.0}, "tolerance=-1.0"),
    ({"role": "maybe"}, "role='maybe': must be one of calibrate, held_out, structural"),
    ({"low": None, "high": None}, "both null"),
    ({"low": "high"}, "low='high': must be a number or null"),
    ({"hgh": 0.4}, "unknown key 'hgh'"),
])
def test_a_bad_target_is_refused_naming_the_field_and_value(tmp_path: Path, changes: dict, message: str) -> None:
    with pytest.raises(cal.CalibrationError, match="target 'T'") as err:
        tg.load_targets(_targets_file(tmp_path, _entry(**changes)))
    assert message in str(err.value)


def test_a_prior_outside_the_registry_is_refused() -> None:
    with pytest.raises(cal.CalibrationError, match=r"prior.bounds\['gate_slope'\]=\[1, 30\]: outside the plausible "
                                                   r"range \[6, 24\]"):
        cal.prior(bounds={"gate_slope": [1, 30]})
    with pytest.raises(cal.CalibrationError, match="'no_such' is neither"):
        cal.prior(bounds={"no_such": [0, 1]})
    with pytest.raises(cal.CalibrationError, match="'base_need' is fixed"):
        cal.prior(bounds={"base_need": [60, 80]})
    with pytest.raises(cal.CalibrationError, match="prior.mechanisms is false"):
        cal.prior(mechanisms=False, bounds={"own_priorities": [0.1, 0.5]})
    with pytest.raises(cal.CalibrationError, match=r"battery.seeds=0: must be a whole number >= 1"):
        cal.BatterySizes(seeds=0)
    dims = {d.name: d for d in cal.prior(bounds={"gate_slope": [8, 16]})}
    assert (dims["gate_slope"].low, dims["gate_slope"].high) == (8, 16)
    assert "base_need" not in dims and "own_priorities" in dims


def test_a_sets_battery_does_not_depend_on_its_batch_and_defaults_match_the_registry() -> None:
    dims = [d for d in cal.prior() if d.name in ("gate_slope", "own_priorities", "trust_learning_rate")]
    rng = np.random.default_rng(3)
    sets = cal.scale_up(rng.uniform(size=(3, len(dims))), dims)
    together = cal.battery(sets, dims, TINY, chunk=3)
    alone = pd.concat([cal.battery(sets.iloc[[k]], dims, TINY) for k in range(3)], ignore_index=True)
    pd.testing.assert_frame_equal(together, alone, check_exact=True)  # same code, same seeds: bit for bit
    assert list(together.columns) == list(tg.QUANTITIES)
    # the registry's own values, given explicitly, are the model's defaults
    defaults = pd.DataFrame([{d.name: d.default for d in dims}])
    from sim.analysis.patterns import paired
    from sim.params import Params

    a, t = paired(Params(), TINY.seeds, keep=[60], seed0=1000)
    effect = (t["fragmentation"].values.mean() - a["fragmentation"].values.mean()) / t["fragmentation"].values.mean()
    assert cal.battery(defaults, dims, TINY)["effect"].iloc[0] == pytest.approx(effect, rel=1e-12)


def test_a_small_calibration_finds_an_ensemble_resumes_and_reports_a_conflict(tmp_path: Path) -> None:
    """Two inputs, a toy target the model can meet: waves run, emulators fit, the ensemble's members meet the
    target when simulated again, and a rerun in the same folder resumes instead of simulating again."""
    dims = [d for d in cal.prior() if d.name in ("own_priorities", "handoff_loss")]
    targets = tg.load_targets(_targets_file(tmp_path, _entry(), _entry(name="H", quantity="value_gain", low=None,
                                                                        high=5.0, role="held_out", tolerance=0.1)))
    settings = cal.Settings(waves=2, runs_per_wave=16, candidates=2000, ensemble_size=4, n_active=2, battery=TINY)
    result = cal.history_match(targets, dims, settings, tmp_path / "run", log=lambda line: None)
    assert "conflict" not in result["summary"]
    ensemble = result["ensemble"]
    assert 1 <= len(ensemble) <= 4 and [w.record()["runs"] for w in result["waves"]] == [16, 16]
    again = cal.battery(ensemble[[d.name for d in dims]], dims, TINY)
    assert targets[0].met(again["effect"].to_numpy(), settings.slack).all()
    cal.write_diagnostics(tmp_path / "run", result, targets, dims, settings)
    for name in ("waves.csv", "constrained_by.csv", "ensemble.csv", "ensemble_vs_prior.csv", "targets_ensemble.csv",
                 "marginals.png", "pairs.png", "summary.json"):
        assert (tmp_path / "run" / name).stat().st_size > 0, name
    held = pd.read_csv(tmp_path / "run" / "targets_ensemble.csv").set_index("target")
    assert held.loc["H", "role"] == "held_out"
    wave_file = tmp_path / "run" / "wave_1.parquet"
    stamp = wave_file.stat().st_mtime_ns
    resumed = cal.history_match(targets, dims, settings, tmp_path / "run", log=lambda line: None)
    assert wave_file.stat().st_mtime_ns == stamp  # loaded, not simulated again
    pd.testing.assert_frame_equal(resumed["ensemble"], ensemble)
    with pytest.raises(cal.CalibrationError, match="other settings"):
        cal.history_match(targets, dims, cal.Settings(waves=3, runs_per_wave=16, battery=TINY), tmp_path / "run")
    # a target no set can meet: an empty ensemble and a report naming it
    impossible = tg.load_targets(_targets_file(tmp_path, _entry(low=0.99, high=1.0, tolerance=0.001)))
    failed = cal.history_match(impossible, dims, settings, tmp_path / "impossible", log=lambda line: None)
    assert len(failed["ensemble"]) == 0
    assert "targets no set meets at all: T" in failed["summary"]["conflict"]
    # P5 missed: the seed contexts whose direction fails at the closest sets are named, with the table
    no_direction = tg.load_targets(_targets_file(tmp_path, _entry(name="P5", quantity="direction_least", low=5.0,
                                                                  high=None, tolerance=0.01)))
    missed = cal.history_match(no_direction, dims, settings, tmp_path / "direction", log=lambda line: None)
    assert "seed contexts whose direction fails" in missed["summary"]["conflict"]
    parts = pd.read_csv(tmp_path / "direction" / "direction_detail.csv")
    assert set(parts["context"]) == set(SEED_CONTEXTS) and len(parts) == len(SEED_CONTEXTS) * parts["set"].nunique()


def test_direction_detail_is_p5_per_context() -> None:
    """The battery's P5 is the least of direction_detail's rises, for the same set and seeds."""
    dims = [d for d in cal.prior() if d.name in ("own_priorities", "handoff_loss")]
    defaults = pd.DataFrame([{d.name: d.default for d in dims}])
    parts = cal.direction_detail(defaults, dims, TINY)
    assert list(parts["context"]) == list(SEED_CONTEXTS)
    assert parts["rise"].min() == pytest.approx(cal.battery(defaults, dims, TINY)["direction_least"].iloc[0],
                                                abs=1e-12)


def test_population_monte_carlo_narrows_the_distance_and_resumes(tmp_path: Path) -> None:
    """After the waves, the population Monte Carlo draws new sets around the nearest ones: its tolerance (the
    kept parents' largest distance) never grows, every generation is saved, and a rerun loads them."""
    dims = [d for d in cal.prior() if d.name in ("own_priorities", "handoff_loss")]
    targets = tg.load_targets(_targets_file(tmp_path, _entry(low=0.30, high=0.31, tolerance=0.005)))
    values = pd.DataFrame({"effect": [0.2, 0.305, 0.33, float("nan")]})
    np.testing.assert_allclose(cal.distance(values, targets), [20.0, 0.0, 4.0, np.inf])
    settings = cal.Settings(waves=1, runs_per_wave=16, candidates=500, ensemble_size=50, n_active=2, generations=3,
                            min_acceptance=0.0, battery=TINY)
    result = cal.history_match(targets, dims, settings, tmp_path / "run", log=lambda line: None)
    generations = result["summary"]["generations"]
    # 8 new sets a generation, fewer where 50 tries find fewer children inside the non-implausible space
    assert len(generations) >= 1 and all(1 <= g["runs"] <= 8 for g in generations)
    tolerances = [g["tolerance"] for g in generations]
    assert all(b <= a for a, b in zip(tolerances, tolerances[1:], strict=False))
    assert result["summary"]["runs"] == 16 + sum(g["runs"] for g in generations)
    files = sorted((tmp_path / "run").glob("generation_*.parquet"))
    assert len(files) == len(generations)
    stamp = files[0].stat().st_mtime_ns
    again = cal.history_match(targets, dims, settings, tmp_path / "run", log=lambda line: None)
    assert files[0].stat().st_mtime_ns == stamp  # loaded, not simulated again
    assert [(g["tolerance"], g["members_so_far"]) for g in again["summary"]["generations"]] == \
        [(g["tolerance"], g["members_so_far"]) for g in generations]
    # more generations extend the same calibration: the saved ones are loaded, the new one simulated
    longer = cal.history_match(targets, dims, replace(settings, generations=settings.generations + 1),
                               tmp_path / "run", log=lambda line: None)
    assert files[0].stat().st_mtime_ns == stamp
    assert len(longer["summary"]["generations"]) in (len(generations), len(generations) + 1)
    with pytest.raises(cal.CalibrationError, match="keep_share"):
        cal.Settings(keep_share=1.0)


def test_abc_mcmc_chains_never_move_away_from_the_targets_and_resume(tmp_path: Path) -> None:
    """The chains start at near sets; a step moves a few inputs; a chain accepts a move only if its summed miss does
    not grow, so once at the targets it stays there (the ABC-MCMC rule with tolerance 0); each step is saved, and a
    rerun with more steps loads the saved ones and extends them."""
    dims = [d for d in cal.prior() if d.name in ("own_priorities", "handoff_loss")]
    targets = tg.load_targets(_targets_file(tmp_path, _entry(low=0.30, high=0.31, tolerance=0.005),
                                            _entry(name="V", quantity="value_gain", low=-5.0, high=0.0,
                                                   tolerance=0.05)))
    values = pd.DataFrame({"effect": [0.2, 0.305, 0.32, float("nan")], "value_gain": [0.1, -1.0, 0.0, 0.0]})
    np.testing.assert_allclose(cal.shortfall(values, targets), [20.0 + 2.0, 0.0, 2.0, np.inf])
    np.testing.assert_allclose(cal.shortfall(values, targets, slack=1.0), [19.0 + 1.0, 0.0, 1.0, np.inf])
    settings = cal.Settings(waves=1, runs_per_wave=16, candidates=500, ensemble_size=50, n_active=2, generations=0,
                            chains=3, chain_steps=3, move_inputs=1, move_scale=0.2, battery=TINY)
    result = cal.history_match(targets, dims, settings, tmp_path / "run", log=lambda line: None)
    steps = result["summary"]["chain_steps"]
    assert [s["step"] for s in steps] == [1, 2, 3] and all(s["runs"] <= 3 for s in steps)
    assert [s["runs"] for s in steps] == [3, 3, 3]  # every chain proposes a move each step
    files = sorted((tmp_path / "run").glob("chain_*.parquet"))
    assert len(files) == 3
    before = pd.concat([pd.read_parquet(f) for f in (tmp_path / "run").glob("*.parquet") if f not in files])
    assert len(result["runs"]) == len(before) + 9
    # a step moves one input (move_inputs=1) of a set simulated before it
    names = [d.name for d in dims]
    earlier = cal.scale_down(before[names], dims)
    for row in cal.scale_down(pd.read_parquet(files[0])[names], dims):
        assert ((earlier != row).sum(axis=1) == 1).any()
    # a chain at the targets accepts only sets meeting every target: the count of such chains never falls
    at = [s["chains_meeting_every_target"] for s in steps]
    assert at == sorted(at) and [s["members_so_far"] for s in steps] == sorted(s["members_so_far"] for s in steps)
    cal.write_diagnostics(tmp_path / "run", result, targets, dims, settings)
    assert list(pd.read_csv(tmp_path / "run" / "chain_steps.csv")["step"]) == [1, 2, 3]
    stamp = files[0].stat().st_mtime_ns
    longer = cal.history_match(targets, dims, replace(settings, chain_steps=4), tmp_path / "run",
                               log=lambda line: None)
    assert files[0].stat().st_mtime_ns == stamp  # loaded, not simulated again
    assert longer["summary"]["chain_steps"][:3] == [{**s, "battery_seconds": longer["summary"]["chain_steps"][i]
                                                     ["battery_seconds"]} for i, s in enumerate(steps)]
    assert len(longer["summary"]["chain_steps"]) == 4
    for field, value, message in (("chains", -1, "chains=-1"), ("move_inputs", 0, "move_inputs=0"),
                                  ("move_scale", 0.0, "move_scale=0.0"), ("chain_steps", 1.5, "chain_steps=1.5")):
        with pytest.raises(cal.CalibrationError, match=message):
            cal.Settings(**{field: value})


def test_members_must_meet_every_target_again_on_other_seeds(tmp_path: Path) -> None:
    """With ``replication_offset``, a set meeting every target is a member only if it meets them again on seeds
    shifted by the offset; the second draw is saved and a rerun loads it."""
    dims = [d for d in cal.prior() if d.name in ("own_priorities", "handoff_loss")]
    targets = tg.load_targets(_targets_file(tmp_path, _entry(low=0.0, high=0.25, tolerance=0.02)))
    settings = cal.Settings(waves=1, runs_per_wave=16, candidates=500, ensemble_size=50, n_active=2, generations=0,
                            replication_offset=100_000, battery=TINY)
    result = cal.history_match(targets, dims, settings, tmp_path / "run", log=lambda line: None)
    summary = result["summary"]
    assert 0 < summary["members_replicated"] <= summary["members_found"]
    ensemble = result["ensemble"]
    assert len(ensemble) == min(settings.ensemble_size, summary["members_replicated"])
    names = [d.name for d in dims]
    again = cal.battery(ensemble[names], dims, replace(TINY, seed_offset=100_000))
    first = cal.battery(ensemble[names], dims, TINY)
    assert targets[0].met(again["effect"].to_numpy(), settings.slack).all()
    assert targets[0].met(first["effect"].to_numpy(), settings.slack).all()
    file = tmp_path / "run" / "replication.parquet"
    assert len(pd.read_parquet(file)) == summary["members_found"]
    stamp = file.stat().st_mtime_ns
    lines: list[str] = []
    cal.history_match(targets, dims, settings, tmp_path / "run", log=lines.append)
    assert file.stat().st_mtime_ns == stamp and any("loaded from replication.parquet" in line for line in lines)


def test_a_calibration_through_a_launcher_gives_the_same_runs_and_bad_launchers_are_refused(tmp_path: Path) -> None:
    """calibration.launcher runs the battery as launcher jobs (here: local processes, two jobs a call): the waves'
    and generations' quantities equal the in-process calibration's bit for bit; the jobs' files are removed."""
    dims = [d for d in cal.prior() if d.name in ("own_priorities", "handoff_loss")]
    targets = tg.load_targets(_targets_file(tmp_path, _entry(low=0.30, high=0.31, tolerance=0.005)))
    settings = cal.Settings(waves=1, runs_per_wave=8, candidates=500, ensemble_size=5, n_active=2, generations=1,
                            min_acceptance=0.0, battery=TINY)
    here = cal.history_match(targets, dims, settings, tmp_path / "here", log=lambda line: None)
    jobs = replace(settings, launcher="local", chunks=2, work_dir=str(tmp_path / "work"))
    there = cal.history_match(targets, dims, jobs, tmp_path / "there", log=lambda line: None)
    pd.testing.assert_frame_equal(here["runs"], there["runs"], check_exact=True)
    assert not list((tmp_path / "work").glob("battery-*"))
    with pytest.raises(cal.CalibrationError, match="calibration.launcher='nowhere': no such launcher"):
        cal.history_match(targets, dims, replace(settings, launcher="nowhere"), tmp_path / "bad",
                          log=lambda line: None)
    with pytest.raises(cal.CalibrationError, match="calibration.chunks=0"):
        cal.Settings(chunks=0)


def test_a_negative_slack_asks_for_a_margin_and_an_earlier_calibration_seeds_the_population(tmp_path: Path) -> None:
    """``slack`` < 0: a member lies that many tolerances inside every bound (against the battery's noise), and the
    distance is negative inside the ranges down to that margin; ``start_from`` adds an earlier calibration's sets
    (same model, prior, targets, battery) to the population Monte Carlo's first candidates, and refuses others."""
    dims = [d for d in cal.prior() if d.name in ("own_priorities", "handoff_loss")]
    targets = tg.load_targets(_targets_file(tmp_path, _entry(low=0.30, high=0.34, tolerance=0.01)))
    values = pd.DataFrame({"effect": [0.2, 0.305, 0.32, 0.345]})
    np.testing.assert_allclose(cal.distance(values, targets), [10.0, 0.0, 0.0, 0.5])
    np.testing.assert_allclose(cal.distance(values, targets, -1.0), [10.0, -0.5, -1.0, 0.5])
    assert list(targets[0].met(values["effect"].to_numpy(), -1.0)) == [False, False, True, False]
    assert list(targets[0].met(values["effect"].to_numpy(), 1.0)) == [False, True, True, True]
    with pytest.raises(cal.CalibrationError, match="narrower than twice the margin"):
        cal.history_match(targets, dims, cal.Settings(slack=-2.5, battery=TINY), tmp_path / "narrow",
                          log=lambda line: None)
    with pytest.raises(cal.CalibrationError, match="slack"):
        cal.Settings(slack=float("nan"))
    with pytest.raises(cal.CalibrationError, match="start_from.*no calibration there"):
        cal.Settings(start_from=str(tmp_path / "nowhere"))
    base = cal.Settings(waves=1, runs_per_wave=16, candidates=500, ensemble_size=50, n_active=2, generations=0,
                        battery=TINY)
    cal.history_match(targets, dims, base, tmp_path / "first", log=lambda line: None)
    lines: list[str] = []
    strict = replace(base, slack=-0.5, generations=1, min_acceptance=0.0, start_from=str(tmp_path / "first"))
    result = cal.history_match(targets, dims, strict, tmp_path / "second", log=lines.append)
    assert any("16 earlier sets" in line for line in lines)
    assert len(result["summary"]["generations"]) == 1
    other = replace(strict, battery=replace(TINY, seeds=TINY.seeds + 1))
    with pytest.raises(cal.CalibrationError, match="battery sizes"):
        cal.history_match(targets, dims, other, tmp_path / "third", log=lambda line: None)


def test_the_conflict_chain_names_a_target_that_no_set_meeting_the_others_meets(tmp_path: Path) -> None:
    """Three targets met in every pair but never all three: pairs look fine, the chain names the group conflict."""
    targets = tg.load_targets(_targets_file(
        tmp_path, _entry(name="A", quantity="effect", low=0.0, high=1.0),
        _entry(name="B", quantity="parity", low=0.0, high=1.0),
        _entry(name="C", quantity="timing", low=0.0, high=1.0)))
    inside, outside = 0.5, 2.0
    values = pd.DataFrame({"effect": [inside, inside, outside, inside],
                           "parity": [inside, outside, inside, inside],
                           "timing": [outside, inside, inside, outside]})
    pairs = cal.conflicts(values, targets, slack=0.0)
    assert (pairs["share_both"] > 0).all()
    chain = cal.conflict_chain(values, targets, slack=0.0)
    assert list(chain["sets_meeting_all_so_far"]) == [3, 2, 0]
    assert chain["target"].iloc[-1] == "C" and chain["least_before"].iloc[-1] == outside


def test_the_batterys_noise_is_measured_by_other_seeds() -> None:
    """Another seed offset is another draw of the battery's noise (other seeds, other uniform contexts): the
    quantities move, and battery_noise reports each target's spread in tolerances."""
    dims = [d for d in cal.prior() if d.name in ("own_priorities", "handoff_loss")]
    row = pd.DataFrame([{d.name: d.default for d in dims}])
    first = cal.battery(row, dims, TINY)
    other = cal.battery(row, dims, cal.BatterySizes(seeds=2, contexts=12, direction_seeds=1, long_seeds=2,
                                                    seed_offset=100_000))
    assert not np.allclose(first["effect"], other["effect"])
    targets = [t for t in tg.load_targets() if t.quantity in ("effect", "timing")]
    noise = cal.battery_noise(row, dims, targets, replicates=3, sizes=TINY)
    assert list(noise["target"]) == [t.name for t in targets] and (noise["sd"] >= 0).all()
    assert noise["sd_in_tolerances"].to_numpy() == pytest.approx((noise["sd"] / noise["tolerance"]).to_numpy())
    with pytest.raises(cal.CalibrationError, match="seed_offset=-1"):
        cal.BatterySizes(seed_offset=-1)


def test_an_ensemble_from_other_equations_is_refused_naming_both_versions(tmp_path: Path) -> None:
    pd.DataFrame({"gate_slope": [10.0], "own_priorities": [0.3]}).to_csv(tmp_path / "ensemble.csv", index=False)
    (tmp_path / "provenance.json").write_text(json.dumps({"model_version": "0123456789abcdef"}))
    with pytest.raises(cal.CalibrationError, match=f"'0123456789abcdef', but this is '{cal.model_version()}'"):
        cal.load_ensemble(tmp_path / "ensemble.csv")
    frame = cal.load_ensemble(tmp_path / "ensemble.csv", check_version=False)
    p = cal.member_params(frame.iloc[0])
    assert p.own_priorities == 0.3 and p.constant("gate_slope") == 10.0
    pd.DataFrame({"gate_slop": [10.0]}).to_csv(tmp_path / "ensemble.csv", index=False)
    with pytest.raises(cal.CalibrationError, match="unknown column 'gate_slop'"):
        cal.load_ensemble(tmp_path / "ensemble.csv", check_version=False)


def _restamp_script():
    """scripts/restamp_ensemble.py as a module."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import restamp_ensemble
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    return restamp_ensemble


def test_the_shipped_ensemble_gives_its_recorded_battery_under_this_code() -> None:
    """The ensemble's model version is honest: its members' calibration battery (``battery.parquet``, recorded by
    the code that made it; carried over only when identical, ``scripts/restamp_ensemble.py``) comes out again now.
    Three members here (the script checks all); within 1e-9, as another CPU's maths library may differ in ulps."""
    script = _restamp_script()
    BATTERY_FILE, member_battery = script.BATTERY_FILE, script.member_battery
    assert cal.load_ensemble() is not None  # the version check passes
    stored = pd.read_parquet(cal.ENSEMBLE.with_name(BATTERY_FILE))
    assert len(stored) == len(cal.load_ensemble())
    rows = [0, len(stored) // 2, len(stored) - 1]
    now = pd.concat([member_battery(cal.ENSEMBLE, slice(r, r + 1), workers=1) for r in rows], ignore_index=True)
    np.testing.assert_allclose(now.to_numpy(float), stored.iloc[rows].to_numpy(float), rtol=1e-9, atol=1e-12)


def test_a_restamp_moves_the_version_only_when_the_battery_is_identical(tmp_path: Path, capsys) -> None:
    restamp = _restamp_script().main
    ensemble = tmp_path / "ensemble.csv"
    pd.DataFrame({"gate_slope": [10.0, 16.0], "own_priorities": [0.2, 0.5]}).to_csv(ensemble, index=False)
    provenance = tmp_path / "provenance.json"
    tiny = {"seeds": 1, "contexts": 10, "direction_seeds": 1, "long_seeds": 1, "seed_offset": 0}
    provenance.write_text(json.dumps({"model_version": "0123456789abcdef", "settings": {"battery": tiny}}))
    args = ["--ensemble", str(ensemble), "--workers", "1"]
    assert restamp(["record", *args]) == 1  # only the code that made it may record
    provenance.write_text(json.dumps({"model_version": cal.model_version(), "settings": {"battery": tiny}}))
    assert restamp(["record", *args]) == 0
    recorded = pd.read_parquet(tmp_path / "battery.parquet")
    # another version, the same numbers: carried over, the step recorded
    provenance.write_text(json.dumps({"model_version": "0123456789abcdef", "settings": {"battery": tiny}}))
    assert restamp(["check", "--write", *args]) == 0
    record = json.loads(provenance.read_text())
    assert record["model_version"] == cal.model_version()
    assert record["restamped"][-1]["from"] == "0123456789abcdef"
    # one value moved in its last bit: refused, the provenance untouched
    provenance.write_text(json.dumps({"model_version": "0123456789abcdef", "settings": {"battery": tiny}}))
    moved = recorded.copy()
    moved.loc[1, "effect"] = np.nextafter(moved.loc[1, "effect"], np.inf)
    moved.to_parquet(tmp_path / "battery.parquet")
    assert restamp(["check", "--write", *args]) == 1
    assert "effect: moved" in capsys.readouterr().err
    assert json.loads(provenance.read_text())["model_version"] == "0123456789abcdef"
    recorded.iloc[:0].to_parquet(tmp_path / "battery.parquet")  # an empty record proves nothing
    assert restamp(["check", "--write", *args]) == 1
    assert json.loads(provenance.read_text())["model_version"] == "0123456789abcdef"


def test_shipping_saves_the_members_battery_beside_them(tmp_path: Path) -> None:
    from sim.analysis.targets import QUANTITIES

    dims = [d for d in cal.prior() if d.name in ("gate_slope", "own_priorities")]
    rng = np.random.default_rng(0)
    ensemble = pd.DataFrame({"gate_slope": [10.0, 12.0], "own_priorities": [0.2, 0.4],
                             **{q: rng.random(2) for q in QUANTITIES}})
    result = {"ensemble": ensemble, "summary": {"waves": []}}
    cal.ship(result, tg.TARGETS, tg.load_targets(), dims, cal.Settings(battery=TINY), destination=tmp_path)
    assert list(pd.read_csv(tmp_path / "ensemble.csv").columns) == ["gate_slope", "own_priorities"]
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "battery.parquet"), ensemble[list(QUANTITIES)])
    assert json.loads((tmp_path / "provenance.json").read_text())["model_version"] == cal.model_version()


def test_the_command_names_conflicting_targets_and_exits_2(tmp_path: Path) -> None:
    targets = _targets_file(tmp_path, _entry(low=0.99, high=1.0, tolerance=0.001))
    small = ["calibration.waves=1", "calibration.runs_per_wave=8", "calibration.candidates=500",
             "calibration.ensemble_size=2", "battery.seeds=1", "battery.contexts=10", "battery.direction_seeds=1",
             "battery.long_seeds=1", "+prior.bounds.gate_slope=[10,14]", "workers=1", "calibration.generations=1",
             "calibration.chains=2", "calibration.chain_steps=2"]
    run = subprocess.run([sys.executable, "experiments/calibrate.py", f"targets={targets}", f"results_root={tmp_path}",
                          "name=c", *small], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 2, run.stderr[-2000:]
    assert "targets no set meets at all: T" in run.stderr and "Traceback" not in run.stderr
    assert (tmp_path / "calibration" / "c" / "conflicts.csv").exists()
    bad = subprocess.run([sys.executable, "experiments/calibrate.py", "exclude=[P99]", f"results_root={tmp_path}"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert bad.returncode != 0 and "exclude: 'P99' is not a target" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_patterns_over_an_ensemble_report_each_targets_share_of_members(tmp_path: Path) -> None:
    members = pd.DataFrame({"own_priorities": [0.2, 0.6], "gate_slope": [10.0, 16.0]})
    members.to_csv(tmp_path / "ensemble.csv", index=False)
    (tmp_path / "provenance.json").write_text(json.dumps({"model_version": cal.model_version()}))
    run = subprocess.run([sys.executable, "experiments/patterns.py", "--ensemble", str(tmp_path / "ensemble.csv"),
                          "--fast", "--workers", "1", "--out", str(tmp_path / "out")], cwd=ROOT, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "over the 2 members" in run.stdout and "seeds shifted by 100000, not the calibration's" in run.stdout
    frame = pd.read_csv(tmp_path / "out" / "ensemble_patterns.csv").set_index("target")
    assert {"P2", "P14late", "P15"} <= set(frame.index)
    assert frame["share_in_range"].between(0, 1).all()
    (tmp_path / "provenance.json").write_text(json.dumps({"model_version": "feedfacefeedface"}))
    old = subprocess.run([sys.executable, "experiments/patterns.py", "--ensemble", str(tmp_path / "ensemble.csv")],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert old.returncode == 2 and "'feedfacefeedface'" in old.stderr and "Traceback" not in old.stderr
    (tmp_path / "provenance.json").write_text(json.dumps({"model_version": cal.model_version()}))
    negative = subprocess.run([sys.executable, "experiments/patterns.py", "--ensemble", str(tmp_path / "ensemble.csv"),
                               "--seed-offset", "-1"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert negative.returncode == 2 and "--seed-offset=-1" in negative.stderr


def test_the_batterys_quantities_are_the_patterns_own_at_the_same_seeds() -> None:
    """P2, P6 and P7 from the battery equal the pattern functions' measurements on the same seeds (P6: trust that
    never rebuilds does not meet it, as in the pattern)."""
    from sim.analysis import patterns
    from sim.analysis.patterns import Sizes
    from sim.params.constants import constant

    dims = [d for d in cal.prior() if d.name == "gate_slope"]
    sizes = cal.BatterySizes(seeds=2, contexts=10, direction_seeds=1, long_seeds=3)
    values = cal.battery(pd.DataFrame({"gate_slope": [constant("gate_slope").value]}), dims, sizes).iloc[0]
    measured = {"P6": patterns.p6_trust_asymmetry(Sizes(trust_seeds=3)).measured,
                "P7": patterns.p7_stationary(Sizes(stationary_seeds=3)).measured}
    assert values["trust_asymmetry"] == pytest.approx(measured["P6"], rel=1e-9)
    assert values["stationary_drift"] == pytest.approx(measured["P7"], abs=1e-12)
    assert cal.Target("x", "trust_asymmetry", "", 2.0, np.inf, 0.3, "calibrate", "").met(0.0) == np.False_
