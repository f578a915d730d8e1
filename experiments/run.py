"""Run a scenario under alliance and traditional commissioning, paired by seed (Hydra entry point).

    python experiments/run.py scenario=austerity params.initial_trust=0.2 seeds=50
    python experiments/run.py -m scenario=default,austerity params.n_providers=5,10,20
    python experiments/run.py --help
"""

from __future__ import annotations

import sys

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from sim.config import register
from sim.runner import ConfigError, run, screen_summary

register()


@hydra.main(version_base="1.3", config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> None:
    job = HydraConfig.get().job
    try:
        outcome = run(cfg, job.override_dirname, list(HydraConfig.get().overrides.task))
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    print(screen_summary(outcome))


if __name__ == "__main__":
    main()
