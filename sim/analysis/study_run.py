"""What ``experiments/sensitivity.py`` does with a composed config: validate and run the study under
``results/sensitivity/<name>/`` (the advisory-group report that follows is :mod:`sim.report.command`'s).

Write order never destroys finished work: the stages write into a hidden work folder
``.<name>.partial`` (each finished stage recorded, so rerunning the same command resumes an interrupted
study), which becomes ``<name>`` when every table is written; the report is written last and separately,
so a failed report (a full disk) leaves the complete study and a note on how to rebuild the report.
"""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from sim.analysis.study import StudyError, run_study, validate_study
from sim.params import Params
from sim.runtime.errors import DamagedResults
from sim.runtime.extras import MissingExtra, require
from sim.runtime.interrupts import keeping
from sim.sweeps.cluster import ClusterError, check_study_launcher, study_work_dir
from sim.sweeps.config import params_from_config
from sim.sweeps.dispatch import SweepError
from sim.sweeps.identity import NEUTRAL_KEYS, differences, identity_record, read_identity, same
from sim.sweeps.integrity import file_records, rerun_command, task_overrides, verify
from sim.sweeps.results import (
    MANIFEST,
    check_writable,
    destination_lock,
    is_complete,
    manifest,
    move_into_place,
    remove_stale_temporaries,
    write_json,
)
from sim.sweeps.runs import ConfigError, check_folder, check_name, read_manifest

logger = logging.getLogger(__name__)

#: The report's files: written after the study is complete, and rewritten when missing or damaged.
REPORT_FILES = ("report.html", "report.pdf")

#: Study keys that never change its numbers (how the evaluations are dispatched).
STUDY_NEUTRAL = (*NEUTRAL_KEYS, "study.launcher", "study.launcher_overrides", "study.chunks")


def study_folder(cfg: DictConfig) -> Path:
    """The named study's folder (``name`` must be set; see :func:`run` for unnamed studies)."""
    return Path(cfg.results_root) / "sensitivity" / check_name(cfg.name)


def validate(cfg: DictConfig) -> Params:
    try:
        base = params_from_config(cfg.params)
    except (TypeError, ValueError) as err:
        raise StudyError(str(err).replace("Params.", "params.")) from None
    validate_study(cfg.study)
    try:  # scenario discovery (PRIM, CART) is a stage of every study
        require("discovery", "The sensitivity study's scenario discovery")
    except MissingExtra as err:
        raise StudyError(str(err)) from None
    if isinstance(cfg.workers, bool) or not isinstance(cfg.workers, int) or not 1 <= cfg.workers <= 1024:
        raise StudyError(f"workers={cfg.workers!r}: must be an integer in [1, 1024]")
    try:
        if cfg.name is not None:
            check_name(cfg.name)
        check_writable(cfg.results_root)
        check_folder(Path(cfg.results_root) / "sensitivity", "results_root")
    except (ValueError, ConfigError) as err:
        raise StudyError(str(err)) from None
    try:
        check_study_launcher(cfg.study)  # on SLURM: a job no node can run fails here, before any work
    except ClusterError as err:
        raise StudyError(str(err)) from None
    return base


def _claim_new_name(root: Path) -> tuple[str, Path]:
    """A fresh date-time name, its work folder created atomically (two studies started in the same second
    get different names)."""
    stamp = time.strftime("%Y-%m-%d_%H-%M-%S")
    for k in range(1, 1000):
        name = stamp if k == 1 else f"{stamp}-{k}"
        partial = root / f".{name}.partial"
        if (root / name).exists():
            continue
        try:
            partial.mkdir(parents=True)
        except FileExistsError:
            continue
        return name, partial
    raise StudyError(f"{root}: no free study name for {stamp}; give name=")


