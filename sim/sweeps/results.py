"""Results folders: written atomically, recording the resolved config, package version and seeds.

A run writes into a hidden temporary folder next to its destination and renames it into place only when
everything is written, so a folder that exists is complete (it holds ``manifest.json``); an interrupted
run leaves only a temporary folder, which a later run removes once its owner is dead.

Temporaries are named after their owner (``.<name>.tmp-<pid>-<start>@<host>``) and only removed when that
process is gone, so twin runs never delete each other's work; :func:`destination_lock` makes a second run
of the same destination wait for the first and then find its finished result.
"""

from __future__ import annotations

import errno
import fcntl
import glob
import json
import os
import platform
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

import sim
from sim.processes import is_alive, start_time, this_host

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


def temporary_name(destination: Path) -> Path:
    """A hidden temporary beside ``destination`` that names this process as its owner."""
    pid = os.getpid()
    return destination.parent / f".{destination.name}.tmp-{pid}-{start_time(pid) or ''}@{this_host()}"


def _owner_alive(tmp_name: str) -> bool:
    """Whether the process that owns a temporary (named by :func:`temporary_name`) may still be writing it."""
    owner = tmp_name.rsplit(".tmp-", 1)[1]
    owner, _, host = owner.partition("@")
    if host and host != this_host():
        return True  # another machine's process: we cannot tell, so leave it alone
    pid_text, _, started = owner.partition("-")
    try:
        return is_alive(int(pid_text), started or None)
    except ValueError:
        return False


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


def remove_stale_temporaries(destination: str | os.PathLike) -> None:
    """Remove what killed runs writing ``destination`` left behind: only temporaries whose owner process
    is dead, so a live twin run (or a parallel job writing a sibling) is never disturbed."""
    destination = Path(destination)
    if not destination.parent.is_dir():
        return
    name = glob.escape(destination.name)
    stale = [t for t in destination.parent.glob(f".{name}.tmp-*") if not _owner_alive(t.name)]
    stale += [t for t in destination.parent.glob(f".{name}.old-*") if not _pid_alive_suffix(t.name)]
    for tmp in stale:
        shutil.rmtree(tmp, ignore_errors=True) if tmp.is_dir() else tmp.unlink(missing_ok=True)


def _pid_alive_suffix(name: str) -> bool:
    try:
        return is_alive(int(name.rsplit("-", 1)[1]))
    except ValueError:
        return False


@contextmanager
def destination_lock(destination: str | os.PathLike,
                     log: Callable[[str], None] | None = None) -> Iterator[None]:
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
            if log is not None:
                holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
                log(f"waiting for {holder} to finish writing {destination} ...")
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


def write_json(path: Path, data: dict[str, Any]) -> None:
    atomic_write_bytes(path, lambda tmp: tmp.write_text(json.dumps(data, indent=2, default=str) + "\n"))


def atomic_write_bytes(path: Path, writer) -> None:
    """Write a file through ``writer(tmp_path)`` then rename it into place; a failed write (a full disk)
    leaves neither a partial file nor a temporary."""
    path = Path(path)
    tmp = temporary_name(path)
    try:
        writer(tmp)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


#: errno values that mean "the disk (or a quota or file-size limit) is full".
DISK_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


def disk_full(err: BaseException) -> bool:
    """Whether ``err`` (or what caused it) is a full disk, quota or file-size limit."""
    while err is not None:
        if isinstance(err, OSError) and err.errno in DISK_FULL:
            return True
        if "No space left on device" in str(err) or "Disk quota exceeded" in str(err):
            return True  # pyarrow re-raises ENOSPC as its own error type
        err = err.__cause__ or err.__context__
    return False
