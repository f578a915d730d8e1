"""Shared test helpers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim import AllianceModel, Params


def run_model(params: Params, seed: int, steps: int | None = None) -> pd.DataFrame:
    """Run the Mesa model and return its DataCollector table (row t = month t)."""
    model = AllianceModel(params=params, seed=seed)
    model.run(steps)
    return model.datacollector.get_model_vars_dataframe()


def end_values(params: Params, seeds, outcome: str, month: int | None = None) -> np.ndarray:
    """An outcome at ``month`` (default: end of horizon) for each seed, from the Mesa model."""
    month = params.horizon if month is None else month
    return np.array([run_model(params, s, month)[outcome].iloc[month] for s in seeds])


# ------------------------------------------------------------------------------------------------
# Commands of experiments/ run in a forked child of the test process: a real process (own exit code,
# stdout, stderr, pid) without the second or so of Python start-up per case.
# ------------------------------------------------------------------------------------------------
import fcntl  # noqa: E402
import importlib.util  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402
from types import SimpleNamespace  # noqa: E402

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ENTRIES = {name: ROOT / "experiments" / f"{name}.py" for name in ("run", "sensitivity", "collect", "report", "bench")}
_modules: dict[str, object] = {}


def entry_module(name: str):
    """The entry script ``experiments/<name>.py`` loaded once as a module (its ``cli()``, or else its ``main()``,
    is the command)."""
    if name not in _modules:
        spec = importlib.util.spec_from_file_location(f"alliance_entry_{name}", ENTRIES[name])
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        _modules[name] = module
    return _modules[name]


def run_entry(name: str, argv: list[str], cwd: Path, timeout: float = 300, env: dict[str, str] | None = None,
              preexec=None) -> subprocess.CompletedProcess:
    """Run ``python experiments/<name>.py *argv`` in a forked child; returns its exit code and output.
    ``preexec`` runs in the child first (e.g. to set a resource limit).

    Not for sweeps whose launcher pickles the task function for other processes (joblib's ``local``,
    ``submitit_*``, ``slurm``): the entry module is not importable there. ``hydra/launcher=basic`` is fine."""
    return start_entry(name, argv, cwd, timeout, env, preexec).wait()


class Entry:
    """A command started by :func:`start_entry`, running in a forked child."""

    def __init__(self, name: str, argv: list[str], pid: int, out, err, timeout: float) -> None:
        self.name, self.argv, self.pid, self._out, self._err = name, argv, pid, out, err
        self.deadline = time.monotonic() + timeout
        self.timeout = timeout

    def wait(self) -> subprocess.CompletedProcess:
        """Its exit code and output once it has ended (TimeoutError, and the child stopped, after ``timeout``)."""
        try:
            while True:
                done, status = os.waitpid(self.pid, os.WNOHANG)
                if done:
                    break
                if time.monotonic() > self.deadline:
                    os.killpg(self.pid, signal.SIGKILL)
                    os.waitpid(self.pid, 0)
                    raise TimeoutError(f"{self.name} {self.argv} did not finish in {self.timeout} s")
                time.sleep(0.01)
            self._out.seek(0)
            self._err.seek(0)
            return subprocess.CompletedProcess([self.name, *self.argv], os.waitstatus_to_exitcode(status),
                                               self._out.read().decode(errors="replace"),
                                               self._err.read().decode(errors="replace"))
        finally:
            self._out.close()
            self._err.close()


def start_entry(name: str, argv: list[str], cwd: Path, timeout: float = 300, env: dict[str, str] | None = None,
                preexec=None) -> Entry:
    """:func:`run_entry` without waiting: the command runs in a forked child while the test goes on."""
    module = entry_module(name)
    out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
    sys.stdout.flush()
    sys.stderr.flush()
    with warnings.catch_warnings():  # the child only runs the command and exits
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child: becomes the command, never returns into pytest
        code = 1
        try:
            os.setpgid(0, 0)  # its own process group, so a timeout can stop all it started
            os.chdir(cwd)
            os.environ.pop("ALLIANCE_SIM_OWNER", None)
            os.environ.pop("ALLIANCE_SIM_SCRATCH", None)
            os.environ.update(env or {})
            if preexec is not None:
                preexec()
            os.dup2(out.fileno(), 1)
            os.dup2(err.fileno(), 2)
            sys.stdout = io.TextIOWrapper(os.fdopen(1, "wb", closefd=False), line_buffering=True)
            sys.stderr = io.TextIOWrapper(os.fdopen(2, "wb", closefd=False), line_buffering=True)
            sys.argv = [str(ENTRIES[name]), *argv]
            try:
                (getattr(module, "cli", None) or module.main)()
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            except BaseException:  # noqa: BLE001 - reported like an uncaught exception
                traceback.print_exc()
                code = 1
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)
    return Entry(name, argv, pid, out, err, timeout)


def _smoke_paths(factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """The smoke study's folder, its record and its lock, in the run's temporary folder that every pytest-xdist
    worker shares."""
    base = factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    return shared / "smoke-study", shared / "smoke-study.json", shared / "smoke-study.lock"


#: Run by a child process: the smoke study's command, its exit code and output written to the record.
_BUILD_SMOKE = """
import json, os, subprocess, sys
from sim.runtime.processes import die_with_parent_signal
cmd, cwd, env, record = json.loads(sys.argv[1])
proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600,
                      preexec_fn=die_with_parent_signal)
