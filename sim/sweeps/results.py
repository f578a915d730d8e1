"""Results folders: written atomically, recording the resolved config, package version and seeds.

A run writes into a hidden temporary folder next to its destination and renames it into place only when
everything is written, so a folder that exists is complete (it holds ``manifest.json``); an interrupted
run leaves only a temporary folder, which a later run removes once its owner is dead.

Temporaries are named after their owner (``.<name>.tmp-<pid>-<start>@<host>``) and only removed when that
process is gone, so twin runs never delete each other's work; :func:`destination_lock` makes a second run
of the same destination wait for the first and then find its finished result.
"""

from __future__ import annotations

import fcntl
import logging
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

from sim.runtime.processes import this_host
from sim.runtime.temporaries import (  # noqa: F401 - re-exported: results folders are built from these
    atomic_write_bytes,
    disk_full,
    remove_stale_temporaries,
    temporary_name,
    write_json,
)

logger = logging.getLogger(__name__)

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
    from sim import __version__

    return {"package": "alliance-sim", "version": __version__, "git_commit": git_commit(),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "seeds": [int(s) for s in seeds],
            "timings_seconds": {k: round(v, 4) for k, v in timings.items()}, "machine": machine(), **extra}


def move_into_place(source: Path, destination: Path) -> None:
    """Rename the finished folder ``source`` to ``destination``. An existing ``destination`` is moved
    aside first and removed after, so a reader never sees a half-deleted or mixed folder."""
    if destination.exists():
        old = destination.parent / f".{destination.name}.old-{os.getpid()}"
        destination.rename(old)
        source.rename(destination)
        shutil.rmtree(old, ignore_errors=True)
    else:
        source.rename(destination)


@contextmanager
def atomic_folder(destination: str | os.PathLike, *, replace: bool = True) -> Iterator[Path]:
    """Yield a temporary folder; on success it replaces ``destination``, on failure it is removed.

    With ``replace=False`` an existing complete ``destination`` (a twin run finished first) is kept and
    this run's identical copy dropped."""
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_name(destination)
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        yield tmp
        if destination.exists():
            if not replace and is_complete(destination):
                shutil.rmtree(tmp, ignore_errors=True)
                return
        move_into_place(tmp, destination)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@contextmanager
def destination_lock(destination: str | os.PathLike) -> Iterator[None]:
    """Hold an exclusive lock on ``destination`` (a file ``.<name>.lock`` beside it) for a whole
    check-run-write sequence: a twin run waits, then finds the finished result and skips."""
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    path = destination.parent / f".{destination.name}.lock"
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
            logger.info("waiting for %s to finish writing %s ...", holder, destination)
            fcntl.flock(fd, fcntl.LOCK_EX)
        # the holder before us may have removed the lock file: then our lock is on a dead inode, retry
        try:
            same_file = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same_file = False
        if same_file:
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {this_host()}".encode(), 0)
        yield
    finally:
        path.unlink(missing_ok=True)
        os.close(fd)


#: A lock file in a sweep's folder: shared by every command writing into it, taken exclusively by collect.
SWEEP_LOCK = ".sweep.lock"


@contextmanager
def sweep_lock(folder: str | os.PathLike) -> Iterator[None]:
    """Hold a shared lock on the sweep folder ``folder`` while this command may write into it (from before the
    first job to after the last, gaps between jobs included), so :func:`merging_lock` can tell that the folder
    is still being written. The last holder removes the lock file."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / SWEEP_LOCK
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(fd, fcntl.LOCK_SH)  # waits only while a collect is merging
        try:
            if os.fstat(fd).st_ino == os.stat(path).st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(fd)  # the last holder before us removed the file: lock the new one
    try:
        yield
    finally:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # nobody else holds it: we are the last
            path.unlink(missing_ok=True)
        except BlockingIOError:
            pass
        os.close(fd)


@contextmanager
def merging_lock(folder: str | os.PathLike) -> Iterator[None]:
    """Hold the sweep folder exclusively while merging it; a ``ConfigError`` (nothing merged) if a command
    is still writing into it. A sweep started meanwhile waits until the merge is written."""
    from sim.runtime.errors import ConfigError

    folder = Path(folder)
    path = folder / SWEEP_LOCK
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfigError(f"{str(folder)!r}: a sweep is still writing into it, so its tables are incomplete; "
                              "collect it once that command has ended (rerun this collect then)") from None
        try:
            yield
        finally:
            path.unlink(missing_ok=True)
    finally:
        os.close(fd)


def release_abandoned(folder: str | os.PathLike, wait: float = 3.0) -> None:
    """After an interruption: remove the locks and temporaries in ``folder`` that no live process holds (those
    of workers killed with the command), waiting up to ``wait`` seconds for workers that are still ending. The
    sweep's own lock is among them: its last holder removes it, but a worker still ending when the command let go
    of it holds it a moment longer and is killed before it can (a CI run saw it left behind); another command
    still writing into the folder holds it too, and then it stays."""
    folder = Path(folder)
    deadline = time.monotonic() + wait
    while folder.is_dir():
        held = False
        for path in folder.glob(".*.lock"):
            try:
                fd = os.open(path, os.O_RDWR)
            except OSError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                if os.fstat(fd).st_ino == os.stat(path).st_ino:
                    path.unlink()
                    if path.name != SWEEP_LOCK:
                        remove_stale_temporaries(path.parent / path.name[1:-len(".lock")])
            except BlockingIOError:
                held = True
            except FileNotFoundError:
                pass
            finally:
                os.close(fd)
        if not held or time.monotonic() > deadline:
            return
        time.sleep(0.1)
