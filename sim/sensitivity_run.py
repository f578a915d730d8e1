"""What ``experiments/sensitivity.py`` does with a composed config: validate, run the study into an
atomically written folder under ``results/sensitivity/``, then the advisory-group report."""

from __future__ import annotations

import time
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from sim.cluster import ClusterError, check_study_launcher, study_work_dir
from sim.config import params_from_config
from sim.results import atomic_folder, check_writable, manifest, remove_stale_temporaries, write_json
from sim.sensitivity import SweepError
from sim.study import StudyError, run_study, validate_study


def study_folder(cfg: DictConfig) -> Path:
    name = cfg.name or time.strftime("%Y-%m-%d_%H-%M-%S")
    return Path(cfg.results_root) / "sensitivity" / str(name)


def validate(cfg: DictConfig):
    try:
        base = params_from_config(cfg.params)
    except (TypeError, ValueError) as err:
        raise StudyError(str(err).replace("Params.", "params.")) from None
    validate_study(cfg.study)
    if not isinstance(cfg.workers, int) or cfg.workers < 1:
        raise StudyError(f"workers={cfg.workers!r}: must be an integer >= 1")
    try:
        check_writable(cfg.results_root)
    except ValueError as err:
        raise StudyError(str(err)) from None
    try:
        check_study_launcher(cfg.study)  # on SLURM: a job no node can run fails here, before any work
    except ClusterError as err:
        raise StudyError(str(err)) from None
    return base


def run(cfg: DictConfig, log=print) -> tuple[Path, dict]:
    """Run the configured study; returns its folder and headline results."""
    base = validate(cfg)
    folder = study_folder(cfg)
    remove_stale_temporaries(folder)
    started = time.perf_counter()
    with atomic_folder(folder) as tmp:
        (tmp / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
        try:
            with study_work_dir(cfg.study, cfg.results_root, folder.name, log=log) as work:
                result = run_study(cfg.study, base, tmp, workers=cfg.workers, log=log, work_dir=work)
        except SweepError as err:
            raise StudyError(str(err)) from None
        seeds = list(range(cfg.study.seed, cfg.study.seed + cfg.study.replicates))
        write_json(tmp / "manifest.json", manifest(
            seeds=seeds, timings={**result["timings"], "total": time.perf_counter() - started},
            simulation_seconds={k: round(v, 4) for k, v in result["simulation_seconds"].items()},
            evaluations=result["evaluations"], kept=result["kept"], workers=cfg.workers))
        if cfg.report:
            import logging

            from sim.report import write_report

            for noisy in ("weasyprint", "fontTools"):  # Hydra sets the root logger to INFO
                logging.getLogger(noisy).setLevel(logging.WARNING)
            started_report = time.perf_counter()
            write_report(tmp)
            log(f"[report] {time.perf_counter() - started_report:.1f} s")
    latest = folder.parent / "latest"
    if latest.is_symlink() or not latest.exists():
        latest.unlink(missing_ok=True)
        latest.symlink_to(folder.name)
    return folder, result
