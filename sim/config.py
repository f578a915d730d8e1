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
        if s.name == "disabled":
            fields.append((s.name, list[str], field(default_factory=list)))
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


def register() -> None:
    """Register the structured configs with Hydra's ConfigStore (call before ``@hydra.main``)."""
    cs = ConfigStore.instance()
    cs.store(name="run_schema", node=RunConfig)


def params_from_config(node: DictConfig | dict) -> Params:
    """A validated :class:`Params` from a config node (raises with the field, value and what is allowed)."""
    values = OmegaConf.to_container(node, resolve=True) if isinstance(node, DictConfig) else dict(node)
    return Params.from_dict(values)