with open(record + ".tmp", "w") as f:
    json.dump({"returncode": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr}, f)
os.replace(record + ".tmp", record)
"""


def _smoke_command(root: Path) -> tuple[list[str], dict[str, str]]:
    cmd = [sys.executable, str(ROOT / "experiments" / "sensitivity.py"), "study=smoke", "name=smoke",
           f"results_root={root}", "report=true", "workers=2"]
    return cmd, {**os.environ, "TMPDIR": str(root), "MPLBACKEND": "Agg"}


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """Start making the smoke study in the background as soon as the tests are collected, if any selected test
    needs it: the tests that need it then find it made (or wait less) instead of one worker making it while
    the other waits. The child holds the study's lock until the record is written (see ``smoke_run``)."""
    if not any("smoke_run" in getattr(item, "fixturenames", ()) for item in session.items):
        return
    root, record, lock_path = _smoke_paths(session.config._tmp_path_factory)
    with open(lock_path, "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return  # another worker has started it
        if record.is_file() or root.exists():
            return
        root.mkdir()
        cmd, env = _smoke_command(root)
        from sim.runtime.processes import die_with_parent_signal

        # the child inherits the locked file: the lock is released when the child ends, record written
        subprocess.Popen([sys.executable, "-c", _BUILD_SMOKE, json.dumps([cmd, str(root), env, str(record)])],
                         cwd=root, pass_fds=(lock.fileno(),), stdin=subprocess.DEVNULL,
                         preexec_fn=die_with_parent_signal)


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """The smoke study with its report, made once by the main job's own command in a new interpreter (~25 s)
    and shared by every test that needs a finished study: ``.folder`` (the study), ``.stdout``, ``.stderr``.

    It is started in the background when the tests are collected (``pytest_collection_finish``); this waits
    for it on its lock. Should that not have happened, the first worker that needs it makes it here while the
    other waits on the lock, so the study is made once per run, not once per worker."""
    root, record, lock_path = _smoke_paths(tmp_path_factory)
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not record.is_file():
            root.mkdir(exist_ok=True)
            cmd, env = _smoke_command(root)
            proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=600, env=env)
            record.write_text(json.dumps({"returncode": proc.returncode, "stdout": proc.stdout,
                                          "stderr": proc.stderr}))
        run = SimpleNamespace(**json.loads(record.read_text()), folder=root / "sensitivity" / "smoke")
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    assert (run.folder / "manifest.json").is_file()
    return run


@pytest.fixture(scope="session")
def study(smoke_run: SimpleNamespace) -> Path:
    """The folder of the run's smoke study (see ``smoke_run``)."""
    return smoke_run.folder


def pytest_sessionstart(session: pytest.Session) -> None:
    """Compile the package once: with PYTHONDONTWRITEBYTECODE set (as on this machine) every new interpreter a
    test starts (commands, sweep workers, SLURM jobs: ~90 in a run) would otherwise compile ``sim`` from source
    (~0.3 s each)."""
    if os.environ.get("PYTHONDONTWRITEBYTECODE") and not os.environ.get("PYTEST_XDIST_WORKER"):
        import compileall

        for package in ("sim", "hydra_plugins"):
            compileall.compile_dir(ROOT / package, quiet=2)  # a read-only tree: nothing written, no error


