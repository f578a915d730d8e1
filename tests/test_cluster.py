"""The cluster path: requests checked against what SLURM offers, the study's launcher settings and working
folders, and (marked ``slurm``) sweeps and a study on a real single-node SLURM compared with local runs.

The ``slurm`` tests start SLURM with ``scripts/slurm_single_node.sh`` (root, slurm-wlm and munge installed:
``.ci/run`` installs them) and stop it at the end of the session. They skip when SLURM cannot be started,
except in CI (``CI=true``), where they fail. Tables are compared between launchers, never with fixed values:
the model's numbers may change, the cluster path must not change them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from conftest import run_entry, start_entry

from sim.analysis.sensitivity import PairedEffects, SweepError
from sim.sweeps.cluster import (
    ClusterError,
    NodeOffer,
    SlurmRequest,
    check_request,
    parse_minutes,
    parse_sinfo,
    study_work_dir,
    sweep_options,
)
from sim.sweeps.results import is_complete

ROOT = Path(__file__).resolve().parents[1]
RUN = [sys.executable, str(ROOT / "experiments" / "run.py")]
SCRIPT = ROOT / "scripts" / "slurm_single_node.sh"
SMALL = ["hydra.launcher.partition=debug", "hydra.launcher.cpus_per_task=1", "hydra.launcher.mem_gb=1",
         "hydra.launcher.timeout_min=5"]

OFFERS = [NodeOffer("debug", "a", 2, 4000, 30.0, True), NodeOffer("big", "b", 16, 64000, float("inf"), False),
          NodeOffer("big", "c", 8, 128000, float("inf"), False)]


# ------------------------------------------------------------------------------------------------
# Without SLURM: the checks and the study's settings
# ------------------------------------------------------------------------------------------------
def test_slurm_time_limits_and_sinfo_rows_are_read():
    assert [parse_minutes(t) for t in ("30", "30:00", "1:00:00", "2-00:00:00", "1-12", "infinite")] == [
        30, 30, 60, 2880, 2160, float("inf")]
    offers = parse_sinfo("debug*|vm|2|21694|30:00\nbig|n1|64|256000|infinite\n")
    assert offers[0] == NodeOffer("debug", "vm", 2, 21694, 30.0, True) and not offers[1].default


@pytest.mark.parametrize(
    ("request_", "fragments"),
    [
        (SlurmRequest(cpus_per_task=4, mem_gb=8), ["hydra.launcher.cpus_per_task=4", "'debug'", "largest has 2",
                                                   "slurm_small"]),
        (SlurmRequest(partition="big", cpus_per_task=12, mem_gb=100), ["hydra.launcher.mem_gb=100", "'big'",
                                                                       "12 CPU(s)", "62.5 GB"]),
        (SlurmRequest(partition="gpu"), ["hydra.launcher.partition='gpu'", "no such partition",
                                         "debug (default), big"]),
        (SlurmRequest(timeout_min=60), ["hydra.launcher.timeout_min=60", "'debug'", "at most 30 minutes"]),
        (SlurmRequest(partition="big", nodes=3), ["hydra.launcher.nodes=3", "'big'", "2 node(s)"]),
        (SlurmRequest(cpus_per_task=2, tasks_per_node=2), ["cpus_per_task=2 x tasks_per_node=2", "4 CPUs"]),
    ],
)
def test_a_request_no_node_can_run_is_refused_in_one_line_naming_the_setting(request_, fragments):
    with pytest.raises(ClusterError) as info:
        check_request(request_, OFFERS)
    message = str(info.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def test_a_request_that_fits_gets_the_nodes_that_could_run_it():
    assert [o.node for o in check_request(SlurmRequest(cpus_per_task=1, mem_gb=1, timeout_min=10), OFFERS)] == ["a"]
    assert [o.node for o in check_request(SlurmRequest(partition="big", cpus_per_task=8, mem_gb=100,
                                                       timeout_min=600), OFFERS)] == ["c"]
    no_default = [NodeOffer("x", "n", 4, 1000, 60.0, False)]
    with pytest.raises(ClusterError, match="partition=null: the cluster has no default partition; choose one of: x"):
        check_request(SlurmRequest(), no_default)


def test_the_study_takes_a_sweeps_launcher_settings_and_sizes_workers_from_cpus_per_task(tmp_path):
    study = SimpleNamespace(launcher="slurm", chunks=3, launcher_overrides=["hydra.launcher.partition=short",
                                                                           "hydra.launcher.cpus_per_task=6"])
    options = sweep_options(study, workers=2, work_dir=tmp_path)
    assert options == {"launcher": "slurm", "launcher_overrides": study.launcher_overrides, "chunks": 3,
                       "workers": 6, "work_dir": str(tmp_path)}
    assert sweep_options(SimpleNamespace(launcher="slurm_small", chunks=2), workers=2)["workers"] == 1
    assert sweep_options(SimpleNamespace(launcher="local", chunks=2), workers=2)["workers"] == 2
    assert sweep_options(SimpleNamespace(launcher=None), workers=2) == {"workers": 2}


@pytest.mark.parametrize(
    ("launcher", "overrides", "fragments"),
    [
        ("slurm", ["workers=4"], ["study.launcher_overrides", "'workers=4'", "hydra.launcher.<key>=<value>"]),
        ("slurm", ["hydra.launcher.cpu=2"], ["hydra.launcher.cpu", "Key 'cpu' not in"]),
        ("slurm", ["hydra.launcher.cpus_per_task=abc"], ["cpus_per_task=abc", "Integer"]),
        ("nope", [], ["study.launcher='nope'", "no such launcher", "slurm_small"]),
    ],
)
def test_bad_study_launcher_settings_are_refused_in_one_line(launcher, overrides, fragments):
    with pytest.raises(ClusterError) as info:
        sweep_options(SimpleNamespace(launcher=launcher, chunks=2, launcher_overrides=overrides), workers=1)
    assert "\n" not in str(info.value)
    for fragment in fragments:
        assert fragment in str(info.value), (fragment, str(info.value))


@pytest.mark.slow
def test_sweep_evaluations_remove_their_files_on_success_and_keep_them_named_on_failure(tmp_path):
    X = np.random.default_rng(5).uniform(size=(4, 1))
    names, outcomes = ["initial_trust"], ["fragmentation_reduction"]
    local = PairedEffects(names, outcomes, steps=6).run(X, 1)
    # the basic launcher (jobs one after another in the sweep's process): the files are the same for every
    # launcher, and it starts no worker processes (sweeps through joblib: tests/test_sensitivity.py)
    swept = PairedEffects(names, outcomes, steps=6, launcher="basic", chunks=2, work_dir=str(tmp_path)).run(X, 1)
    np.testing.assert_array_equal(local["fragmentation_reduction"], swept["fragmentation_reduction"])
    assert list(tmp_path.iterdir()) == []  # rows, chunks and Hydra's job records all gone

    broken = PairedEffects(names, outcomes, steps=6, launcher="basic", chunks=2, work_dir=str(tmp_path),
                           launcher_overrides=["hydra.launcher.no_such_setting=abc"])
    with pytest.raises(SweepError) as info:
        broken.run(X, 1)
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("eval-")]
    assert len(kept) == 1 and str(kept[0]) in str(info.value) and (kept[0] / "rows.parquet").is_file()


def test_the_studys_working_folder_is_under_results_root_removed_on_success_and_kept_on_failure(tmp_path, caplog):
    study = SimpleNamespace(launcher="slurm")
    caplog.set_level("INFO", logger="sim")
    with study_work_dir(study, tmp_path, "s1") as work:
        assert work.parent == tmp_path.resolve() / ".study-work" and work.name.startswith("s1-")
        (work / "eval-1").mkdir()
    assert not (tmp_path / ".study-work").exists() and caplog.messages == []
    with pytest.raises(RuntimeError), study_work_dir(study, tmp_path, "s2") as work:
        raise RuntimeError("a job failed")
    assert work.is_dir() and caplog.messages == [f"working folder kept for inspection: {work}"]
    # an interruption removes its own; a success also those of this study's earlier runs, not another study's
    with pytest.raises(KeyboardInterrupt), study_work_dir(study, tmp_path, "s2") as interrupted:
        raise KeyboardInterrupt
    assert not interrupted.exists() and work.is_dir()
    other = tmp_path / ".study-work" / "s2-b-abcdefgh"
    other.mkdir()
    with study_work_dir(study, tmp_path, "s2"):
        pass
    assert not work.exists() and other.is_dir()
    with study_work_dir(SimpleNamespace(launcher=None), tmp_path, "s3") as work:
        assert work is None  # in-process: no working folder


# ------------------------------------------------------------------------------------------------
# On a real single-node SLURM
# ------------------------------------------------------------------------------------------------
def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"SLURM is required in CI but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def slurm() -> Iterator[Path]:
    """This machine's single-node SLURM: started (and stopped at the end) unless the script's cluster is up."""
    state = Path(os.environ.get("ALLIANCE_SLURM_DIR", "/tmp/alliance-sim-slurm"))
    env = {**os.environ, "ALLIANCE_SLURM_DIR": str(state)}
    script = ["bash", str(SCRIPT)]
    started = False
    if subprocess.run([*script, "status"], env=env, capture_output=True, timeout=60).returncode != 0:
        if shutil.which("slurmctld") is None or shutil.which("munged") is None:
            _unavailable("SLURM is not installed (bash scripts/slurm_single_node.sh install)")
        if os.geteuid() != 0:
            _unavailable("starting SLURM needs root")
        begun = time.perf_counter()
        proc = subprocess.run([*script, "start"], env=env, capture_output=True, text=True, timeout=180)
        if proc.returncode != 0:
            _unavailable(f"it did not start: {proc.stderr.strip()[-800:]}")
        print(f"\nSLURM started in {time.perf_counter() - begun:.1f} s", file=sys.stderr)
        started = True
    patch = pytest.MonkeyPatch()
    patch.setenv("SLURM_CONF", str(state / "slurm.conf"))  # for sbatch/sinfo/squeue in every subprocess
    yield state / "slurm.conf"
    patch.undo()
    if started:
        subprocess.run([*script, "stop"], env=env, capture_output=True, timeout=120)


def _jobs() -> dict[str, str]:
    """Every job SLURM still lists (finished ones stay for an hour): id -> state."""
    out = subprocess.run(["squeue", "-h", "-r", "-t", "all", "-o", "%i|%T"], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    return dict(line.split("|") for line in out.split())


FINAL = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL", "PREEMPTED", "DEADLINE"}


def _new_jobs(before: set[str], timeout: float = 60) -> dict[str, str]:
    """Jobs submitted since ``before`` once SLURM has finished them: a job writes its result, which the
    submitter reads, a moment before SLURM marks it COMPLETED."""
    deadline = time.monotonic() + timeout
    while True:
        jobs = {job: state for job, state in _jobs().items() if job not in before}
        if all(state in FINAL for state in jobs.values()) or time.monotonic() > deadline:
            return jobs
        time.sleep(0.2)


def _call(cmd: list[str], cwd: Path, timeout: float = 600) -> tuple[subprocess.CompletedProcess, float]:
    """``cmd`` in a new interpreter: SLURM sweeps need one (submitit pickles the job for the node)."""
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    return proc, time.perf_counter() - started


def _entry(name: str, argv: list[str], cwd: Path, timeout: float = 600) -> tuple[subprocess.CompletedProcess, float]:
    """``experiments/<name>.py *argv`` in a forked child of the test process (conftest.run_entry): no Python
    start-up. For commands that submit nothing themselves: a refused request, the basic launcher, a study
    (whose evaluations start their own sweep processes)."""
    started = time.perf_counter()
    proc = run_entry(name, argv, cwd, timeout=timeout)
    return proc, time.perf_counter() - started


def _completed_runs(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "runs").iterdir() if is_complete(p))


@pytest.mark.slurm
@pytest.mark.timeout(300)
def test_a_sweep_on_slurm_gives_the_local_launchers_tables_and_a_rerun_skips(slurm, tmp_path):
    sweep = ["-m", "scenario=default,austerity", "seeds=3", "params.horizon=12", "figure=false"]
    local, cluster = tmp_path / "local", tmp_path / "cluster"
    proc, _ = _entry("run", [*sweep, "hydra/launcher=basic", f"results_root={local}"], tmp_path)  # no SLURM
    assert proc.returncode == 0, proc.stderr[-3000:]
    before = set(_jobs())
    on_slurm = [*RUN, *sweep, "hydra/launcher=slurm", *SMALL, f"results_root={cluster}"]
    proc, _ = _call(on_slurm, tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Bypassing sacct" not in proc.stdout + proc.stderr  # states come from squeue without accounting
    jobs = _new_jobs(before)
    assert len(jobs) == 2 and set(jobs.values()) == {"COMPLETED"}, jobs  # one array job of two tasks

    runs = _completed_runs(local)
    assert runs == _completed_runs(cluster) and len(runs) == 2
    for run in runs:
        here, there = local / "runs" / run, cluster / "runs" / run
        pd.testing.assert_frame_equal(pd.read_parquet(here / "outcomes.parquet"),
                                      pd.read_parquet(there / "outcomes.parquet"), check_exact=True)
        assert (here / "summary.csv").read_bytes() == (there / "summary.csv").read_bytes()

    manifests = {run: (cluster / "runs" / run / "manifest.json").read_bytes() for run in runs}
    logs_before = set((cluster / ".submitit").rglob("*_log.out"))
    proc, _ = _call(on_slurm, tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rerun_logs = set((cluster / ".submitit").rglob("*_log.out")) - logs_before
    assert len(rerun_logs) == 2  # the rerun's two jobs ran on SLURM ...
    assert all("already complete: skipped" in log.read_text() for log in rerun_logs)  # ... and skipped the work
    assert {run: (cluster / "runs" / run / "manifest.json").read_bytes() for run in runs} == manifests


@pytest.mark.slurm
@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("command", "fragments"),
    [
        (["hydra/launcher=slurm"], ["hydra.launcher.cpus_per_task=4", "largest has", "slurm_small"]),  # shipped
        (["hydra/launcher=slurm_small", "hydra.launcher.mem_gb=100000"], ["hydra.launcher.mem_gb=100000",
                                                                           "the largest has"]),
        (["hydra/launcher=slurm_small", "hydra.launcher.partition=gpu"], ["hydra.launcher.partition='gpu'",
                                                                          "debug (default)"]),
        (["hydra/launcher=slurm_small", "hydra.launcher.timeout_min=600"], ["hydra.launcher.timeout_min=600",
                                                                            "at most 30 minutes"]),
        (["study"], ["study.launcher=slurm", "hydra.launcher.cpus_per_task=4", "largest has",
                     "study.launcher=slurm_small"]),  # the study's cluster path, with the preset's sizes
    ],
)
def test_a_job_that_can_never_run_fails_fast_in_one_line_and_submits_nothing(slurm, tmp_path, command, fragments):
    before = set(_jobs())
    if command == ["study"]:
        proc, seconds = _entry("sensitivity", ["study=smoke", "report=false", "name=s", "study.launcher=slurm",
                                               f"results_root={tmp_path}"], tmp_path, timeout=60)
    else:
        proc, seconds = _entry("run", ["-m", *command, "scenario=default,austerity", "seeds=2",
                                       f"results_root={tmp_path}"], tmp_path, timeout=60)
    assert proc.returncode != 0
    lines = [ln for ln in (proc.stderr + proc.stdout).splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in lines[0], lines
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert seconds < 30, seconds
    assert set(_jobs()) == before  # nothing was submitted
    assert not any(is_complete(p) for p in tmp_path.rglob("*") if p.is_dir())
    assert not (tmp_path / ".study-work").exists()


@pytest.mark.slurm
@pytest.mark.timeout(600)
def test_a_smoke_study_through_slurm_gives_the_in_process_studys_tables(slurm, tmp_path):
    # sim/conf/study/tiny.yaml: every kind of evaluation a study makes, at the smoke study's sizes, on six
    # parameters: one sweep per stage (Sobol at N/2 and N; scenario discovery; the ablation's reference and
    # every rule and theory switched off; the heatmap), each one SLURM job (chunks=1; a sweep split into an
    # array of jobs is tested above) paying a Python start-up of a few seconds.
    common = ["study=tiny", "report=false", "workers=1", f"results_root={tmp_path}"]
    before = set(_jobs())
    # the study in process runs meanwhile (the other mostly waits for its jobs)
    local_run = start_entry("sensitivity", [*common, "name=local"], tmp_path, timeout=540)
    proc, cluster_s = _entry("sensitivity", [*common, "name=cluster", "study.launcher=slurm_small", "study.chunks=1"],
                             tmp_path, timeout=540)
    local_proc = local_run.wait()
    assert local_proc.returncode == 0, local_proc.stderr[-3000:]
    assert proc.returncode == 0, proc.stderr[-3000:]
    print(f"\ntiny study through SLURM {cluster_s:.0f} s", file=sys.stderr)
    jobs = _new_jobs(before)
    assert len(jobs) == 4 and set(jobs.values()) == {"COMPLETED"}, jobs  # every stage went out as a job

    local, cluster = tmp_path / "sensitivity" / "local", tmp_path / "sensitivity" / "cluster"
    tables = sorted(p.name for p in local.iterdir() if p.suffix in (".csv", ".parquet", ".txt"))
    assert {"sobol.csv", "ablation.csv", "heatmap.csv", "prim_boxes.csv", "cart.txt", "timeseries.parquet"} <= set(
        tables)  # no Morris screening in study=tiny
    assert tables == sorted(p.name for p in cluster.iterdir() if p.suffix in (".csv", ".parquet", ".txt"))
    for name in tables:
        if name.endswith(".parquet"):
            pd.testing.assert_frame_equal(pd.read_parquet(local / name), pd.read_parquet(cluster / name),
                                          check_exact=True)
        else:
            assert (local / name).read_bytes() == (cluster / name).read_bytes(), name
    # the working folder under results_root is gone, and nothing was left in the temp folder either
    assert not (tmp_path / ".study-work").exists()
    assert not list(tmp_path.rglob("eval-*"))


@pytest.mark.slurm
@pytest.mark.timeout(400)
def test_a_calibration_wave_through_slurm_gives_the_in_process_runs(slurm, tmp_path):
    """experiments/calibrate.py with calibration.launcher=slurm_small: each battery call goes out as SLURM jobs
    (two a call here), and the wave's runs equal the calibration run in this process, bit for bit."""
    small = ["calibration.waves=1", "calibration.runs_per_wave=4", "calibration.candidates=200",
             "calibration.generations=0", "calibration.chains=0", "calibration.replication_offset=0",
             "calibration.ensemble_size=2", "battery.seeds=1", "battery.contexts=10", "battery.direction_seeds=1",
             "battery.long_seeds=1", "+prior.bounds.gate_slope=[10,14]", "workers=1", f"results_root={tmp_path}"]
    before = set(_jobs())
    local, _ = _call([sys.executable, "experiments/calibrate.py", "name=here", *small], ROOT)
    cluster, cluster_s = _call([sys.executable, "experiments/calibrate.py", "name=there", *small,
                                "calibration.launcher=slurm_small", "calibration.chunks=2",
                                f"calibration.work_dir={tmp_path / 'work'}"], ROOT)
    for proc in (local, cluster):
        assert proc.returncode in (0, 2), proc.stderr[-3000:]  # 2: no member, which this test does not ask for
        assert "Traceback" not in proc.stderr
    print(f"\ncalibration wave through SLURM {cluster_s:.0f} s", file=sys.stderr)
    jobs = _new_jobs(before)
    assert len(jobs) >= 2 and set(jobs.values()) == {"COMPLETED"}, jobs
    here, there = (tmp_path / "calibration" / n / "wave_1.parquet" for n in ("here", "there"))
    pd.testing.assert_frame_equal(pd.read_parquet(here), pd.read_parquet(there), check_exact=True)
    assert not list((tmp_path / "work").glob("battery-*"))
