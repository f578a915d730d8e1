"""Worker lifetime: every process a command starts dies with the command, even after ``kill -9``.

``kill -9`` gives a process no chance to stop its workers, and workers re-parented to init go on
writing results. So each process we start watches the process that owns it and exits as soon as that
one is gone:

- the top-level command (``experiments/*.py``) records itself in ``$ALLIANCE_SIM_OWNER``
  (host, pid, start time); every process it starts inherits the variable — joblib/loky job workers,
  submitit jobs, the sweep subprocess of a study — and :func:`watch_owner` makes them watch it;
- worker pools of the vectorised core watch the process that created the pool
  (:func:`pool_initializer`);
- a process is checked alive by pid *and* start time, so a recycled pid never counts as the owner.

Jobs under SLURM are left alone: they run on other machines and outlive the submitting shell on purpose.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time

OWNER_ENV = "ALLIANCE_SIM_OWNER"
POLL_SECONDS = 0.25
#: How long a worker whose owner died may take to release its locks and temporaries before it exits anyway.
UNWIND_SECONDS = 2.0
_watching: set[tuple[int, str | None]] = set()
_lock = threading.Lock()


def start_time(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (clock ticks since boot), or None if unknown."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode(errors="replace")
    except OSError:
        return None
    # field 2 (comm) may contain spaces: split after its closing parenthesis
    return stat.rsplit(")", 1)[1].split()[19]


def is_alive(pid: int, started: str | None = None) -> bool:
    """Whether ``pid`` is a running (not zombie) process, and the same one if ``started`` is given."""
    if pid <= 0:
        return False
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().decode(errors="replace").rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: fall back to a signal-0 probe
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    if fields[0] in ("Z", "X"):
        return False
    return started is None or fields[19] == started


def this_host() -> str:
    return socket.gethostname()


def owner_token(pid: int | None = None) -> str:
    """``host:pid:start`` naming a process unambiguously on this machine."""
    pid = os.getpid() if pid is None else pid
    return f"{this_host()}:{pid}:{start_time(pid) or ''}"


def parse_owner(token: str) -> tuple[str, int, str | None] | None:
    try:
        host, pid, started = token.rsplit(":", 2)
        return host, int(pid), started or None
    except ValueError:
        return None


def claim_ownership() -> bool:
    """Called by a command's main process: become the owner unless an owning command already exists
    (then this process is one of its workers or subprocesses). Returns True for the top-level owner."""
    if os.environ.get(OWNER_ENV):
        return False
    os.environ[OWNER_ENV] = owner_token()
    return True


def watch_owner() -> None:
    """Exit this process as soon as the command that owns it (``$ALLIANCE_SIM_OWNER``) is gone."""
    owner = parse_owner(os.environ.get(OWNER_ENV, ""))
    if owner is None or os.environ.get("SLURM_JOB_ID"):
        return
    host, pid, started = owner
    if host != this_host() or pid == os.getpid():
        return
    from sim.runtime.interrupts import ignore_interrupts, stop_on_signals

    stop_on_signals()  # SIGTERM unwinds (the owner's death sends it, below): locks and temporaries released
    ignore_interrupts()  # Ctrl-C reaches every process of the terminal: the owner alone answers it
    die_with(pid, started)


def die_with(pid: int, started: str | None = None) -> None:
    """Start (once per watched process) a daemon thread that ends this process when ``pid`` dies."""
    with _lock:
        if (pid, started) in _watching:
            return
        _watching.add((pid, started))

    def watch() -> None:
        while is_alive(pid, started):
            time.sleep(POLL_SECONDS)
        from sim.runtime.interrupts import unwinds_on_sigterm

        if unwinds_on_sigterm():  # let the main thread release its locks and temporaries first
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(UNWIND_SECONDS)
        os._exit(137)  # like the SIGKILL that took the owner; whatever is left is reclaimed by the next run

    threading.Thread(target=watch, name=f"die-with-{pid}", daemon=True).start()


def _forget_watchers() -> None:
    _watching.clear()  # a forked child has none of its parent's threads


os.register_at_fork(after_in_child=_forget_watchers)


def die_with_parent_signal() -> None:
    """``preexec_fn`` for a subprocess: the kernel kills it (SIGKILL) the moment this process dies, even
    while it is still importing (Linux ``PR_SET_PDEATHSIG``; a no-op elsewhere)."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


#: The environment variables :func:`start_fork_server` sets while the server starts; a worker gets the caller's back.
_SERVER_VARIABLES = ("PYTHONSAFEPATH", "PYTHONPATH")
_server_lock = threading.Lock()


def caller_environment() -> dict[str, str | None]:
    """The caller's values of the variables :func:`start_fork_server` changes (``None``: unset)."""
    return {name: os.environ.get(name) for name in _SERVER_VARIABLES}


def _restore(environment: dict[str, str | None]) -> None:
    for name, value in environment.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def start_fork_server(package_root: str) -> None:
    """Start multiprocessing's fork server, if it is not running, importing the package found in
    ``package_root`` (the folder holding the caller's ``sim``).

    Python 3.12's fork server imports its preloaded modules before it takes the caller's import path, with the
    folder it was started in first: a ``sim`` folder there (another checkout), or the editable install's, would be
    the model every worker runs while the caller runs its own. So the server starts with that folder off the path
    (``PYTHONSAFEPATH``) and the caller's package root first on it; the variables are set only while it starts,
    and each worker gets the caller's values back (:func:`pool_initializer`)."""
    from multiprocessing import forkserver

    with _server_lock:
        before = caller_environment()
        os.environ["PYTHONSAFEPATH"] = "1"
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, before["PYTHONPATH"]) if p)
        try:
            forkserver.ensure_running()
        finally:
            _restore(before)


def pool_initializer(pid: int, started: str | None, package: str | None = None,
                     environment: dict[str, str | None] | None = None) -> None:
    """``ProcessPoolExecutor`` initializer: the worker runs the caller's model (its ``sim`` is the caller's
    ``package`` folder, or it stops with the reason), has the caller's environment, dies with the process that
    made the pool, and leaves Ctrl-C to it (one ``KeyboardInterrupt`` there, not one traceback per worker)."""
    import sys
    from pathlib import Path

    from sim.runtime.interrupts import ignore_interrupts

    if environment is not None:
        _restore(environment)
    mine = getattr(sys.modules.get("sim"), "__file__", None)
    if package is not None and mine is not None and Path(mine).resolve().parent != Path(package):
        message = (f"worker {os.getpid()}: imported the model from {Path(mine).parent}, but the caller runs the "
                   f"one in {package}; run from a folder without another 'sim' package, or set PYTHONPATH")
        print(message, file=sys.stderr, flush=True)
        raise RuntimeError(message)
    ignore_interrupts()
    die_with(pid, started)
