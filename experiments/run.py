"""Run a scenario under alliance and traditional commissioning, paired by seed (Hydra entry point).

    python experiments/run.py scenario=austerity params.initial_trust=0.2 seeds=50
    python experiments/run.py -m scenario=default,austerity params.n_providers=5,10,20
    python experiments/run.py --help
"""

from __future__ import annotations

import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from sim.cli import command, config_checker, task
from sim.config import register
from sim.runner import preflight, run, screen_summary

register()
CONF = Path(__file__).resolve().parents[1] / "conf"


# an absolute config path: the same however the script is loaded (the task wrapper lives in sim/cli.py)
@hydra.main(version_base="1.3", config_path=str(CONF), config_name="config")
@task
def main(cfg: DictConfig) -> None:
    job = HydraConfig.get().job
    outcome = run(cfg, job.override_dirname, list(HydraConfig.get().overrides.task),
                  log=lambda m: print(m, file=sys.stderr, flush=True))
    print(screen_summary(outcome))


def cli() -> None:
    command(main, config_checker(CONF, "config", preflight))


if __name__ == "__main__":
    cli()
