"""Fault drills: nothing lost, nothing wrong with exit code 0.

Stale reuse of finished results, row sweeps and the config, NaN outputs, twin runs, ``kill -9`` of sweeps
and studies (no process left after 5 s, a killed study resumes), and full disks (a real file-size limit on
a real process, or a writer that fails with ENOSPC).
"""

from __future__ import annotations

import errno
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import run_entry

from sim import OUTCOMES, Params, simulate, simulate_to_parquet, tidy
from sim.analysis.sensitivity import PairedEffects
from sim.analysis.study_run import _claim_new_name
from sim.runtime.processes import start_time
from sim.sweeps.results import is_complete, remove_stale_temporaries, temporary_name

ROOT = Path(__file__).resolve().parents[1]
RUN = [sys.executable, str(ROOT / "experiments" / "run.py")]
STUDY = [sys.executable, str(ROOT / "experiments" / "sensitivity.py")]


def _leftovers(folder: Path) -> list[Path]:
    """Temporaries, work folders and locks: none may remain after a command has ended."""
    return [p for p in folder.rglob(".*") if any(t in p.name for t in (".tmp-", ".old-", ".partial", ".lock"))]


def _processes_of(token: str) -> list[int]:
    """Live processes started by the command whose owner token is ``token`` (sim.runtime.processes)."""
    found = []
    for env in Path("/proc").glob("[0-9]*/environ"):
        try:
            if f"ALLIANCE_SIM_OWNER={token}".encode() in env.read_bytes().split(b"\0"):
                state = (env.parent / "stat").read_text().rsplit(")", 1)[1].split()[0]
                if state not in ("Z", "X"):
                    found.append(int(env.parent.name))
        except OSError:
            pass
    return found


def _token(pid: int) -> str:
    for _ in range(100):  # the start time is readable as soon as the process exists
        started = start_time(pid)
        if started:
            return f"{socket.gethostname()}:{pid}:{started}"
        time.sleep(0.01)
    raise AssertionError(f"no start time for {pid}")


def _none_left(token: str, within: float = 5.0) -> bool:
    """Whether no process of the command with owner token ``token`` is left within ``within`` seconds (seen
    twice, 0.3 s apart: a process found by neither look cannot have started one since)."""
    deadline = time.monotonic() + within
    while True:
        if not _processes_of(token):
            time.sleep(0.3)
            if not _processes_of(token):
                return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


