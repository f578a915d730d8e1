"""The sensitivity study and scenario discovery (the main job; Hydra entry point).

    python experiments/sensitivity.py                 # default study
    python experiments/sensitivity.py study=full      # publication-grade sizes
    python experiments/sensitivity.py name=mine       # rerun the same command to resume it if interrupted
    python experiments/sensitivity.py --help
"""

from __future__ import annotations

import sys

import hydra
from omegaconf import DictConfig

from sim.conf import SEARCH_PATH, directory
from sim.report.command import run, validate
from sim.sweeps.cli import command, config_checker, task
from sim.sweeps.config import register_sensitivity

register_sensitivity()


# the configs ship inside the package (pkg://sim.conf): the same from a checkout or an installed package
@hydra.main(version_base="1.3", config_path=SEARCH_PATH, config_name="sensitivity")
@task
def main(cfg: DictConfig) -> None:
    folder, result = run(cfg)
    print(f"\nresults: {folder}")
    if cfg.report and not result.get("report_error"):
        print(f"report:  {folder / 'report.html'}  and  {folder / 'report.pdf'}")
    print("most influential for " + cfg.study.outcomes[0] + " (total Sobol index, 95% CI):")
    for row in result["top"]:
        print(f"  {row['parameter']:<26} ST = {row['ST']:.3f} ± {row['ST_conf']:.3f}")
    print("timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in result["timings"].items()))
    if result.get("report_error"):
        print(f"error: {result['report_error']}", file=sys.stderr, flush=True)
        sys.exit(result.get("report_exit", 3))  # 3 only for a full disk


def cli() -> None:
    command(main, config_checker(directory(), "sensitivity", validate))


if __name__ == "__main__":
    cli()
