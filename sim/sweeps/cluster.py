"""The cluster path: SLURM jobs that are checked before they are submitted, and the study's sweep settings.

- :func:`check_request` compares what a job asks for (CPUs, memory, time, nodes, partition) with what the
  cluster offers (``sinfo``) and raises :class:`ClusterError` with one line naming the setting when no node
  could ever run it: SLURM would otherwise leave such a job pending forever, and the sweep would block with
  no message.
- :mod:`sim.sweeps.slurm` (extra ``[cluster]``) submits with that check before ``sbatch``, for Hydra's
  ``CheckedSlurmLauncher`` (``hydra_plugins/alliance_sim``) and for a study's evaluations
  (:mod:`sim.sweeps.dispatch`).
- :func:`launcher_config`, :func:`check_study_launcher`, :func:`sweep_options` and :func:`study_work_dir`
  give the sensitivity study's cluster path the same launcher settings as a sweep.
"""

from __future__ import annotations

import glob
import logging
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from sim.conf import directory, launcher_presets
from sim.runtime.extras import install_hint, missing

__all__ = ["ClusterError", "SlurmRequest", "NodeOffer", "slurm_offer", "check_request", "parse_minutes",
           "launcher_config", "is_slurm", "check_study_launcher", "sweep_options",
           "study_work_dir"]

logger = logging.getLogger(__name__)
#: Launchers of the Hydra plugins (submitit_* need the extra [cluster]).
PLUGIN_LAUNCHERS = ("basic", "joblib", "submitit_local", "submitit_slurm")
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
# The study's cluster path
# ------------------------------------------------------------------------------------------------
def _one_line(err: BaseException) -> str:
    """Hydra's composition error (and its cause, which names the key) on one line."""
    parts = [str(err).strip().splitlines()[0].rstrip(".") if str(err).strip() else type(err).__name__]
    if err.__cause__ is not None and str(err.__cause__).strip():
        parts.append(str(err.__cause__).strip().splitlines()[0])
    return ": ".join(parts)


def launcher_config(launcher: str, overrides: Sequence[str] = (), context: Sequence[str] = (),
                    setting: str = "study.launcher") -> DictConfig:
    """The composed ``hydra.launcher`` node for ``hydra/launcher=<launcher>`` plus ``overrides``, exactly as
    a sweep of ``experiments/run.py`` would see it (``context``: further overrides its interpolations read,
    e.g. ``results_root=...``); :class:`ClusterError` if it does not compose, naming ``setting`` (and
    ``<setting>_overrides``) as the user gave them."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from sim.sweeps.config import register

    register()
    args = [f"hydra/launcher={launcher}", *overrides, *context]
    try:
        if GlobalHydra.instance().is_initialized():  # inside a Hydra app: its search path holds sim/conf
            cfg = compose(config_name="config", overrides=args, return_hydra_config=True)
        else:
            with initialize_config_dir(config_dir=str(directory()), version_base="1.3"):
                cfg = compose(config_name="config", overrides=args, return_hydra_config=True)
    except Exception as err:  # Hydra's composition errors have several classes and multi-line messages
        if "submitit" in str(err) and "Could not find" in str(err) and missing("cluster"):
            raise ClusterError(f"{setting}={launcher!r}: needs the optional dependencies of "
                               f"alliance-sim[cluster]; install them with: {install_hint('cluster')}") from None
        if "hydra/launcher" in str(err) and "Could not find" in str(err):
            options = sorted({*launcher_presets(), *PLUGIN_LAUNCHERS})
            raise ClusterError(f"{setting}={launcher!r}: no such launcher; available: "
                               f"{', '.join(options)}") from None
        raise ClusterError(f"{setting}_overrides={list(overrides)}: {_one_line(err)}") from None
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
    """Keyword arguments for :class:`sim.analysis.sensitivity.PairedEffects`: in-process with ``workers``, or through
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
def study_work_dir(study: Any, results_root: str | Path, name: str) -> Iterator[Path | None]:
    """A working folder for the study's sweeps under ``results_root`` (which the cluster's nodes must share),
    removed when the study succeeds (with those its interrupted or failed runs left), or is interrupted, and
    kept, with its path logged, when it fails. None without a launcher. The caller holds the study's lock, so
    no other run of the same study is using them."""
    if getattr(study, "launcher", None) is None:
        yield None
        return
    parent = Path(results_root).resolve() / ".study-work"
    parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=parent))
    try:
        yield work
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: nothing in it is needed to resume (the stages are kept)
        shutil.rmtree(work, ignore_errors=True)
        _remove_if_empty(parent)
        raise
    except BaseException:
        logger.warning("working folder kept for inspection: %s", work)
        raise
    for old in [work, *parent.glob(f"{glob.escape(name)}-*")]:
        if old.name.startswith(f"{name}-") and "-" not in old.name[len(name) + 1:]:
            shutil.rmtree(old, ignore_errors=True)
    _remove_if_empty(parent)


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()  # only when no other study is using it
    except OSError:
        pass
