"""Parallel workers run the caller's model code, whatever folder the caller runs from."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import sim

_CHILD = """
import sim
from sim.engine.workers import worker_pool


def where():
    import sim
    return sim.__file__


if __name__ == "__main__":
    with worker_pool(1) as pool:
        print(sim.__file__)
        print(pool.submit(where).result())
"""


def test_workers_import_the_callers_model_not_a_sim_folder_in_the_current_directory(tmp_path: Path) -> None:
    """Python 3.12's fork server imports its preloaded modules with the current folder first on its path, so a
    ``sim`` folder there (another checkout) became every worker's model while the caller ran its own."""
    decoy = tmp_path / "sim"
    decoy.mkdir()
    (decoy / "__init__.py").write_text("")
    (decoy / "engine").mkdir()
    (decoy / "engine" / "__init__.py").write_text("")
    (decoy / "engine" / "worker_start.py").write_text("")
    script = tmp_path / "run" / "child.py"
    script.parent.mkdir()
    script.write_text(_CHILD)
    ours = str(Path(sim.__file__).resolve().parents[1])
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          env={"PATH": "", "PYTHONPATH": ours, "HOME": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    caller, worker = proc.stdout.split()
    assert Path(caller).resolve() == Path(sim.__file__).resolve()
    assert worker == caller, f"the worker imported {worker}, the caller {caller}"
