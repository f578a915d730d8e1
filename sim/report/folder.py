"""A complete study folder, read for the report: its config, manifest (checked against the files) and tables."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from sim.analysis.sensitivity import DEFAULT_ROLES, study_bounds, theory_group
from sim.analysis.study_run import REPORT_FILES
from sim.params import Params
from sim.report.words import KIND_NAMES, THEORY_NAMES, param_label
from sim.runtime.errors import ReportError
from sim.sweeps.integrity import verify

__all__ = ["Study", "REQUIRED"]



REQUIRED = ("config.yaml", "manifest.json", "sobol.csv", "convergence.csv", "noise.csv", "prim_stats.csv",
            "prim_boxes.csv", "ablation.csv", "heatmap.csv", "timeseries.parquet")


# ------------------------------------------------------------------------------------------------
# The study folder
# ------------------------------------------------------------------------------------------------
@dataclass
class Study:
    """A complete study folder and what the report needs from it, read lazily."""

    folder: Path
    config: dict[str, Any]
    manifest: dict[str, Any]
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def open(cls, folder: str | Path) -> Study:
        folder = Path(folder)
        if not folder.is_dir():
            raise ReportError(f"{folder}: not a folder; give a study folder such as results/sensitivity/<name>")
        missing = [name for name in REQUIRED if not (folder / name).is_file()]
        if missing:
            raise ReportError(f"{folder}: not a complete sensitivity study (missing {', '.join(missing)}); "
                              "run `python experiments/sensitivity.py` to make one")
        try:
            config = yaml.safe_load((folder / "config.yaml").read_text()) or {}
            manifest = json.loads((folder / "manifest.json").read_text())
        except (OSError, ValueError, yaml.YAMLError) as err:
            raise ReportError(f"{folder}: config.yaml or manifest.json cannot be read ({first_line(err)}); "
                              "the study folder is damaged; rerun the study") from None
        if not isinstance(config, dict) or "study" not in config or "params" not in config:
            raise ReportError(f"{folder / 'config.yaml'}: has no study/params section; not a sensitivity study")
        manifest = manifest if isinstance(manifest, dict) else {}
        remake = (f"remake the study with: {manifest['command']} force=true" if manifest.get("command") else
                  "remake the study (its command with force=true)")
        files = manifest.get("files") or {}
        # the report is what we rewrite; an optional table that is gone only leaves its section out
        absent = [name for name in files if not (folder / name).exists()]
        verify(folder, files, remake, skip=[*REPORT_FILES, *absent])
        return cls(folder, config, manifest)

    def _read(self, name: str, reader) -> pd.DataFrame | None:
        if name not in self._cache:
            path = self.folder / name
            try:
                self._cache[name] = reader(path) if path.is_file() else None
            except Exception as err:  # noqa: BLE001 - pandas/pyarrow raise many types for a damaged file
                raise ReportError(f"{path}: cannot be read ({first_line(err)}); the study folder is damaged; "
                                  "rerun the study") from None
        return self._cache[name]

    def csv(self, name: str) -> pd.DataFrame | None:
        return self._read(name, pd.read_csv)

    def parquet(self, name: str) -> pd.DataFrame | None:
        return self._read(name, pd.read_parquet)

    @property
    def study(self) -> dict[str, Any]:
        return self.config["study"]

    @property
    def outcomes(self) -> list[str]:
        return list(self.study["outcomes"])

    @property
    def primary(self) -> str:
        return self.outcomes[0]

    @property
    def base(self) -> dict[str, Any]:
        return self.config["params"]

    @cached_property
    def bounds(self) -> dict[str, tuple[float, float]]:
        """The ranges the study actually sampled (the schema's, narrowed by the config)."""
        return study_bounds(list(self.study.get("parameters") or []), dict(self.study.get("narrow") or {}),
                            list(self.study.get("roles") or DEFAULT_ROLES))

    @cached_property
    def n_max(self) -> int:
        return int(self.csv("sobol.csv")["N"].max())

    @cached_property
    def kept(self) -> list[str]:
        table = self.csv("sobol.csv")
        return list(dict.fromkeys(table["parameter"]))

    def sobol(self, outcome: str, n: int | None = None) -> pd.DataFrame:
        """Sobol indices of ``outcome`` at ``n`` (default the largest N), ranked by ST, with clipped intervals."""
        table = self.csv("sobol.csv")
        n = self.n_max if n is None else n
        rows = table[(table["outcome"] == outcome) & (table["N"] == n)].sort_values("ST", ascending=False)
        rows = rows.reset_index(drop=True).copy()
        # Indices are shares of variance: show their intervals inside [0, 1].
        rows["ST_low"] = (rows["ST"] - rows["ST_conf"]).clip(0, 1)
        rows["ST_high"] = (rows["ST"] + rows["ST_conf"]).clip(0, 1)
        rows["S1_low"] = (rows["S1"] - rows["S1_conf"]).clip(0, 1)
        rows["S1_high"] = (rows["S1"] + rows["S1_conf"]).clip(0, 1)
        return rows


def _kind(name: str) -> str:
    return "dummy" if name == "dummy" else Params.spec(name).group


def factor_record(name: str, row: pd.Series | dict) -> dict[str, Any]:
    r = dict(row)
    r.update(parameter=name, label=param_label(name), kind=_kind(name), kind_label=KIND_NAMES.get(_kind(name), ""),
             theory=theory_group(name), theory_label=THEORY_NAMES[theory_group(name)])
    return r




def first_line(err: BaseException) -> str:
    text = str(err).strip()
    return f"{type(err).__name__}: {text.splitlines()[0]}" if text else type(err).__name__


