"""Temporaries owned by a process: files and folders written beside their destination and renamed into
place only when complete, so a reader never sees a partial one; a later run removes the temporaries of
dead owners (and only theirs). Used by the core's parquet streaming and by every results folder."""

from __future__ import annotations

import errno
import glob
import json
import os
import shutil
from pathlib import Path
from typing import Any

from sim.runtime.processes import is_alive, start_time, this_host

__all__ = ["temporary_name", "remove_stale_temporaries", "atomic_write_bytes", "write_json", "disk_full",
           "DISK_FULL"]


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
