"""The cluster path: SLURM jobs that are checked before they are submitted, and the study's sweep settings.

- :func:`check_request` compares what a job asks for (CPUs, memory, time, nodes, partition) with what the
  cluster offers (``sinfo``) and raises :class:`ClusterError` with one line naming the setting when no node
  could ever run it: SLURM would otherwise leave such a job pending forever, and the sweep would block with
  no message.
- ``CheckedSlurmLauncher`` (``hydra_plugins/alliance_sim``, where Hydra looks for launchers; used by
  ``conf/hydra/launcher/slurm*.yaml``) is Hydra's submitit SLURM launcher with that check before ``sbatch``, an
  ``sbatch`` refusal reported as one line, and job states read from ``squeue`` where accounting is off
  (``sacct`` then fails on every poll, and a job that died without a result would be waited on forever).
- :func:`launcher_config`, :func:`check_study_launcher`, :func:`sweep_options` and :func:`study_work_dir`
  give the sensitivity study's cluster path the same launcher settings as a sweep.
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig
from submitit.core.utils import FailedJobError
from submitit.slurm.slurm import SlurmInfoWatcher, SlurmJob

__all__ = ["ClusterError", "SlurmRequest", "NodeOffer", "slurm_offer", "check_request", "parse_minutes",
           "launch_checked", "SqueueWatcher", "launcher_config", "is_slurm", "check_study_launcher", "sweep_options",
           "study_work_dir"]

CONF = Path(__file__).resolve().parents[1] / "conf"
LAUNCHER_PREFIX = re.compile(r"^(\+\+|\+|~)?hydra\.launcher\.[A-Za-z_][\w.]*(=|$)")


class ClusterError(ValueError):
    """A cluster request that can never run, or a cluster that cannot be asked; the message is one line."""


# ------------------------------------------------------------------------------------------------
# What a job asks for and what the cluster offers
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SlurmRequest:
    """The parts of a submitit SLURM launcher config that decide whether a job can ever start."""

    partition: str | None = None
    cpus_per_task: int = 1
    tasks_per_node: int = 1
    mem_gb: float | None = None
    timeout_min: int = 60
    nodes: int = 1

    @classmethod
    def from_launcher(cls, params: Any) -> SlurmRequest:
        """From a launcher config node or the launcher's parameter dict."""
        get = params.get
        return cls(partition=get("partition"), cpus_per_task=int(get("cpus_per_task") or 1),
                   tasks_per_node=int(get("tasks_per_node") or 1), mem_gb=get("mem_gb"),
                   timeout_min=int(get("timeout_min") or 0), nodes=int(get("nodes") or 1))


@dataclass(frozen=True)
class NodeOffer:
    partition: str
    node: str
    cpus: int
    memory_mb: int
    time_limit_min: float  # inf when the partition has none
    default: bool


def parse_minutes(text: str) -> float:
    """A SLURM time limit (``infinite``, ``MM``, ``MM:SS``, ``HH:MM:SS``, ``D-HH[:MM[:SS]]``) in minutes."""
    text = text.strip()
    if text.lower() in ("infinite", "unlimited", "n/a", ""):
        return float("inf")
    days, _, clock = text.rpartition("-")
    parts = [int(p) for p in clock.split(":")]
    if days:  # D-HH, D-HH:MM, D-HH:MM:SS
        hours, minutes, seconds = (parts + [0, 0])[:3]
    elif len(parts) == 3:
        hours, minutes, seconds = parts
    else:  # MM or MM:SS
        hours, (minutes, seconds) = 0, (parts + [0])[:2]
    return int(days or 0) * 1440 + hours * 60 + minutes + seconds / 60


