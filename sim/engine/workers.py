"""The process pool of a parallel run: workers forked from a warm fork server, each dying with its owner."""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import forkserver

__all__ = ["worker_pool"]


def worker_pool(max_workers: int) -> ProcessPoolExecutor:
    """The process pool of a parallel run (``simulate(workers=...)``, a study's local sweep).

    Workers fork from a fork server (spawn where there is none): a clean process that has already imported
    the core and loaded its compiled code (:mod:`sim.engine.worker_start`), so they start in a fraction of a
    second without forking the caller. Each worker dies with the process that owns it, even after kill -9
    (:func:`sim.runtime.processes.pool_initializer`)."""
    import multiprocessing as mp

    from sim.runtime.processes import pool_initializer, start_time

    if "forkserver" in mp.get_all_start_methods():
        context = mp.get_context("forkserver")
        context.set_forkserver_preload(["sim.engine.worker_start"])
        _start_fork_server()
    else:
        context = mp.get_context("spawn")
    return ProcessPoolExecutor(max_workers=max_workers, mp_context=context, initializer=pool_initializer,
                               initargs=(os.getpid(), start_time(os.getpid())))


def _start_fork_server() -> None:
    """Start the fork server (if it is not running) without the current folder on its import path.

    The server imports the preloaded modules while its path still begins with the folder it was started in, before
    it takes the caller's path; a ``sim`` folder there (another checkout) would then be the model every worker
    runs, while the caller runs its own. ``PYTHONSAFEPATH`` keeps that folder off the path; it is set only while
    the server starts."""
    before = os.environ.get("PYTHONSAFEPATH")
    os.environ["PYTHONSAFEPATH"] = "1"
    try:
        forkserver.ensure_running()
    finally:
        if before is None:
            del os.environ["PYTHONSAFEPATH"]
        else:
            os.environ["PYTHONSAFEPATH"] = before