def run(cfg: DictConfig) -> tuple[Path, dict]:
    """Run (or resume, or find finished) the configured study; returns its folder and headline results."""
    base = validate(cfg)
    identity = identity_record(cfg, neutral=STUDY_NEUTRAL)
    root = Path(cfg.results_root) / "sensitivity"
    root.mkdir(parents=True, exist_ok=True)
    if cfg.name is None:
        name, _ = _claim_new_name(root)
        logger.info("study name: %s (if it is interrupted, rerun with name=%s to resume)", name, name)
    else:
        name = check_name(cfg.name)
    folder = root / name
    command = rerun_command("sensitivity.py", task_overrides(), f"name={name}")
    with destination_lock(folder):
        result = _finished(folder, identity, bool(cfg.force), command)
        if result is None:
            partial = folder.parent / f".{folder.name}.partial"
            with keeping(f"the finished stages in {partial} (resume with: {command})"):
                result = _run_into(cfg, base, folder, identity, command)
    _point_latest(folder)
    return folder, result


def _finished(folder: Path, identity: dict, force: bool, command: str) -> dict[str, Any] | None:
    """Headline results of a complete study of the same inputs whose files are intact (None: it must run);
    refuses one of other inputs, or a damaged one, unless ``force``."""
    if not is_complete(folder):
        return None
    recorded = read_identity(folder / MANIFEST)
    if same(recorded, identity):
        data = read_manifest(folder / MANIFEST)
        tables = {k: v for k, v in (data.get("files") or {}).items() if k not in REPORT_FILES}  # remade apart
        if force:
            try:
                verify(folder, tables, "")
            except DamagedResults as err:
                logger.info("%s; remaking the study (force=true)", str(err).split("; ")[0])
                return None
        verify(folder, tables, f"remake the study with: {command} force=true")
        logger.info("%s: already complete (same inputs): nothing to run", folder)
        return {"timings": data.get("timings_seconds", {}), "top": data.get("top", []), "kept": data.get("kept"),
                "skipped": True}
    if not force:
        raise StudyError(f"{folder}: already holds a finished study of different inputs "
                         f"({differences(recorded, identity)}); rerun with force=true to replace it, or give "
                         "another name=")
    return None


def _run_into(cfg: DictConfig, base: Params, folder: Path, identity: dict, command: str) -> dict[str, Any]:
    partial = folder.parent / f".{folder.name}.partial"
    recorded = read_identity(partial / "identity.json")
    if partial.is_dir() and any(partial.iterdir()):
        if same(recorded, identity):
            logger.info("resuming the interrupted study in %s", partial)
        elif cfg.force:
            shutil.rmtree(partial)
        else:
            raise StudyError(f"{partial}: an interrupted study of this name with different inputs is in the way "
                             f"({differences(recorded, identity)}); rerun it with the same inputs to finish it, "
                             "use force=true to discard it, or give another name=")
    remove_stale_temporaries(folder)
    partial.mkdir(parents=True, exist_ok=True)
    write_json(partial / "identity.json", {"identity": identity})
    (partial / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
    started = time.perf_counter()
    try:  # with a launcher the sweeps' files live in a working folder the cluster's nodes share
        with study_work_dir(cfg.study, cfg.results_root, folder.name) as work:
            result = run_study(cfg.study, base, partial, workers=cfg.workers, work_dir=work)
    except SweepError as err:
        raise StudyError(str(err)) from None
    seeds = list(range(cfg.study.seed, cfg.study.seed + cfg.study.replicates))
    write_json(partial / MANIFEST, manifest(
        seeds=seeds, timings={**result["timings"], "total": time.perf_counter() - started},
        simulation_seconds={k: round(v, 4) for k, v in result["simulation_seconds"].items()},
        evaluations=result["evaluations"], kept=result["kept"], workers=cfg.workers, identity=identity,
        top=result["top"], command=command, files=file_records(partial, exclude=("identity.json",))))
    # the work folder becomes the study folder in one rename (its bookkeeping stays out of it)
    shutil.rmtree(partial / "stages", ignore_errors=True)
    (partial / "identity.json").unlink(missing_ok=True)
    move_into_place(partial, folder)  # force=true replaces an old study without a reader seeing a mix
    return result


def _point_latest(folder: Path) -> None:
    latest = folder.parent / "latest"
    if latest.is_symlink() or not latest.exists():
        tmp = folder.parent / f".latest.tmp-{folder.name}"
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(folder.name)
        tmp.replace(latest)  # atomic: a reader never finds no "latest"
