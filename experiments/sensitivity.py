"""The sensitivity study and scenario discovery (the main job; Hydra entry point).

    python experiments/sensitivity.py                 # default study
    python experiments/sensitivity.py study=full      # publication-grade sizes
    python experiments/sensitivity.py --help
"""

from __future__ import annotations

import sys

import hydra
from omegaconf import DictConfig

from sim.config import register_sensitivity
from sim.sensitivity_run import run
from sim.study import StudyError

register_sensitivity()


@hydra.main(version_base="1.3", config_path="../conf", config_name="sensitivity")
def main(cfg: DictConfig) -> None:
    try:
        folder, result = run(cfg, log=lambda m: print(m, flush=True))
    except StudyError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    print(f"\nresults: {folder}")
    if cfg.report:
        print(f"report:  {folder / 'report.html'}  and  {folder / 'report.pdf'}")
    print("most influential for " + cfg.study.outcomes[0] + " (total Sobol index, 95% CI):")
    for row in result["top"]:
        print(f"  {row['parameter']:<26} ST = {row['ST']:.3f} ± {row['ST_conf']:.3f}")
    print("timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in result["timings"].items()))


if __name__ == "__main__":
    main()
