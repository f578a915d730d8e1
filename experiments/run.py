"""Run a scenario under alliance and traditional commissioning, paired by seed (Hydra entry point).

    python experiments/run.py scenario=austerity params.initial_trust=0.2 seeds=50
    python experiments/run.py -m scenario=default,austerity params.n_providers=5,10,20
    python experiments/run.py --help
"""

from __future__ import annotations

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from sim.conf import SEARCH_PATH, directory
from sim.sweeps.cli import command, config_checker, task
from sim.sweeps.config import register
from sim.sweeps.runs import preflight, run, screen_summary, sweep_folder

register()


# the configs ship inside the package (pkg://sim.conf): the same from a checkout or an installed package
@hydra.main(version_base="1.3", config_path=SEARCH_PATH, config_name="config")
@task
def main(cfg: DictConfig) -> None:
    job = HydraConfig.get().job
    outcome = run(cfg, job.override_dirname, list(HydraConfig.get().overrides.task))
    print(screen_summary(outcome))


def cli() -> None:
    command(main, config_checker(directory(), "config", preflight, sweep_folder))


if __name__ == "__main__":
    cli()
