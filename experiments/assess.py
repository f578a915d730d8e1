"""Would an alliance work here? A two-page brief for one locality (Hydra entry point).

    python experiments/assess.py                                    # the example council (sim/conf/localities/)
    python experiments/assess.py context=our_context.yaml name=ours # your own context values

Writes results/assess/<name>/brief.html and brief.pdf, with the numbers behind them (assessment.json,
sensitivity.csv, levers.csv). sim/analysis/assess.py explains what is computed.
"""

from __future__ import annotations

import time
from pathlib import Path

import hydra
from omegaconf import DictConfig, OmegaConf

from sim.conf import SEARCH_PATH, directory
from sim.sweeps.cli import command, task


@hydra.main(version_base="1.3", config_path=SEARCH_PATH, config_name="assess")
@task
def main(cfg: DictConfig) -> None:
    from sim.analysis import assess as a
    from sim.analysis.model_uncertainty import study_members
    from sim.report.brief import fragmented, write_brief
    from sim.runtime.errors import ConfigError

    start = time.perf_counter()
    preset = directory() / "localities" / f"{cfg.context}.yaml"
    path = preset if preset.exists() else Path(str(cfg.context))
    if not path.exists():
        presets = ", ".join(p.stem for p in sorted((directory() / "localities").glob("*.yaml")))
        raise ConfigError(f"context={cfg.context!r}: neither a preset ({presets}) nor a file")
    given = a.load_context(path)
    for key in ("members", "seeds", "sensitivity_members", "sensitivity_seeds", "workers"):
        value = cfg[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{key}={value!r}: must be a whole number >= 1")
    members, _ = study_members(cfg.ensemble, ConfigError)
    result = a.assess(given, members, members=cfg.members, seeds=cfg.seeds,
                      sensitivity_members=cfg.sensitivity_members, sensitivity_seeds=cfg.sensitivity_seeds,
                      workers=cfg.workers)
    name = str(cfg.name or path.stem)
    folder = Path(cfg.results_root) / "assess" / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
    html_path, pdf_path = write_brief(result, folder, name.replace("_", " "))
    five = result.reduction["5 years"]
    spread = (f"from {fragmented(five['low'])} to {fragmented(five['high'])} over the members" if result.members > 1
              else "one constant set")
    print(f"{name}: care {fragmented(five['mean'])} after five years ({spread}), alliance worse in "
          f"{100 * result.chance_worse:.0f}% of futures; {result.ensemble}")
    print(f"brief: {html_path} and {pdf_path} ({time.perf_counter() - start:.0f} s)")


def cli() -> None:
    command(main)


if __name__ == "__main__":
    cli()