@pytest.hookimpl(tryfirst=True)  # before -m selects: `make test-fast` leaves these out
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test that needs the smoke study is ``slow`` (the study takes ~25 s)."""
    for item in items:
        if "smoke_run" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


# ------------------------------------------------------------------------------------------------
# pytest-xdist: `make test` runs `-n 2 --dist loadgroup`. Each test is its own unit of work except those
# below (named by the start of their node ids), whose tests share a fixture that must live in one worker:
# SLURM (started and stopped by its session fixture; its tests count the jobs SLURM lists, so they must not
# overlap), the app server of the browser tests (~10-20 s to start), the finished sweeps that collect.py's
# refusals copy (~4 s, made once per worker that needs them) and the evidence patterns (~10 s).
# (xdist's own grouping by `xdist_group` marks does nothing with pytest 9.2: pytest-dev/pytest-xdist#1386.)
#
# A worker that runs out of work takes the unit with the largest expected time (longest first), so the
# two workers finish close together: long tests do not start last. Expected seconds of the long tests
# (on this 2-core machine, both workers busy) are below; any other test counts as UNLISTED_SECONDS. The
# numbers only order the work: a wrong one makes a run less balanced, never wrong.
# ------------------------------------------------------------------------------------------------
SAME_WORKER = {"tests/test_cluster.py": "slurm", "tests/test_app.py": "app-server",
               "tests/test_bad_inputs.py::test_collect_refuses_bad_folders[": "row-sweep",
               "tests/test_patterns.py::test_evidence_pattern": "evidence",
               "tests/test_patterns.py::test_the_evidence_patterns_tables": "evidence"}
EXPECTED_SECONDS = {
    "tests/test_cluster.py::test_a_smoke_study_through_slurm": 30,
    "tests/test_cluster.py::test_a_sweep_on_slurm": 30,
    "tests/test_cluster.py::test_a_job_that_can_never_run": 3,
    "tests/test_cluster.py::test_sweep_evaluations_remove_their_files": 4,
    "tests/test_faults.py::test_kill_9_of_a_study": 30,
    "tests/test_faults.py::test_a_terminated_study_keeps": 30,
    "tests/test_faults.py::test_an_interrupted_sweep_says_one_line": 18,
    "tests/test_faults.py::test_collect_refuses_a_folder_a_sweep_is_writing": 10,
    "tests/test_faults.py::test_kill_9_of_a_parallel_sweep": 22,
    "tests/test_app.py::test_the_guides_numbers": 140,
    "tests/test_app.py::test_presets_and_reset": 90,
    "tests/test_app.py::test_first_render": 20,
    "tests/test_app.py::test_a_preset_after": 15,
    "tests/test_app.py::test_shocks_hit": 15,
    "tests/test_sweeps.py::test_parallel_sweep_and_collect": 12,
    "tests/test_sweeps.py::test_killed_sweep": 12,
    "tests/test_patterns.py::test_pattern[P9]": 12,
    "tests/test_core.py::test_equivalence_on_random": 9,
    "tests/test_faults.py::test_a_full_disk_while_writing_the_report": 8,
    "tests/test_faults.py::test_twin_sweeps": 8,
    "tests/test_core.py::test_batch_invariance[": 6,
    "tests/test_core.py::test_bench_quick_runs": 5,
}
UNLISTED_SECONDS = 1.0


def expected_seconds(nodeid: str) -> float:
    return next((s for prefix, s in EXPECTED_SECONDS.items() if nodeid.startswith(prefix)), UNLISTED_SECONDS)


class _LongestFirst(dict):
    """xdist's queue of work units (scope -> {nodeid: done}); ``popitem`` hands out the longest unit."""

    def popitem(self, last: bool = True) -> tuple[str, dict[str, bool]]:
        scope = max(self, key=lambda s: sum(expected_seconds(n) for n in self[s]))
        return scope, self.pop(scope)


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist: ignored without it
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class SharedFixtureScheduling(LoadGroupScheduling):
        """Per test, except the files of SAME_WORKER; the longest units first."""

        def __init__(self, config: pytest.Config, log=None) -> None:
            super().__init__(config, log)
            self.workqueue = _LongestFirst()

        def _split_scope(self, nodeid: str) -> str:
            group = next((g for prefix, g in SAME_WORKER.items() if nodeid.startswith(prefix)), None)
            return group or super()._split_scope(nodeid)

    return SharedFixtureScheduling(config, log)