# ------------------------------------------------------------------------------------------------
# 1-2. Stale reuse; row sweeps take the scenario and params.* overrides
# ------------------------------------------------------------------------------------------------
def test_a_rerun_with_another_rows_file_is_refused_not_answered_with_stale_results(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("initial_trust,seed,horizon\n0.1,1,6\n0.9,2,6\n")
    b.write_text("initial_trust,seed,horizon,austerity\n0.5,7,6,0.9\n0.5,8,6,0.9\n0.5,9,6,0.9\n")
    common = ["experiment=rows", f"results_root={tmp_path / 'R'}"]
    assert run_entry("run", [*common, f"experiment.rows_file={a}"], tmp_path).returncode == 0
    again = run_entry("run", [*common, f"experiment.rows_file={a}"], tmp_path)
    assert again.returncode == 0 and "skipped" in again.stdout  # same inputs: reused
    other = run_entry("run", [*common, f"experiment.rows_file={b}"], tmp_path)
    assert other.returncode == 2 and "Traceback" not in other.stderr
    assert "another row sweep" in other.stderr and "rows_sha256" in other.stderr and "force=true" in other.stderr
    forced = run_entry("run", [*common, f"experiment.rows_file={b}", "force=true"], tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert run_entry("collect", [str(tmp_path / "R" / "runs")], tmp_path).returncode == 0
    merged = pd.read_parquet(tmp_path / "R" / "runs" / "merged.parquet")
    assert list(merged["seed"]) == [7, 8, 9] and set(merged["austerity"]) == {0.9}


def test_a_different_chunking_under_the_same_name_is_refused(tmp_path):
    rows = tmp_path / "rows.csv"
    pd.DataFrame({"initial_trust": np.linspace(0, 1, 5), "horizon": 6}).to_csv(rows, index=False)
    common = ["hydra/launcher=basic", "experiment=rows", f"experiment.rows_file={rows}", f"results_root={tmp_path}",
              "name=x"]
    proc = run_entry("run", ["-m", *common, "experiment.n_chunks=2", "experiment.chunk=0,1"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    proc = run_entry("run", ["-m", *common, "experiment.n_chunks=3", "experiment.chunk=0,1,2"], tmp_path)
    assert proc.returncode == 2 and "a split into 2 chunks, this run 3" in proc.stderr
    assert sorted(p.name for p in (tmp_path / "x").glob("chunk-*.parquet")) == [
        "chunk-00000-of-00002.parquet", "chunk-00001-of-00002.parquet"]
    collected = run_entry("collect", [str(tmp_path / "x")], tmp_path)
    assert collected.returncode == 0
    assert len(pd.read_parquet(tmp_path / "x" / "merged.parquet")) == 5  # every row once


def test_a_paired_folder_made_by_other_inputs_is_refused_unless_forced(tmp_path):
    args = ["seeds=2", "params.horizon=6", f"results_root={tmp_path}"]
    assert run_entry("run", args, tmp_path).returncode == 0
    folder = tmp_path / "runs" / "params.horizon=6,seeds=2"
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["identity"]["hash"], manifest["identity"]["inputs"]["package_version"] = "0" * 16, "0.0.1"
    (folder / "manifest.json").write_text(json.dumps(manifest))  # as if an older model had made it
    refused = run_entry("run", args, tmp_path)
    assert refused.returncode == 2 and "package_version: '0.0.1' -> " in refused.stderr
    assert run_entry("run", [*args, "force=true"], tmp_path).returncode == 0
    assert json.loads((folder / "manifest.json").read_text())["identity"]["hash"] != "0" * 16
    assert not _leftovers(tmp_path)


def test_row_sweeps_take_scenario_and_params_for_the_columns_they_do_not_set(tmp_path):
    rows = tmp_path / "rows.csv"
    rows.write_text("initial_trust,seed,horizon\n0.1,1,6\n0.9,2,6\n")
    proc = run_entry("run", ["experiment=rows", f"experiment.rows_file={rows}", "scenario=austerity",
                             "params.monitoring=0.1", "params.initial_trust=0.5", f"results_root={tmp_path}"],
                     tmp_path)
    assert proc.returncode == 0, proc.stderr
    data = pd.read_parquet(tmp_path / "runs" / "chunk-00000-of-00001.parquet")
    assert set(data["austerity"]) == {0.8} and set(data["monitoring"]) == {0.1}  # from the config
    assert list(data["initial_trust"]) == [0.1, 0.9]  # the rows file's own column wins
    record = json.loads((tmp_path / "runs" / "chunk-00000-of-00001.manifest.json").read_text())
    assert record["params_from_rows"] == ["initial_trust", "horizon"]
    direct = tidy(simulate([Params(austerity=0.8, capacity_ratio=0.85, monitoring=0.1, initial_trust=t,
                                   horizon=6) for t in (0.1, 0.9)], [1, 2], keep="last"))
    np.testing.assert_array_equal(data["fragmentation"].to_numpy(), direct["fragmentation"].to_numpy())


# ------------------------------------------------------------------------------------------------
# 3. NaN is never "no effect"
# ------------------------------------------------------------------------------------------------
def test_horizon_as_a_study_parameter_gives_each_row_its_own_end_not_nan():
    X = np.array([[6.0, 0.2], [12.0, 0.7], [9.0, 0.5]])
    effects = PairedEffects(["horizon", "initial_trust"], ["fragmentation_reduction"]).run(X, 2)
    values = effects["fragmentation_reduction"]
    assert values.shape == (3, 2) and np.isfinite(values).all()
    for k, (h, trust) in enumerate(X):
        ds = simulate([Params(horizon=int(h), initial_trust=trust, commissioning=m)
                       for m in ("alliance", "traditional") for _ in range(2)], [0, 1, 0, 1], keep="last")
        frag = ds["fragmentation"].isel(step=-1).to_numpy()
        np.testing.assert_array_equal(values[k], frag[2:] - frag[:2])


# ------------------------------------------------------------------------------------------------
# 4. Concurrency: owned temporaries, twin runs, unique study names
# ------------------------------------------------------------------------------------------------
def test_only_temporaries_of_dead_owners_are_removed(tmp_path):
    destination = tmp_path / "run"
    mine = temporary_name(destination)
    mine.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    theirs = tmp_path / f".run.tmp-{dead.pid}-1@{socket.gethostname()}"
    theirs.mkdir()
    elsewhere = tmp_path / ".run.tmp-1-1@another-machine"
    elsewhere.mkdir()
    remove_stale_temporaries(destination)
    assert mine.is_dir() and elsewhere.is_dir() and not theirs.exists()


@pytest.mark.slow
def test_twin_sweeps_started_together_both_finish_with_the_same_results(tmp_path):
    sweep = ["-m", "hydra/launcher=basic", "params.n_providers=5,8", "params.initial_trust=0.2,0.6", "seeds=3",
             "params.horizon=12", "figure=false", f"results_root={tmp_path}"]
    twins = [subprocess.Popen([*RUN, *sweep], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env={**os.environ, "TMPDIR": str(tmp_path)}) for _ in range(2)]
    outputs = [t.communicate(timeout=300) for t in twins]
    for twin, (_out, err) in zip(twins, outputs, strict=True):
        assert twin.returncode == 0 and "Traceback" not in err, err[-2000:]
    runs = sorted(p for p in (tmp_path / "runs").iterdir() if p.is_dir())
    assert len(runs) == 4 and all(is_complete(p) for p in runs)
    assert not _leftovers(tmp_path / "runs")
    assert not list((tmp_path / "alliance-sim-hydra").glob("cmd-*")), "Hydra scratch folders left behind"


def test_studies_started_in_the_same_second_get_different_names(tmp_path):
    names = {_claim_new_name(tmp_path)[0] for _ in range(3)}
    assert len(names) == 3


# ------------------------------------------------------------------------------------------------
# 5-6. kill -9: no process left after 5 s, nothing written afterwards; a killed study resumes
# ------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_kill_9_of_a_parallel_sweep_leaves_no_process_and_the_rerun_completes(tmp_path):
    sweep = ["-m", "scenario=default,austerity", "params.n_providers=8,12", "seeds=24", "params.horizon=36",
             "workers=2", "figure=false", f"results_root={tmp_path}"]
    # joblib (loky) job workers; each job's 48 scenarios are one chunk, so workers=2 starts no pool there
    proc = subprocess.Popen([*RUN, *sweep], cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "TMPDIR": str(tmp_path)})
    token = _token(proc.pid)
    runs = tmp_path / "runs"

    def finished() -> set[str]:
        return {p.name for p in runs.iterdir() if is_complete(p)} if runs.is_dir() else set()

    _wait_for(lambda: len(finished()) >= 1 and len(_processes_of(token)) >= 2, 120, "a finished job")
    assert _processes_of(token), "the sweep's workers do not carry the owner token"
    os.kill(proc.pid, signal.SIGKILL)  # only the main process: its workers must follow by themselves
    proc.wait()
    assert _none_left(token, within=5), "processes of the killed sweep still run after 5 s"
    done = finished()
    assert 1 <= len(done) < 4, done  # killed mid-run
    time.sleep(1.5)
    assert finished() == done, "results were written after the kill"
    rerun = subprocess.run([*RUN, *sweep], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                           env={**os.environ, "TMPDIR": str(tmp_path)})
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert len(finished()) == 4 and not _leftovers(runs)


@pytest.mark.slow
def test_kill_9_of_a_study_leaves_no_process_and_the_rerun_resumes_to_the_same_numbers(tmp_path, request):
    args = ["study=smoke", "name=smoke", f"results_root={tmp_path}", "report=false", "workers=2",
            "study.launcher=local", "study.chunks=2"]  # evaluations go out as sweeps: subprocesses and workers
    proc = subprocess.Popen([*STUDY, *args], cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "TMPDIR": str(tmp_path)})
    token = _token(proc.pid)
    partial = tmp_path / "sensitivity" / ".smoke.partial"
    _wait_for(lambda: (partial / "stages" / "morris.json").is_file() and _processes_of(token), 180,
              "the first stage and the next sweep")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert _none_left(token, within=5), "processes of the killed study still run after 5 s"
    rerun = run_entry("sensitivity", args[:-2], tmp_path, env={"TMPDIR": str(tmp_path)})
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert "[morris] already finished: resumed" in rerun.stdout
    folder = tmp_path / "sensitivity" / "smoke"
    assert is_complete(folder) and not partial.exists() and not _leftovers(tmp_path / "sensitivity")
    assert not (folder / "stages").exists() and not (folder / ".eval").exists()
    study = request.getfixturevalue("study")  # the session's smoke study, made meanwhile (conftest.smoke_run)
    for table in ("morris.csv", "sobol.csv", "ablation.csv", "heatmap.csv"):  # same numbers as an uninterrupted run
        assert (folder / table).read_text() == (study / table).read_text(), table
    again = run_entry("sensitivity", args[:-2], tmp_path, env={"TMPDIR": str(tmp_path)})
    assert again.returncode == 0 and "already complete" in again.stdout


# ------------------------------------------------------------------------------------------------
# 7. Full disks: finished work is kept, nothing partial looks complete, one clear line
# ------------------------------------------------------------------------------------------------
def _file_size_limit(limit: int):
    def apply() -> None:  # in the child: writes beyond `limit` bytes fail with EFBIG, like a full disk
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_a_full_disk_during_a_run_leaves_no_folder_and_says_so(tmp_path):
    proc = run_entry("run", ["seeds=40", f"results_root={tmp_path}"], tmp_path, preexec=_file_size_limit(64_000),
                     env={"TMPDIR": str(tmp_path)})
    assert proc.returncode == 3, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1
    assert "the disk is full" in proc.stderr and "rerun the same command" in proc.stderr
    runs = tmp_path / "runs"
    assert not any(is_complete(p) for p in runs.iterdir()) and not _leftovers(runs)


def test_a_full_disk_while_writing_the_report_keeps_the_study(tmp_path, study):
    import shutil

    folder = tmp_path / "sensitivity" / "smoke"
    shutil.copytree(study, folder)
    for report in ("report.html", "report.pdf"):
        (folder / report).unlink()
    before = sorted(p.name for p in folder.iterdir())
    # the same study again: it is found complete, and only its report is written, into a disk that is full
    proc = run_entry("sensitivity", ["study=smoke", "name=smoke", f"results_root={tmp_path}", "workers=2"],
                     tmp_path, preexec=_file_size_limit(300_000), env={"TMPDIR": str(tmp_path)})
    assert proc.returncode == 3, proc.stdout[-1000:] + proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr and "already complete" in proc.stdout
    assert "the disk is full" in proc.stderr and f"python experiments/report.py {folder}" in proc.stderr
    assert sorted(p.name for p in folder.iterdir()) == before  # intact, and no partial report
    assert not _leftovers(tmp_path / "sensitivity")
    rebuilt = run_entry("report", [str(folder)], tmp_path)  # the note's command, with space again
    assert rebuilt.returncode == 0 and (folder / "report.pdf").stat().st_size > 0


def _failing_writer(monkeypatch, after: int) -> None:
    """``DataFrame.to_parquet`` succeeds ``after`` times, then fails as on a full disk."""
    original, calls = pd.DataFrame.to_parquet, {"n": 0}

    def to_parquet(self, path, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] > after:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return original(self, path, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_parquet", to_parquet)


def test_simulate_to_parquet_writes_a_fresh_folder_and_marks_completion(tmp_path, monkeypatch):
    params = [Params(horizon=3, initial_trust=t) for t in np.linspace(0, 1, 40)]
    out = simulate_to_parquet(params, np.arange(40), tmp_path / "ok", chunk_size=10)
    assert (out / "_SUCCESS").is_file() and len(list(out.glob("part-*.parquet"))) == 4
    assert len(pd.read_parquet(out)) == 40 * 4
    _failing_writer(monkeypatch, after=2)
    with pytest.raises(OSError):
        simulate_to_parquet(params, np.arange(40), tmp_path / "full", chunk_size=10)
    assert not (tmp_path / "full").exists() and not _leftovers(tmp_path)


def test_collect_on_a_full_disk_writes_neither_table(tmp_path, monkeypatch):
    assert run_entry("run", ["seeds=2", "params.horizon=4", f"results_root={tmp_path}"], tmp_path).returncode == 0
    from sim.sweeps.runs import collect

    _failing_writer(monkeypatch, after=0)
    with pytest.raises(OSError):
        collect(tmp_path / "runs")
    assert not list((tmp_path / "runs").glob("merged*")) and not _leftovers(tmp_path / "runs")


def test_a_script_without_a_main_guard_gets_a_clear_message(tmp_path):
    script = tmp_path / "script.py"
    script.write_text("from sim import Params, simulate\n"
                      "simulate([Params(horizon=3)] * 600, list(range(600)), workers=2, chunk_size=100)\n")
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "workers=2" in proc.stderr and 'if __name__ == "__main__":' in proc.stderr
    assert set(OUTCOMES)  # the package imported in the script is the one under test


# ------------------------------------------------------------------------------------------------
# 8. Finished results you can trust: damaged files, changed model code, collect during a sweep
# ------------------------------------------------------------------------------------------------
def _one_error(proc: subprocess.CompletedProcess, *fragments: str) -> str:
    """The one ``error:`` line of a refused command, holding every fragment; no traceback."""
    message = proc.stdout + proc.stderr
    assert proc.returncode == 2, message[-2000:]
    assert "Traceback" not in message, message[-2000:]
    errors = [line for line in message.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, message[-2000:]
    for fragment in fragments:
        assert fragment in errors[0], (fragment, errors[0])
    return errors[0]


PAIRED = ["seeds=2", "params.horizon=6", "figure=false"]


def test_a_truncated_run_is_neither_reused_nor_merged_and_force_remakes_it(tmp_path):
    args = [*PAIRED, f"results_root={tmp_path}"]
    assert run_entry("run", args, tmp_path).returncode == 0
    folder = tmp_path / "runs" / "figure=false,params.horizon=6,seeds=2"
    if not folder.is_dir():
        folder = tmp_path / "runs" / "params.horizon=6,seeds=2"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert set(manifest["files"]) == {"outcomes.parquet", "summary.csv", "config.yaml"}
    assert all(r["holds"] and len(r["sha256"]) == 64 for r in manifest["files"].values())  # the folder's index
    outcomes = folder / "outcomes.parquet"
    outcomes.write_bytes(outcomes.read_bytes()[:200])  # a real truncation
    rerun = run_entry("run", args, tmp_path)
    _one_error(rerun, "outcomes.parquet (200 bytes", "truncated", "python experiments/run.py", "force=true")
    assert "skipped" not in rerun.stdout and outcomes.stat().st_size == 200  # not reused, not touched
    collected = run_entry("collect", [str(tmp_path / "runs")], tmp_path)
    _one_error(collected, "outcomes.parquet", "damaged", "force=true")
    assert not list((tmp_path / "runs").glob("merged*"))
    forced = run_entry("run", [*args, "force=true"], tmp_path)
    assert forced.returncode == 0, forced.stderr[-2000:]
    assert run_entry("run", args, tmp_path).stdout.count("skipped") == 1  # remade and intact again
    assert run_entry("collect", [str(tmp_path / "runs")], tmp_path).returncode == 0
    assert not _leftovers(tmp_path)


def test_a_garbled_summary_is_not_reused_or_merged(tmp_path):
    args = [*PAIRED, f"results_root={tmp_path}"]
    assert run_entry("run", args, tmp_path).returncode == 0
    summary = next((tmp_path / "runs").glob("*/summary.csv"))
    text = summary.read_bytes()
    summary.write_bytes(text.replace(b"fragmentation", b"\xff\xfe\x00garbage"))
    _one_error(run_entry("run", args, tmp_path), "summary.csv", "damaged", "force=true")
    _one_error(run_entry("collect", [str(tmp_path / "runs")], tmp_path), "summary.csv", "damaged")
    assert not (tmp_path / "runs" / "merged_summary.csv").exists()


def test_a_truncated_chunk_is_not_reused_and_its_remedy_remakes_it(tmp_path):
    rows = tmp_path / "rows.csv"
    pd.DataFrame({"initial_trust": [0.1, 0.5, 0.9], "horizon": 6}).to_csv(rows, index=False)
    common = ["experiment=rows", f"experiment.rows_file={rows}", "experiment.n_chunks=2", f"results_root={tmp_path}",
              "name=x"]
    for chunk in (0, 1):
        assert run_entry("run", [*common, f"experiment.chunk={chunk}"], tmp_path).returncode == 0
    part = tmp_path / "x" / "chunk-00001-of-00002.parquet"
    part.write_bytes(part.read_bytes()[:300])
    rerun = run_entry("run", [*common, "experiment.chunk=1"], tmp_path)
    line = _one_error(rerun, "chunk-00001-of-00002.parquet (300 bytes", "damaged", "experiment.chunk=1 force=true")
    _one_error(run_entry("collect", [str(tmp_path / "x")], tmp_path), "chunk-00001-of-00002.parquet", "force=true")
    assert not (tmp_path / "x" / "merged.parquet").exists()
    remedy = line.split("remake it with: python experiments/run.py ", 1)[1].split()
    assert run_entry("run", remedy, tmp_path).returncode == 0  # the message's command, as given
    collected = run_entry("collect", [str(tmp_path / "x")], tmp_path)
    assert collected.returncode == 0, collected.stderr
    assert len(pd.read_parquet(tmp_path / "x" / "merged.parquet")) == 3


def _changed_model_digest(tmp_path: Path) -> str:
    """The model-source digest of a copy of sim/model with one constant changed (the source under test is
    left alone: its compiled cache is stamped with the real digest)."""
    import shutil

    from sim.engine import compiled

    copy = tmp_path / "sim"
    for folder in compiled.MODEL_SOURCES:
        shutil.copytree(folder, copy / folder.name, ignore=shutil.ignore_patterns("__pycache__"))
    source = copy / "model" / "logistic.py"
    text = source.read_text()
    source.write_text(text + "\nCHANGED_CONSTANT = 0.5\n")
    original = compiled.MODEL_SOURCES, compiled._SIM
    compiled.MODEL_SOURCES, compiled._SIM = tuple(copy / f.name for f in compiled.MODEL_SOURCES), copy
    try:
        return compiled.model_source_digest.__wrapped__().hex()  # not the cached digest of the real source
    finally:
        compiled.MODEL_SOURCES, compiled._SIM = original


def test_results_of_other_model_code_are_refused_naming_the_code(tmp_path):
    from sim.sweeps import identity

    args = [*PAIRED, f"results_root={tmp_path}"]
    assert run_entry("run", args, tmp_path).returncode == 0
    changed = _changed_model_digest(tmp_path)
    assert changed != identity.model_source()

    def with_changed_code() -> None:  # in the child: the model's source is the changed copy
        identity.model_source = lambda: changed

    rerun = run_entry("run", args, tmp_path, preexec=with_changed_code)
    _one_error(rerun, "different inputs", "the model's code: sim/model and sim/engine SHA-256", changed[:12],
               "force=true")
    forced = run_entry("run", [*args, "force=true"], tmp_path, preexec=with_changed_code)
    assert forced.returncode == 0, forced.stderr[-2000:]
    recorded = json.loads(next((tmp_path / "runs").glob("*/manifest.json")).read_text())
    assert recorded["identity"]["inputs"]["model_source_sha256"] == changed


def test_collect_refuses_a_folder_a_sweep_is_writing_and_merges_it_once_done(tmp_path):
    from sim.sweeps.results import destination_lock

    sweep = ["-m", "hydra/launcher=basic", "params.n_providers=5,6,7,8", "seeds=2", "params.horizon=24",
             "figure=false", f"results_root={tmp_path}"]
    runs = tmp_path / "runs"
    # the last job waits for this lock (as for a twin run), so the sweep is surely still going when collect runs
    with destination_lock(runs / "params.horizon=24,params.n_providers=8,seeds=2"):
        proc = subprocess.Popen([*RUN, *sweep], cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True, env={**os.environ, "TMPDIR": str(tmp_path)})
        _wait_for(lambda: sum(is_complete(p) for p in runs.iterdir()) == 3, 120, "three finished jobs")
        during = run_entry("collect", [str(runs)], tmp_path)
        assert proc.poll() is None
    _one_error(during, "a sweep is still writing into it", "collect it once that command has ended")
    assert not list(runs.glob("merged*"))
    assert proc.wait(timeout=300) == 0, proc.stderr.read()[-2000:]
    after = run_entry("collect", [str(runs)], tmp_path)
    assert after.returncode == 0, after.stderr
    merged = pd.read_parquet(runs / "merged.parquet")
    assert merged["run"].nunique() == 4
    record = json.loads((runs / "merged.manifest.json").read_text())
    assert len(record["merged"]) == 4 and set(record["files"]) == {"merged.parquet", "merged_summary.csv"}
    # a researcher's columns: the preset's name and each override
    assert set(merged["preset"]) == {"default"} and sorted(merged["params.n_providers"].unique()) == [5, 6, 7, 8]
    assert set(merged["seeds"]) == {2} and "hydra/launcher" not in merged.columns
    # a result added later makes the merged table out of date: the run says so
    more = run_entry("run", ["params.n_providers=9", "seeds=2", "params.horizon=24", "figure=false",
                             f"results_root={tmp_path}"], tmp_path)
    assert more.returncode == 0 and "merged.parquet is out of date" in more.stderr
    assert not _leftovers(runs)


def test_an_empty_chunk_completes_and_merges_to_every_row_once(tmp_path):
    rows = tmp_path / "rows.csv"
    rows.write_text("initial_trust,horizon\n0.4,6\n")
    proc = run_entry("run", ["-m", "hydra/launcher=basic", "experiment=rows", f"experiment.rows_file={rows}",
                             "experiment.n_chunks=3", "experiment.chunk=0,1,2", f"results_root={tmp_path}",
                             "name=one"], tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert len(list((tmp_path / "one").glob("chunk-*-of-00003.parquet"))) == 3
    assert run_entry("collect", [str(tmp_path / "one")], tmp_path).returncode == 0
    merged = pd.read_parquet(tmp_path / "one" / "merged.parquet")
    assert list(merged["row"]) == [0] and merged["initial_trust"].tolist() == [0.4]


def test_the_command_line_signs_effects_as_the_report_does(tmp_path):
    proc = run_entry("run", [*PAIRED, f"results_root={tmp_path}"], tmp_path)
    assert proc.returncode == 0
    summary = pd.read_csv(next((tmp_path / "runs").glob("*/summary.csv"))).set_index("outcome")
    line = next(x for x in proc.stdout.splitlines() if x.startswith("fragmentation "))
    shown = float(line.split("reduction ")[1].split()[0])
    assert shown == pytest.approx(-summary.loc["fragmentation", "difference_mean"], abs=1e-3)  # trad. - alliance
    access = next(x for x in proc.stdout.splitlines() if x.startswith("access "))
    assert float(access.split("gain ")[1].split()[0]) == pytest.approx(summary.loc["access", "difference_mean"],
                                                                       abs=1e-3)
    assert "alliance - trad." not in proc.stdout


def test_run_help_lists_its_own_groups_and_where_presets_live(tmp_path):
    proc = run_entry("run", ["--help"], tmp_path)
    assert proc.returncode == 0
    assert "sim/conf/scenario/*.yaml" in proc.stdout and "see conf/scenario" not in proc.stdout
    groups = proc.stdout.split("== Configuration groups ==")[1].split("== Config ==")[0]
    assert "scenario: austerity" in groups and "experiment: paired, rows" in groups and "study:" not in groups


# ------------------------------------------------------------------------------------------------
# 9. Interrupts: SIGINT (Ctrl-C, to the whole process group as a terminal sends it) and SIGTERM (to the
#    command alone, as `kill` sends it): one line, exit 130 / 143, nothing left, the rerun completes
# ------------------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_sweep_says_one_line_and_leaves_nothing(tmp_path, signum):
    sweep = ["-m", "scenario=default,austerity", "params.n_providers=8,12", "seeds=24", "params.horizon=36",
             "workers=2", "figure=false", f"results_root={tmp_path}"]
    proc = subprocess.Popen([*RUN, *sweep], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "TMPDIR": str(tmp_path)}, start_new_session=True)
    token = _token(proc.pid)
    runs = tmp_path / "runs"
    _wait_for(lambda: runs.is_dir() and any(is_complete(p) for p in runs.iterdir()) and len(_processes_of(token)) >= 2,
              120, "a finished job")
    if signum == signal.SIGINT:
        os.killpg(proc.pid, signal.SIGINT)
    else:
        os.kill(proc.pid, signal.SIGTERM)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signum, err[-2000:]
    assert "Traceback" not in err and err.count("\n") == 1, err[-3000:]
    assert err.startswith(f"interrupted ({signal.Signals(signum).name}); kept: finished results in {runs}")
    assert "rerun the same command to resume" in err
    assert _none_left(token, within=5), "processes of the interrupted sweep still run after 5 s"
    assert not _leftovers(runs), _leftovers(runs)
    assert not list((tmp_path / "alliance-sim-hydra").glob("cmd-*")), "Hydra scratch folders left behind"
    done = {p.name for p in runs.iterdir() if is_complete(p)}
    rerun = subprocess.run([*RUN, *sweep], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                           env={**os.environ, "TMPDIR": str(tmp_path)})
    assert rerun.returncode == 0 and rerun.stdout.count("skipped") == len(done), rerun.stderr[-2000:]
    assert sum(is_complete(p) for p in runs.iterdir()) == 4 and not _leftovers(runs)


@pytest.mark.slow
def test_a_terminated_study_keeps_its_stages_and_its_rerun_removes_every_working_folder(tmp_path):
    args = ["study=smoke", "name=smoke", f"results_root={tmp_path}", "report=false", "workers=2",
            "study.launcher=local", "study.chunks=2"]
    work = tmp_path / ".study-work"
    stale = work / "smoke-abcdefgh" / "eval-0123456789ab"  # as a killed run of this study leaves it
    stale.mkdir(parents=True)
    (stale / "rows.parquet").write_bytes(b"rows")
    proc = subprocess.Popen([*STUDY, *args], cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "TMPDIR": str(tmp_path)}, start_new_session=True)
    token = _token(proc.pid)
    partial = tmp_path / "sensitivity" / ".smoke.partial"
    _wait_for(lambda: (partial / "stages" / "morris.json").is_file() and _processes_of(token), 180,
              "the first stage and the next sweep")
    os.kill(proc.pid, signal.SIGTERM)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err[-2000:]
    assert "Traceback" not in err and err.count("\n") == 1, err[-3000:]
    assert f"kept: the finished stages in {partial}" in err and "python experiments/sensitivity.py" in err
    assert _none_left(token, within=5)
    assert (partial / "stages" / "morris.json").is_file()  # what the rerun resumes from
    assert sorted(p.name for p in work.iterdir()) == ["smoke-abcdefgh"]  # its own working folder removed
    assert not [p for p in _leftovers(tmp_path) if ".partial" not in p.name]
    rerun = run_entry("sensitivity", args, tmp_path, env={"TMPDIR": str(tmp_path)})
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert "[morris] already finished: resumed" in rerun.stdout
    assert not work.exists(), list(work.rglob("*"))  # removed once the study completed
    assert not _leftovers(tmp_path)


def test_a_study_with_a_truncated_table_is_refused_not_reported(tmp_path, study):
    import shutil

    folder = tmp_path / "sensitivity" / "smoke"
    shutil.copytree(study, folder)
    sobol = folder / "sobol.csv"
    sobol.write_bytes(sobol.read_bytes()[:300])
    for report in ("report.html", "report.pdf"):
        (folder / report).unlink()
    again = run_entry("sensitivity", ["study=smoke", "name=smoke", f"results_root={tmp_path}", "workers=2"], tmp_path,
                      env={"TMPDIR": str(tmp_path)})
    _one_error(again, "sobol.csv (300 bytes", "damaged", "python experiments/sensitivity.py", "force=true")
    assert "already complete" not in again.stdout and not (folder / "report.pdf").exists()
    _one_error(run_entry("report", [str(folder)], tmp_path), "sobol.csv", "damaged", "force=true")
    assert not (folder / "report.pdf").exists() and not _leftovers(tmp_path)


def test_a_study_named_like_its_link_is_refused_and_latest_stays_a_link(tmp_path, study):
    import shutil

    shutil.copytree(study.parent, tmp_path / "sensitivity", symlinks=True)
    latest = tmp_path / "sensitivity" / "latest"
    before = os.readlink(latest)
    _one_error(run_entry("sensitivity", ["study=smoke", "name=latest", f"results_root={tmp_path}"], tmp_path),
               "name='latest'", "reserved")
    assert os.readlink(latest) == before


def test_a_report_on_a_read_only_file_system_is_one_line(tmp_path, study):
    import shutil

    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("needs root and unshare to mount a read-only file system")
    folder = tmp_path / "ro" / "smoke"
    shutil.copytree(study, folder)
    for report in ("report.html", "report.pdf"):
        (folder / report).unlink()
    ro = folder.parent
    script = (f"mount --bind {ro} {ro} && mount -o remount,bind,ro {ro} && "
              f"exec {sys.executable} {ROOT / 'experiments' / 'report.py'} {folder}")
    proc = subprocess.run(["unshare", "-m", "bash", "-c", script], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "TMPDIR": str(tmp_path)})
    if "mount:" in proc.stderr or "unshare:" in proc.stderr:
        pytest.skip(f"cannot mount here: {proc.stderr.strip()}")
    _one_error(proc, f"cannot write into {folder}", "Read-only file system", "writable folder")
    assert not (folder / "report.pdf").exists()


def test_overrides_too_long_for_a_folder_name_get_a_distinct_hashed_folder(tmp_path):
    def events(n: int) -> str:
        return "params.events=[" + ",".join(f'"budget_cut@{i}=0.01"' for i in range(1, n)) + "]"

    for n in (30, 31):  # two runs whose names differ only past the cut
        proc = run_entry("run", [events(n), "seeds=2", "params.horizon=40", "figure=false", f"results_root={tmp_path}"],
                         tmp_path)
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    folders = [p for p in (tmp_path / "runs").iterdir() if is_complete(p)]
    assert len(folders) == 2 and all(len(p.name.encode()) <= 150 for p in folders)
    assert not _leftovers(tmp_path)


def test_a_report_that_fails_on_an_old_damaged_study_exits_2_not_the_disk_full_code(tmp_path, study):
    import shutil

    folder = tmp_path / "sensitivity" / "smoke"
    shutil.copytree(study, folder)
    record = json.loads((folder / "manifest.json").read_text())
    del record["files"]  # as a study made before folders recorded their files
    (folder / "manifest.json").write_text(json.dumps(record))
    (folder / "convergence.csv").write_text("a,b\n1,2\n")
    for report in ("report.html", "report.pdf"):
        (folder / report).unlink()
    proc = run_entry("sensitivity", ["study=smoke", "name=smoke", f"results_root={tmp_path}", "workers=2"], tmp_path,
                     env={"TMPDIR": str(tmp_path)})
    line = _one_error(proc, "the report could not be written", "damaged", f"python experiments/report.py {folder}")
    assert "disk is full" not in line and not (folder / "report.pdf").exists()


_SWALLOWED = """
import os, signal, sys, time
from sim.runtime.interrupts import stop_on_signals
stop_on_signals()

class Swallower:
    def __del__(self):  # Python ignores an exception raised here, as compiled code that calls Python does
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(1000):
            pass

try:
    Swallower()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        pass
    print("ran on")
except KeyboardInterrupt as err:
    print("interrupted", err.signum)
"""


def test_a_signal_that_compiled_code_swallows_still_stops_the_command():
    """A SIGTERM handled inside code that ignores exceptions (CI caught one in scipy's Sobol set-up: the study ran
    to the end and exited 0) is sent again and stops the command at its next line of Python, with no
    "Exception ignored" noise on stderr."""
    proc = subprocess.run([sys.executable, "-c", _SWALLOWED], capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).resolve().parents[1])
    assert proc.stdout.strip() == f"interrupted {int(signal.SIGTERM)}", (proc.stdout, proc.stderr)
    assert proc.stderr == "", proc.stderr


_UNCAUGHT = """
from sim.runtime.errors import Interrupted
from sim.runtime.interrupts import stop_on_signals
stop_on_signals()
try:
    raise ValueError("still reported")
except ValueError as err:
    import sys
    sys.excepthook(type(err), err, err.__traceback__)  # as compiled code prints an exception it then ignores
raise Interrupted(15)  # as a helper process (the pool's fork server) ends when told to stop
"""


def test_a_stop_that_nobody_catches_prints_no_traceback():
    """A helper process told to stop, or compiled code printing the stop it swallowed, adds no traceback to the
    command's one line; other errors are still printed."""
    proc = subprocess.run([sys.executable, "-c", _UNCAUGHT], capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).resolve().parents[1])
    assert proc.returncode != 0
    assert "still reported" in proc.stderr and "Interrupted" not in proc.stderr, proc.stderr
