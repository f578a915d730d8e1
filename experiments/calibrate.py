"""Calibrate the model's constants against the evidence: history matching (Hydra entry point).

    python experiments/calibrate.py                                   # the full calibration
    python experiments/calibrate.py calibration.waves=2 name=quick    # rerun the same command to resume it
    python experiments/calibrate.py exclude=[P10,P12] ship=true       # calibrate on the others, ship the ensemble

Writes results/calibration/<name>/ (waves, emulator accuracy, what constrains what, the ensemble against the prior,
the targets across the ensemble, conflicts). Exit 2 with the conflicting targets named if no constant set meets
every calibration target. sim/analysis/calibration.py explains the method.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import hydra
from omegaconf import DictConfig, OmegaConf

from sim.conf import SEARCH_PATH
from sim.sweeps.cli import command, task


@hydra.main(version_base="1.3", config_path=SEARCH_PATH, config_name="calibrate")
@task
def main(cfg: DictConfig) -> None:
    from sim.analysis import calibration as cal
    from sim.analysis import targets as tg
    from sim.runtime.extras import require

    require("discovery", "calibration's Gaussian-process emulators")
    targets_file = Path(cfg.targets) if cfg.targets else tg.TARGETS
    targets = tg.load_targets(targets_file)
    exclude = [cfg.exclude] if isinstance(cfg.exclude, str) else list(cfg.exclude or [])
    unknown = [n for n in exclude if n not in {t.name for t in targets}]
    if unknown:
        raise cal.CalibrationError(f"exclude: {unknown[0]!r} is not a target of {targets_file.name}; targets: "
                                   + ", ".join(t.name for t in targets))
    targets = tuple(t for t in targets if t.name not in set(exclude))
    dims = cal.prior(tuple(cfg.prior.fixed), bool(cfg.prior.mechanisms),
                     OmegaConf.to_container(cfg.prior.bounds))
    try:
        settings = cal.Settings(**OmegaConf.to_container(cfg.calibration),
                                battery=cal.BatterySizes(**OmegaConf.to_container(cfg.battery)))
    except TypeError as err:  # an unknown key under calibration or battery
        raise cal.CalibrationError(f"calibration/battery settings: {err}; see sim/conf/calibrate.yaml for the "
                                   "keys") from None
    if cfg.workers < 1:
        raise cal.CalibrationError(f"workers={cfg.workers!r}: must be a whole number >= 1")
    name = cfg.name or time.strftime("%Y-%m-%d_%H-%M-%S")
    folder = Path(cfg.results_root) / "calibration" / str(name)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
    print(f"calibrating {len(dims)} inputs against {sum(t.role == 'calibrate' for t in targets)} targets "
          f"({settings.battery.scenarios()} runs per constant set) into {folder}", flush=True)
    start = time.perf_counter()
    result = cal.history_match(targets, dims, settings, folder, workers=int(cfg.workers),
                               log=lambda line: print(line, flush=True))
    cal.write_diagnostics(folder, result, targets, dims, settings)
    summary = result["summary"]
    print(f"{summary['runs']} constant sets simulated in {time.perf_counter() - start:.0f} s; "
          f"final non-implausible share {summary['final_nroy_share']:.4f}; {summary['members']} ensemble members")
    if summary.get("conflict"):
        print(f"error: {summary['conflict']}", file=sys.stderr, flush=True)
        sys.exit(2)
    if cfg.ship:
        print(f"shipped: {cal.ship(result, targets_file, targets, dims, settings)}")
    print(f"results: {folder}")


def cli() -> None:
    command(main)


if __name__ == "__main__":
    cli()
