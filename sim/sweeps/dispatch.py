"""Evaluate a table of scenario rows as chunk jobs through a Hydra launcher's settings.

The sensitivity study sends its evaluations out this way when ``study.launcher`` is set. The launcher preset
is composed with Hydra's compose API (exactly the settings a sweep of ``experiments/run.py`` would get), and
each of ``chunks`` jobs calls the package function :func:`sim.sweeps.rows.run_chunk_file`:

- ``basic``: one after another in this process;
- ``joblib`` (the ``local`` preset): a process pool of ``hydra.launcher.n_jobs`` workers;
- ``submitit_local``, ``slurm``, ``slurm_small`` (extra ``[cluster]``): submitit's executor with the
  launcher's settings, one array job; on SLURM the request is checked first (:mod:`sim.sweeps.slurm`).

No script is started by file path, so this works from an installed package. The merged table equals an
in-process evaluation's because a scenario's numbers never depend on its batch. Everything an evaluation
writes (rows, chunks, submitit's logs) goes to one folder, removed when it succeeds and kept, named in the
error, when it fails.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
from omegaconf import OmegaConf

from sim.model.core import column_texts, constants_text
from sim.runtime.processes import OWNER_ENV, owner_token
from sim.runtime.temporaries import disk_full
from sim.sweeps.cluster import ClusterError, is_slurm, launcher_config
from sim.sweeps.rows import merge, run_chunk_file

__all__ = ["SweepError", "evaluate_rows", "run_jobs"]

logger = logging.getLogger(__name__)


class SweepError(RuntimeError):
    """An evaluation through a launcher failed; the message says where its files were kept."""


def evaluate_rows(rows: pd.DataFrame, launcher: str, chunks: int, work_dir: str | os.PathLike | None,
                  steps: int | None, workers: int, overrides: Sequence[str] = ()) -> pd.DataFrame:
    """End-of-run outcomes of every row (parameters plus ``seed``), in row order, computed as ``chunks`` jobs
    through ``hydra/launcher=<launcher>`` with ``overrides`` (``hydra.launcher.*`` settings); each job runs
    ``workers`` worker processes. Files go to a folder under ``work_dir`` (None: a temporary folder)."""
    own_root = work_dir is None
    root = Path(work_dir or tempfile.mkdtemp(prefix="alliance-sim-eval-")).resolve()
    folder = root / f"eval-{uuid.uuid4().hex[:12]}"
    folder.mkdir(parents=True)
    rows_file = folder / "rows.parquet"
    text = {"disabled": rows["disabled"].map(",".join)}
    if "constants" in rows:  # an ensemble member's constants: pairs in memory, their text form in a file
        text["constants"] = column_texts(rows["constants"].to_numpy(),
                                         lambda c: c if isinstance(c, str) else constants_text(tuple(c)))
    rows.assign(**text).to_parquet(rows_file, index=False)
    try:
        # the launcher's interpolations (submitit_folder) resolve into this evaluation's folder
        cfg = launcher_config(launcher, overrides, context=[f"results_root={folder}",
                                                            f"hydra.sweep.dir={folder / 'hydra'}", "name=chunks"])
        settings = OmegaConf.to_container(cfg, resolve=True)
        jobs = [(str(rows_file), str(folder / "chunks"), chunks, k, steps, workers) for k in range(chunks)]
        logger.debug("evaluating %d rows as %d jobs through %s in %s", len(rows), chunks, launcher, folder)
        run_jobs(settings, jobs)
        merged = merge(folder / "chunks")
    except Exception as err:
        if disk_full(err):
            raise  # the command reports a full disk itself (exit 3)
        text = str(err).strip()
        detail = (text.splitlines()[-1] if isinstance(err, ClusterError) else " ".join(text.split())[-2000:]) \
            if text else type(err).__name__
        raise SweepError(f"evaluation through hydra/launcher={launcher} failed (files kept in {folder}): "
                         f"{detail}") from None
    shutil.rmtree(root if own_root else folder, ignore_errors=True)
    return merged


def run_jobs(settings: dict[str, Any], jobs: list[tuple], function: Callable[..., Any] = run_chunk_file) -> None:
    """``function(*job)`` for every job, through the launcher whose resolved ``hydra.launcher`` node is
    ``settings`` (basic: in turn here; joblib: a local pool; submitit: local processes or a SLURM job array)."""
    target = str(settings.get("_target_", ""))
    if target.endswith("BasicLauncher"):
        for job in jobs:
            function(*job)
    elif target.endswith("JoblibLauncher"):
        _in_pool(jobs, int(settings.get("n_jobs") or 1), function)
    elif "submitit" in target or is_slurm(settings):
        _through_submitit(settings, jobs, function)
    else:
        raise ClusterError(f"hydra.launcher._target_={target}: a study can evaluate through the basic, joblib "
                           "(local) and submitit launchers (submitit_local, slurm, slurm_small)")


def _in_pool(jobs: list[tuple], n_jobs: int, function: Callable[..., Any]) -> None:
    from sim.engine.workers import worker_pool

    n_jobs = (os.cpu_count() or 1) if n_jobs < 0 else max(n_jobs, 1)
    with worker_pool(min(n_jobs, len(jobs))) as pool:
        for _ in pool.map(function, *zip(*jobs, strict=True)):
            pass


@contextmanager
def _owned_children() -> Iterator[None]:
    """Processes started meanwhile watch this one (or the command that owns it) and die with it."""
    had = OWNER_ENV in os.environ
    if not had:
        os.environ[OWNER_ENV] = owner_token()
    try:
        yield
    finally:
        if not had:
            os.environ.pop(OWNER_ENV, None)


def _through_submitit(settings: dict[str, Any], jobs: list[tuple], function: Callable[..., Any]) -> None:
    from sim.runtime.extras import require

    require("cluster", "study.launcher with submitit")
    import submitit
    from hydra_plugins.hydra_submitit_launcher.config import BaseQueueConf

    slurm = is_slurm(settings)
    cluster = "slurm" if slurm else "local"
    params = {k: v for k, v in settings.items() if k != "_target_"}
    # the parameter mapping of Hydra's submitit launcher: shared keys as they are, the rest prefixed
    init = {"folder": params.pop("submitit_folder")}
    if "max_num_timeout" in params:
        init[f"{cluster}_max_num_timeout"] = params.pop("max_num_timeout")
    shared = set(OmegaConf.structured(BaseQueueConf).keys())
    executor = submitit.AutoExecutor(cluster=cluster, **init)
    executor.update_parameters(**{k if k in shared else f"{cluster}_{k}": v for k, v in params.items()})

    def submit() -> list[Any]:
        return executor.map_array(function, *zip(*jobs, strict=True))

    with _owned_children():
        if slurm:
            from sim.sweeps.slurm import checked_submission

            submitted = checked_submission(settings, submit)
        else:
            submitted = submit()
        for job in submitted:
            job.result()