def parse_sinfo(text: str) -> list[NodeOffer]:
    """Rows of ``sinfo -h -N -o '%P|%N|%c|%m|%l'`` (one per node and partition)."""
    offers = []
    for line in text.splitlines():
        if not line.strip():
            continue
        partition, node, cpus, memory, limit = (f.strip() for f in line.split("|"))
        offers.append(NodeOffer(partition.rstrip("*"), node, int(cpus.rstrip("+")), int(memory.rstrip("+")),
                                parse_minutes(limit), partition.endswith("*")))
    return offers


def slurm_offer(timeout_s: float = 30) -> list[NodeOffer]:
    """Every node of every partition as ``sinfo`` reports it."""
    if shutil.which("sinfo") is None:
        raise ClusterError("hydra/launcher: a SLURM launcher needs `sinfo` on PATH (run on the cluster's login "
                           "node, or start a test cluster: bash scripts/slurm_single_node.sh start)")
    try:
        proc = subprocess.run(["sinfo", "-h", "-N", "-o", "%P|%N|%c|%m|%l"], capture_output=True, text=True,
                              timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise ClusterError(f"sinfo: no answer from the SLURM controller within {timeout_s:g} s") from None
    if proc.returncode != 0:
        reason = (proc.stderr.strip().splitlines() or ["no message"])[-1]
        raise ClusterError(f"sinfo: cannot ask the SLURM controller what it offers ({reason})")
    return parse_sinfo(proc.stdout)


def _gb(mb: float) -> str:
    return f"{mb / 1024:.3g} GB"


def check_request(request: SlurmRequest, offers: Sequence[NodeOffer] | None = None) -> list[NodeOffer]:
    """The nodes that could run ``request``; :class:`ClusterError` (one line, naming the setting, the value
    and what the cluster offers) when there are none."""
    offers = slurm_offer() if offers is None else list(offers)
    partitions = list(dict.fromkeys(o.partition for o in offers))
    defaults = sorted({o.partition for o in offers if o.default})
    listing = ", ".join(p + (" (default)" if p in defaults else "") for p in partitions) or "none"
    if request.partition is None:
        if not defaults:
            raise ClusterError(f"hydra.launcher.partition=null: the cluster has no default partition; "
                               f"choose one of: {listing}")
        partition = defaults[0]
    else:
        partition = str(request.partition)
    nodes = [o for o in offers if o.partition == partition]
    if not nodes:
        raise ClusterError(f"hydra.launcher.partition={partition!r}: no such partition; the cluster offers: "
                           f"{listing}")
    where = f"partition {partition!r}"
    cpus = request.cpus_per_task * request.tasks_per_node
    most_cpus = max(o.cpus for o in nodes)
    if cpus > most_cpus:
        setting = (f"hydra.launcher.cpus_per_task={request.cpus_per_task}" if request.tasks_per_node == 1 else
                   f"hydra.launcher.cpus_per_task={request.cpus_per_task} x tasks_per_node={request.tasks_per_node}")
        raise ClusterError(f"{setting}: no node in {where} has {cpus} CPUs (the largest has {most_cpus}); "
                           f"ask for at most {most_cpus}, e.g. hydra/launcher=slurm_small")
    fitting = [o for o in nodes if o.cpus >= cpus]
    if request.mem_gb is not None:
        most_mb = max(o.memory_mb for o in fitting)
        if request.mem_gb * 1024 > most_mb:
            raise ClusterError(f"hydra.launcher.mem_gb={request.mem_gb:g}: no node in {where} with {cpus} CPU(s) "
                               f"has {request.mem_gb:g} GB of memory (the largest has {_gb(most_mb)}); ask for at "
                               f"most {int(most_mb // 1024)} GB")
        fitting = [o for o in fitting if o.memory_mb >= request.mem_gb * 1024]
    limit = nodes[0].time_limit_min
    if request.timeout_min > limit:
        raise ClusterError(f"hydra.launcher.timeout_min={request.timeout_min}: {where} allows at most "
                           f"{limit:g} minutes per job")
    if request.nodes > len(fitting):
        raise ClusterError(f"hydra.launcher.nodes={request.nodes}: {where} has {len(fitting)} node(s) that fit "
                           f"{cpus} CPUs" + (f" and {request.mem_gb:g} GB" if request.mem_gb else ""))
    return fitting


# ------------------------------------------------------------------------------------------------
# The launcher
# ------------------------------------------------------------------------------------------------
def _fail(message: str) -> None:
    # SystemExit passes through Hydra's error handler, which would print a traceback for an exception.
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


def _accounting_enabled() -> bool:
    try:
        proc = subprocess.run(["scontrol", "show", "config"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return True
    match = re.search(r"^AccountingStorageType\s*=\s*(\S+)", proc.stdout, re.MULTILINE)
    return not (match and match.group(1).endswith("/none"))


class SqueueWatcher(SlurmInfoWatcher):
    """Job states from ``squeue`` for clusters without accounting (``sacct`` fails there). A job SLURM no
    longer lists has ended; submitit then reads its result, or reports the job's log if there is none."""

    def update(self) -> None:
        pending = self._registered - self._finished
        arrays = sorted({job.split("_")[0] for job in pending})
        if not arrays:
            return
        self._num_calls += 1
        try:
            proc = subprocess.run(["squeue", "-h", "-r", "-t", "all", "-o", "%i|%T|%N", "-j", ",".join(arrays)],
                                  capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as err:
            logging.getLogger("submitit").warning(f"squeue failed ({err}); will ask again")
            return
        if proc.returncode == 0 or "Invalid job id" in proc.stderr:
            seen = {}
            for line in proc.stdout.splitlines():
                job, state, nodes = (line.split("|") + ["", ""])[:3]
                seen[job.strip()] = {"JobID": job.strip(), "State": state.strip(), "NodeList": nodes.strip()}
            for job in pending:
                seen.setdefault(job, {"JobID": job, "State": "ENDED", "NodeList": ""})
            self._info_dict.update(seen)
        self._last_status_check = time.time()
        for job in pending:
            if self.is_done(job, mode="cache"):
                self._finished.add(job)


def launch_checked(params: dict[str, Any], launch: Callable[[], Any]) -> Any:
    """What ``CheckedSlurmLauncher.launch`` does (``hydra_plugins/alliance_sim``): check the request, read job
    states from ``squeue`` where accounting is off, then ``launch()``; an impossible request or an ``sbatch``
    refusal exits with one line."""
    try:
        check_request(SlurmRequest.from_launcher(params))
    except ClusterError as err:
        _fail(str(err))
    if not _accounting_enabled() and not isinstance(SlurmJob.watcher, SqueueWatcher):
        SlurmJob.watcher = SqueueWatcher(delay_s=60)
    submitted = time.time()
    try:
        return launch()
    except FailedJobError as err:
        # sbatch's own refusal (e.g. a QOS limit sinfo does not show); a job that ran and failed re-raises
        # with submitit's message, which holds the job's log
        lines = [ln.strip() for ln in str(err).splitlines() if ln.strip().startswith("sbatch:")]
        if not lines:
            raise
        _fail(f"SLURM refused the job after {time.time() - submitted:.1f} s: {lines[-1]}")


# ------------------------------------------------------------------------------------------------
# The study's cluster path
# ------------------------------------------------------------------------------------------------
def _one_line(err: BaseException) -> str:
    """Hydra's composition error (and its cause, which names the key) on one line."""
    parts = [str(err).strip().splitlines()[0].rstrip(".") if str(err).strip() else type(err).__name__]
    if err.__cause__ is not None and str(err.__cause__).strip():
        parts.append(str(err.__cause__).strip().splitlines()[0])
    return ": ".join(parts)


def launcher_config(launcher: str, overrides: Sequence[str] = ()) -> DictConfig:
    """The composed ``hydra.launcher`` node for ``hydra/launcher=<launcher>`` plus ``overrides``, exactly as
    a sweep of ``experiments/run.py`` would see it; :class:`ClusterError` if it does not compose."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from sim.config import register

    register()
    args = [f"hydra/launcher={launcher}", *overrides]
    try:
        if GlobalHydra.instance().is_initialized():  # inside a Hydra app: its search path holds conf/
            cfg = compose(config_name="config", overrides=args, return_hydra_config=True)
        else:
            with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
                cfg = compose(config_name="config", overrides=args, return_hydra_config=True)
    except Exception as err:  # Hydra's composition errors have several classes and multi-line messages
        if "hydra/launcher" in str(err) and "Could not find" in str(err):
            options = sorted({p.stem for p in (CONF / "hydra" / "launcher").glob("*.yaml")}
                             | {"basic", "joblib", "submitit_local", "submitit_slurm"})
            raise ClusterError(f"study.launcher={launcher!r}: no such launcher; available: "
                               f"{', '.join(options)}") from None
        raise ClusterError(f"study.launcher_overrides={list(overrides)}: {_one_line(err)}") from None
    return cfg.hydra.launcher


def is_slurm(launcher_cfg: DictConfig) -> bool:
    return str(launcher_cfg.get("_target_", "")).endswith("SlurmLauncher")


def _study_overrides(study: Any) -> list[str]:
    overrides = [str(o) for o in (getattr(study, "launcher_overrides", None) or [])]
    for item in overrides:
        if not LAUNCHER_PREFIX.match(item):
            raise ClusterError(f"study.launcher_overrides: {item!r} is not a launcher setting; give "
                               "hydra.launcher.<key>=<value> (the jobs' workers follow hydra.launcher.cpus_per_task)")
    return overrides


def check_study_launcher(study: Any, check_cluster: bool = True) -> None:
    """Before a study starts: its launcher and overrides compose, and on SLURM its jobs could run."""
    launcher = getattr(study, "launcher", None)
    overrides = _study_overrides(study)
    if launcher is None:
        if overrides:
            raise ClusterError("study.launcher_overrides: set only with study.launcher (e.g. study.launcher=slurm)")
        return
    cfg = launcher_config(str(launcher), overrides)
    if is_slurm(cfg) and check_cluster:
        try:
            check_request(SlurmRequest.from_launcher(cfg))
        except ClusterError as err:  # the study's spelling of the same advice
            raise ClusterError(f"study.launcher={launcher}: " + str(err).replace(
                "e.g. hydra/launcher=slurm_small", "e.g. study.launcher=slurm_small")) from None


def sweep_options(study: Any, workers: int, work_dir: str | Path | None = None) -> dict[str, Any]:
    """Keyword arguments for :class:`sim.sensitivity.PairedEffects`: in-process with ``workers``, or through
    the study's launcher, where each SLURM job runs ``hydra.launcher.cpus_per_task`` workers."""
    launcher = getattr(study, "launcher", None)
    if launcher is None:
        return {"workers": workers}
    overrides = _study_overrides(study)
    cfg = launcher_config(str(launcher), overrides)
    if is_slurm(cfg):
        workers = int(cfg.get("cpus_per_task") or 1)
    return {"launcher": str(launcher), "launcher_overrides": overrides, "chunks": getattr(study, "chunks", 1),
            "workers": workers, "work_dir": None if work_dir is None else str(work_dir)}


@contextmanager
def study_work_dir(study: Any, results_root: str | Path, name: str,
                   log: Any = print) -> Iterator[Path | None]:
    """A working folder for the study's sweeps under ``results_root`` (which the cluster's nodes must share),
    removed when the study succeeds and kept, with its path printed, when it fails. None without a launcher."""
    if getattr(study, "launcher", None) is None:
        yield None
        return
    parent = Path(results_root).resolve() / ".study-work"
    parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=parent))
    try:
        yield work
    except BaseException:
        log(f"working folder kept for inspection: {work}")
        raise
    shutil.rmtree(work, ignore_errors=True)
    try:
        parent.rmdir()  # only when no other study is using it
    except OSError:
        pass
