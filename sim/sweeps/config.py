"""Hydra structured configs generated from the one parameter schema.

``ParamsConfig`` is built field by field from :meth:`sim.Params.schema`, so Hydra itself rejects
unknown keys and wrong types; ranges are checked when the config becomes a :class:`Params`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf

from sim.params import Params

__all__ = ["ParamsConfig", "ExperimentConfig", "RunConfig", "register", "params_from_config"]


def _params_config() -> type:
    fields = []
    for s in Params.schema():
        if s.name in ("disabled", "events"):
            fields.append((s.name, list[str], field(default_factory=list)))
        elif s.name == "constants":
            # 'params.constants={effort_slope: 5.0}' (None, not an empty dict: Hydra adds no key to a struct
            # node); names, ranges and joint constraints are checked by Params
            fields.append((s.name, Any, field(default=None)))
        else:
            fields.append((s.name, s.type, field(default=s.default)))
    cls = dataclasses.make_dataclass("ParamsConfig", fields)
    cls.__doc__ = "Every model parameter, typed and defaulted from sim.Params.schema()."
    return cls


ParamsConfig = _params_config()


@dataclass
class ExperimentConfig:
    """What a run does. ``paired``: the scenario for ``seeds`` seeds under both commissioning modes.
    ``rows``: every row of a parameter table (``rows_file``, CSV or Parquet, one column per parameter
    plus optional ``seed``), split into ``n_chunks`` chunk jobs of which this job runs ``chunk``."""

    kind: str = "paired"
    rows_file: str | None = None
    n_chunks: int = 1
    chunk: int = 0
    keep: str = "all"  # "all" steps or only the "last"


@dataclass
class RunConfig:
    params: ParamsConfig = field(default_factory=ParamsConfig)  # type: ignore[valid-type]
    experiment: ExperimentConfig = field(default_factory=ExperimentConfig)
    description: str = ""
    seeds: int = 20
    first_seed: int = 0
    steps: int | None = None
    workers: int = 1
    name: str = "runs"
    results_root: str = "results"
    force: bool = False  # replace finished results made by different inputs (otherwise refused)
    figure: bool = True  # a paired run's figure.png (false: about a second less per run; same tables)


def register() -> None:
    """Register the structured configs with Hydra's ConfigStore (call before ``@hydra.main``)."""
    cs = ConfigStore.instance()
    cs.store(name="run_schema", node=RunConfig)
    # run.py --help lists its own groups (the search path also holds sensitivity.py's `study`)
    OmegaConf.register_new_resolver("run_groups", run_groups, replace=True)


def run_groups() -> str:
    """The config groups of ``experiments/run.py`` and their options, one line each, for its ``--help``."""
    from sim.conf import directory
    from sim.sweeps.cli import launcher_names

    def options(group: str) -> str:
        return ", ".join(sorted(p.stem for p in (directory() / group).glob("*.yaml")))

    return (f"scenario: {options('scenario')}   (presets: sim/conf/scenario/*.yaml)\n"
            f"experiment: {options('experiment')}\n"
            f"hydra/launcher: {', '.join(launcher_names())}")


def params_from_config(node: DictConfig | dict) -> Params:
    """A validated :class:`Params` from a config node (raises with the field, value and what is allowed)."""
    values = OmegaConf.to_container(node, resolve=True) if isinstance(node, DictConfig) else dict(node)
    if values.get("constants") is None:
        values["constants"] = ()
    return Params.from_dict(values)


@dataclass
class StudyConfig:
    """Sizes and choices of a sensitivity study (see docs and sim/conf/study/*.yaml)."""

    parameters: list[str] = field(default_factory=list)  # empty: every numeric parameter of `roles`
    # the schema's roles the study varies when `parameters` is empty (context, lever, mechanism, scale);
    # mechanism parameters and constants are otherwise model uncertainty, drawn from `ensemble`
    roles: list[str] = field(default_factory=lambda: ["context", "lever"])
    # model uncertainty: "shipped" (the calibrated ensemble of sim/conf/calibration/, or the registry's constants
    # if none ships), "none" (the registry's constants), or the path of an ensemble CSV
    ensemble: str = "shipped"
    robustness_members: int = 100  # members whose own effects give each factor's robustness
    robustness_seeds: int = 2
    failure_margin: float = 0.01  # "the alliance did worse": its effect below -margin (fragmentation; value: < 0)
    resilience: list[str] = field(default_factory=lambda: ["leadership_turnover", "budget_shock",
                                                           "pandemic_surge"])  # event presets (sim/conf/scenario)
    resilience_seeds: int = 4
    resilience_members: int = 20
    # shrink a schema range: study.narrow.<name>=[low,high]; every numeric parameter is listed (null: its
    # schema range) so the override needs no "+"
    narrow: dict[str, list[float] | None] = field(
        default_factory=lambda: dict.fromkeys(Params.numeric_names()))
    outcomes: list[str] = field(default_factory=lambda: ["fragmentation_reduction", "access_gain",
                                                         "experience_gain", "value_gain"])
    morris: bool = True
    morris_trajectories: int = 20
    morris_levels: int = 4
    keep: int = 8  # at most this many parameters, above the dummy's noise floor, go on to Sobol
    sobol_n: int = 1024
    second_order: bool = False
    grouped: bool = True  # also a Sobol analysis by middle-range theory (A, B, C, other)
    replicates: int = 4
    prim_threshold: float = 0.1  # "fragmentation reduced by at least X"
    prim_boxes: int = 2
    discovery_n: int = 1024
    ablation_contexts: int = 32
    heatmap_points: int = 9
    timeseries_seeds: int = 20
    seed: int = 1
    launcher: str | None = None  # evaluate through the sweep machinery: local, submitit_local, slurm, slurm_small
    # launcher settings, as for a sweep; on the command line quote each (it holds an `=`):
    # 'study.launcher_overrides=["hydra.launcher.partition=short","hydra.launcher.cpus_per_task=8"]'.
    # On SLURM each job runs cpus_per_task workers.
    launcher_overrides: list[str] = field(default_factory=list)
    chunks: int = 4  # chunk jobs per evaluation when a launcher is set


@dataclass
class SensitivityConfig:
    params: ParamsConfig = field(default_factory=ParamsConfig)  # type: ignore[valid-type]
    study: StudyConfig = field(default_factory=StudyConfig)
    workers: int = 2
    name: str | None = None  # results/sensitivity/<name>; default: the date and time
    results_root: str = "results"
    report: bool = True
    force: bool = False  # discard a finished or interrupted study of the same name made by different inputs


def register_sensitivity() -> None:
    ConfigStore.instance().store(name="sensitivity_schema", node=SensitivityConfig)
