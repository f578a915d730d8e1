"""Hydra scenario sweeps: presets, overrides, parallel and SLURM-path launchers, chunked row sweeps,
kill-and-resume, and clear errors for bad input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import run_entry, start_entry
from hydra import compose, initialize_config_dir

from sim import OUTCOMES, Params, simulate, tidy
from sim.sweeps.config import params_from_config, register
from sim.sweeps.results import is_complete

ROOT = Path(__file__).resolve().parents[1]
RUN = [sys.executable, str(ROOT / "experiments" / "run.py")]
COLLECT = [sys.executable, str(ROOT / "experiments" / "collect.py")]
PRESETS = sorted(p.stem for p in (ROOT / "sim" / "conf" / "scenario").glob("*.yaml"))


def run(args: list[str], cwd: Path, check: bool = True, fresh: bool = False) -> subprocess.CompletedProcess:
    """``experiments/run.py *args`` in a forked child of the test process (conftest.run_entry), or with
    ``fresh`` in a new interpreter: needed where the launcher pickles the job for other processes (joblib's
    ``local``, ``submitit_local``)."""
    if fresh:
        proc = subprocess.run([*RUN, *args], cwd=cwd, capture_output=True, text=True, timeout=300)
    else:
        proc = run_entry("run", args, cwd, timeout=300)
    if check:
        assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def collect(folder: Path, cwd: Path) -> subprocess.CompletedProcess:
    proc = run_entry("collect", [str(folder)], cwd)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def compose_config(overrides: list[str]):
    register()
    with initialize_config_dir(config_dir=str(ROOT / "sim" / "conf"), version_base="1.3"):
        return compose(config_name="config", overrides=overrides)


def test_every_required_preset_exists_composes_and_has_a_description():
    required = {"default", "traditional", "austerity", "low_trust_start", "no_senior_buy_in", "place_based",
                "culture_ready", "simple_needs", "leadership_turnover", "budget_shock", "pandemic_surge"}
    assert required <= set(PRESETS)
    for name in PRESETS:
        cfg = compose_config([f"scenario={name}"])
        assert cfg.description and "\n" not in cfg.description, name
        params = params_from_config(cfg.params)
        preset = __import__("yaml").safe_load((ROOT / "sim" / "conf" / "scenario" / f"{name}.yaml").read_text())
        for key, value in (preset.get("params") or {}).items():
            assert getattr(params, key) == (tuple(value) if isinstance(value, list) else value), (name, key)


def test_overrides_reach_the_params_and_defaults_come_from_the_schema():
    cfg = compose_config(["scenario=austerity", "params.initial_trust=0.2", "seeds=50"])
    params = params_from_config(cfg.params)
    assert params.initial_trust == 0.2 and params.austerity == 0.8 and cfg.seeds == 50
    assert params_from_config(compose_config([]).params) == Params()


def test_t_quantile_is_scipy_stats_t_ppf():
    from scipy import stats

    from sim.sweeps.paired import interval, t_quantile

    for df in (1, 2, 3, 7, 19, 49, 999, 10**6):
        for p in (0.5, 0.9, 0.975, 0.995):
            assert t_quantile(p, df) == stats.t.ppf(p, df), (p, df)
    values = np.random.default_rng(1).normal(size=12)
    half = stats.t.ppf(0.975, 11) * values.std(ddof=1) / np.sqrt(12)
    assert interval(values) == (values.mean(), values.mean() - half, values.mean() + half)


def test_single_run_writes_a_complete_tidy_results_folder(tmp_path):
    proc = run(["scenario=austerity", "params.initial_trust=0.2", "seeds=4", f"results_root={tmp_path}"], tmp_path)
    folder = tmp_path / "runs" / "params.initial_trust=0.2,scenario=austerity,seeds=4"
    assert str(folder) in proc.stdout and "fragmentation" in proc.stdout
    assert {p.name for p in folder.iterdir()} == {"outcomes.parquet", "summary.csv", "figure.png", "config.yaml",
                                                  "manifest.json"}
    outcomes = pd.read_parquet(folder / "outcomes.parquet")
    assert {"scenario", "seed", "commissioning", "step", *Params.names(), *OUTCOMES} <= set(outcomes.columns)
    assert len(outcomes) == 4 * 2 * 61
    assert set(outcomes["commissioning"]) == {"alliance", "traditional"}
    summary = pd.read_csv(folder / "summary.csv").set_index("outcome")
    end = outcomes[outcomes["step"] == 60]
    diff = (end[end.commissioning == "alliance"].set_index("seed")["fragmentation"]
            - end[end.commissioning == "traditional"].set_index("seed")["fragmentation"])
    assert summary.loc["fragmentation", "difference_mean"] == pytest.approx(diff.mean(), abs=1e-12)
    row = summary.loc["fragmentation"]
    assert row["difference_low"] < diff.mean() < row["difference_high"]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["seeds"] == [0, 1, 2, 3] and manifest["version"] and "git_commit" in manifest
    assert "initial_trust: 0.2" in (folder / "config.yaml").read_text()
    # the same command again finds the complete folder and skips the work
    assert "skipped" in run(["scenario=austerity", "params.initial_trust=0.2", "seeds=4",
                             f"results_root={tmp_path}"], tmp_path).stdout


def test_figure_false_leaves_out_the_figure_only(tmp_path):
    args = ["seeds=2", "params.horizon=6", f"results_root={tmp_path}"]
    run([*args, "figure=false", "name=without"], tmp_path)
    run([*args, "name=with"], tmp_path)
    without, with_ = (tmp_path / name / "params.horizon=6,seeds=2" for name in ("without", "with"))  # same folder name
    assert {p.name for p in with_.iterdir()} - {p.name for p in without.iterdir()} == {"figure.png"}
    for name in ("outcomes.parquet", "summary.csv"):
        assert (without / name).read_bytes() == (with_ / name).read_bytes(), name
    identity = [json.loads((f / "manifest.json").read_text())["identity"] for f in (without, with_)]
    assert identity[0] == identity[1]  # a neutral key: a rerun with the figure reuses the folder
    assert "skipped" in run([*args, "name=without"], tmp_path).stdout


def test_help_lists_groups_and_presets(tmp_path):
    out = run(["--help"], tmp_path).stdout
    assert "scenario:" in out and all(p in out for p in PRESETS) and "experiment:" in out


@pytest.mark.slow
@pytest.mark.parametrize("launcher", ["local", "submitit_local"])
def test_parallel_sweep_and_collect(tmp_path, launcher):
    run(["-m", f"hydra/launcher={launcher}", "scenario=default,austerity", "params.n_providers=5,10", "seeds=3",
         "params.horizon=12", "figure=false", f"results_root={tmp_path}"], tmp_path, fresh=True)
    runs = sorted(p.name for p in (tmp_path / "runs").iterdir() if is_complete(p))
    assert runs == sorted(f"params.horizon=12,params.n_providers={n},scenario={s},seeds=3"
                          for n in (5, 10) for s in ("austerity", "default"))
    proc = collect(tmp_path / "runs", tmp_path)
    assert "merged" in proc.stdout
    merged = pd.read_parquet(tmp_path / "runs" / "merged.parquet")
    assert merged["run"].nunique() == 4 and len(merged) == 4 * 3 * 2 * 13
    # a sweep job equals the same scenario run directly through the core
    one = merged[merged["run"] == "params.horizon=12,params.n_providers=5,scenario=austerity,seeds=3"]
    direct = tidy(simulate([Params(horizon=12, n_providers=5, austerity=0.8, capacity_ratio=0.85,
                                   commissioning=m) for m in ("alliance", "traditional") for _ in range(3)],
                           [0, 1, 2] * 2))
    np.testing.assert_array_equal(one["fragmentation"].to_numpy(), direct["fragmentation"].to_numpy())


@pytest.mark.slow
def test_row_sweep_merges_to_the_same_table_whatever_the_split(tmp_path):
    rng = np.random.default_rng(3)
    rows = pd.DataFrame({"initial_trust": rng.uniform(0, 1, 23), "austerity": rng.uniform(0, 1, 23),
                         "n_providers": rng.integers(3, 12, 23), "commissioning": ["alliance", "traditional"] * 11
                         + ["alliance"], "horizon": 12})
    rows_file = tmp_path / "rows.csv"
    rows.to_csv(rows_file, index=False)
    common = ["experiment=rows", f"experiment.rows_file={rows_file}", f"results_root={tmp_path}"]
    run([*common, "name=whole"], tmp_path)
    # chunks one after another (basic launcher; row chunks through joblib: tests/test_sensitivity.py)
    run(["-m", "hydra/launcher=basic", *common, "name=split", "experiment.n_chunks=3", "experiment.chunk=0,1,2"],
        tmp_path)
    for name in ("whole", "split"):
        collect(tmp_path / name, tmp_path)
    whole = pd.read_parquet(tmp_path / "whole" / "merged.parquet")
    split = pd.read_parquet(tmp_path / "split" / "merged.parquet")
    assert len(list((tmp_path / "split").glob("chunk-*.parquet"))) == 3
    pd.testing.assert_frame_equal(whole, split, check_exact=True)
    assert list(whole["row"]) == list(range(23)) and set(whole["step"]) == {12}


@pytest.mark.slow
def test_killed_sweep_resumes_and_matches_an_uninterrupted_run(tmp_path):
    sweep = ["-m", "hydra/launcher=basic", "scenario=default,austerity,low_trust_start",
             "params.n_providers=8,12", "seeds=30", "figure=false"]  # ~1.3 s a job: killed after 2 of 6
    clean, killed = tmp_path / "clean", tmp_path / "killed"
    clean_run = start_entry("run", [*sweep, f"results_root={clean}"], tmp_path)  # meanwhile, uninterrupted

    proc = subprocess.Popen([*RUN, *sweep, f"results_root={killed}"], cwd=tmp_path, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline:
        done = [p for p in (killed / "runs").glob("*") if is_complete(p)] if (killed / "runs").is_dir() else []
        if len(done) >= 2:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished_before = {p.name for p in (killed / "runs").iterdir() if is_complete(p)}
    assert 2 <= len(finished_before) < 6, finished_before

    clean_proc = clean_run.wait()
    assert clean_proc.returncode == 0, clean_proc.stderr[-3000:]
    rerun = run([*sweep, f"results_root={killed}"], tmp_path)
    assert rerun.stdout.count("skipped") >= len(finished_before)
    assert not list((killed / "runs").glob(".*.tmp-*")), "temporary folders left behind"
    for root in (clean, killed):
        collect(root / "runs", tmp_path)
    pd.testing.assert_frame_equal(pd.read_parquet(clean / "runs" / "merged.parquet"),
                                  pd.read_parquet(killed / "runs" / "merged.parquet"), check_exact=True)


@pytest.mark.parametrize(
    ("override", "fragments"),
    [
        ("params.trust=0.3", ["params.trust", "no such setting"]),
        ("params.n_providers=abc", ["params.n_providers", "abc"]),
        ("params.initial_trust=1.5", ["params.initial_trust=1.5", "[0, 1]"]),
        ("scenario=nope", ["scenario/nope", "austerity"]),
        ("seeds=0", ["seeds=0", "[1, "]),
        ("results_root=/proc/forbidden", ["results_root", "/proc/forbidden", "cannot write"]),
        ("+params.new_key=5", ["params.new_key=5", "allowed names"]),
    ],
)
def test_bad_input_fails_with_one_readable_message_and_no_results(tmp_path, override, fragments):
    args = [f"results_root={tmp_path / 'out'}", override] if "results_root" not in override else [override]
    proc = run(args, tmp_path, check=False)
    assert proc.returncode != 0
    message = proc.stderr + proc.stdout
    assert "Traceback" not in message
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    runs = tmp_path / "out" / "runs"
    assert not runs.exists() or not any(is_complete(p) for p in runs.iterdir())


def test_slurm_launcher_config_composes_for_a_cluster():
    register()
    with initialize_config_dir(config_dir=str(ROOT / "sim" / "conf"), version_base="1.3"):
        cfg = compose(config_name="config", overrides=["hydra/launcher=slurm", "hydra.launcher.partition=short"],
                      return_hydra_config=True)
    launcher = cfg.hydra.launcher
    assert launcher._target_.endswith("SlurmLauncher")
    assert launcher.partition == "short" and launcher.cpus_per_task >= 1
    assert launcher.submitit_folder == "results/.submitit/%j"  # on the shared results file system
