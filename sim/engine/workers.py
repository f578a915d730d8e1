"""The process pool of a parallel run: workers forked from a warm fork server, each dying with its owner."""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor

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
    else:
        context = mp.get_context("spawn")
    return ProcessPoolExecutor(max_workers=max_workers, mp_context=context, initializer=pool_initializer,
                               initargs=(os.getpid(), start_time(os.getpid())))
