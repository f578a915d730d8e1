"""The process pool of a parallel run: workers forked from a warm fork server, each dying with its owner."""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

__all__ = ["worker_pool"]


def worker_pool(max_workers: int) -> ProcessPoolExecutor:
    """The process pool of a parallel run (``simulate(workers=...)``, a study's local sweep).

    Workers fork from a fork server (spawn where there is none): a clean process that has already imported
    the core and loaded its compiled code (:mod:`sim.engine.worker_start`), so they start in a fraction of a
    second without forking the caller. The server imports the caller's own ``sim`` (whichever checkout that is:
    :func:`sim.runtime.processes.start_fork_server`), and each worker checks that it runs the caller's model and
    dies with the process that owns it, even after kill -9 (:func:`sim.runtime.processes.pool_initializer`)."""
    import multiprocessing as mp

    import sim
    from sim.runtime.processes import caller_environment, pool_initializer, start_fork_server, start_time

    package = str(Path(sim.__file__).resolve().parent)
    environment = caller_environment()
    if "forkserver" in mp.get_all_start_methods():
        context = mp.get_context("forkserver")
        context.set_forkserver_preload(["sim.engine.worker_start"])
        start_fork_server(str(Path(package).parent))
    else:
        context = mp.get_context("spawn")
    return ProcessPoolExecutor(max_workers=max_workers, mp_context=context, initializer=pool_initializer,
                               initargs=(os.getpid(), start_time(os.getpid()), package, environment))
