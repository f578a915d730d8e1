"""Results folders: written atomically, recording the resolved config, package version and seeds.

A run writes into a hidden temporary folder next to its destination and renames it into place only when
everything is written, so a folder that exists is complete (it holds ``manifest.json``); an interrupted
run leaves only a temporary folder, which the next run removes.
"""

from __future__ import annotations

import glob
import json
import os
import platform
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

import sim

MANIFEST = "manifest.json"


def is_complete(folder: str | os.PathLike) -> bool:
    """A results folder is complete when it exists with its manifest."""
    return (Path(folder) / MANIFEST).is_file()


def check_writable(root: str | os.PathLike) -> Path:
    """Create ``root`` if needed and check it can be written; a clear error otherwise."""
    root = Path(root)
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / f".write-test-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError as err:
        raise ValueError(f"results_root={str(root)!r}: cannot write there ({err.strerror or err}); "
                         "choose a writable folder, e.g. results_root=results") from None
    return root


def git_commit() -> str | None:
    """The source tree's git commit (with ``-dirty`` if it has uncommitted changes), if it is a checkout."""
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True,
                                timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                               capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("-dirty" if dirty else "")


def machine() -> dict[str, Any]:
    return {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
            "numpy": np.__version__, "hostname": platform.node()}


def manifest(*, seeds: list[int] | np.ndarray, timings: dict[str, float], **extra: Any) -> dict[str, Any]:
    """The provenance record of a results folder."""
    return {"package": "alliance-sim", "version": sim.__version__, "git_commit": git_commit(),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "seeds": [int(s) for s in seeds],
            "timings_seconds": {k: round(v, 4) for k, v in timings.items()}, "machine": machine(), **extra}


@contextmanager
def atomic_folder(destination: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary folder; on success it replaces ``destination``, on failure it is removed."""
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    tmp = destination.parent / f".{destination.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if destination.exists():
        shutil.rmtree(destination)
    tmp.rename(destination)


def remove_stale_temporaries(destination: str | os.PathLike) -> None:
    """Remove what killed runs writing ``destination`` left behind (only that destination's temporaries,
    so parallel jobs writing siblings are never disturbed)."""
    destination = Path(destination)
    if destination.parent.is_dir():
        for tmp in destination.parent.glob(f".{glob.escape(destination.name)}.tmp-*"):
            shutil.rmtree(tmp, ignore_errors=True) if tmp.is_dir() else tmp.unlink(missing_ok=True)


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")


def atomic_write_bytes(path: Path, writer) -> None:
    """Write a file through ``writer(tmp_path)`` then rename it into place."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    writer(tmp)
    tmp.replace(path)
