"""Parallel workers run the caller's model code, whichever checkout the caller runs and whatever folder it runs
from."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import sim

_CHILD = """
import sim
from sim.engine.workers import worker_pool

if __name__ == "__main__":
    with worker_pool(1) as pool:
        print(sim.__file__)
        print(pool.submit(eval, "__import__('sim').__file__").result())
"""
OURS = Path(sim.__file__).resolve().parent


def _run(script: Path, cwd: Path, pythonpath: str | None) -> tuple[Path, Path]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSAFEPATH")}
    env["NUMBA_DISABLE_JIT"] = "1"  # the fork server's warm-up may fail without it: only imports matter here
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    proc = subprocess.run([sys.executable, str(script)], cwd=cwd, capture_output=True, text=True, timeout=300,
                          env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    caller, worker = proc.stdout.split()
    return Path(caller).resolve().parent, Path(worker).resolve().parent


@pytest.fixture
def other_checkout(tmp_path: Path) -> Path:
    """A second copy of the package (another checkout), in ``tmp_path/checkout/sim``."""
    shutil.copytree(OURS, tmp_path / "checkout" / "sim", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path / "checkout"


def test_a_sim_folder_in_the_current_directory_is_not_the_workers_model(other_checkout: Path, tmp_path: Path):
    """Python 3.12's fork server imports its preload with the current folder first on its path: without care, a
    ``sim`` folder there became every worker's model while the caller ran its own."""
    script = tmp_path / "scripts" / "child.py"
    script.parent.mkdir()
    script.write_text(_CHILD)
    caller, worker = _run(script, cwd=other_checkout, pythonpath=str(OURS.parent))
    assert caller == OURS
    assert worker == caller, f"the worker ran the model in {worker}, the caller the one in {caller}"


def test_a_second_checkout_runs_its_own_model_in_its_workers(other_checkout: Path):
    """A script inside another checkout imports that checkout's ``sim``; its workers must too (not the one an
    editable install points to)."""
    script = other_checkout / "child.py"
    script.write_text(_CHILD)
    caller, worker = _run(script, cwd=other_checkout, pythonpath=None)
    assert caller == (other_checkout / "sim").resolve()
    assert worker == caller, f"the worker ran the model in {worker}, the caller the one in {caller}"
