"""What ``experiments/run.py`` does with a composed Hydra config (the entry script stays thin).

A run validates everything before it starts, skips work whose complete results already exist (so an
interrupted sweep resumes by rerunning the same command), and writes its folder atomically.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from omegaconf import DictConfig, OmegaConf

from sim.config import params_from_config
from sim.paired import paired_outcomes, plot_paired, summarise
from sim.params import Params
from sim.results import (
    atomic_folder,
    check_writable,
    is_complete,
    manifest,
    remove_stale_temporaries,
    write_json,
)
from sim.rows import chunk_bounds, read_rows, run_chunk


class ConfigError(ValueError):
    """A run's configuration is invalid; the message names the key, the value and what is allowed."""


@dataclass
class Outcome:
    folder: Path
    skipped: bool
    summary: pd.DataFrame | None = None


def validate(cfg: DictConfig) -> Params:
    """Check a run config before any work starts; returns the scenario's validated Params."""
    try:
        params = params_from_config(cfg.params)
    except (TypeError, ValueError) as err:
        raise ConfigError(str(err).replace("Params.", "params.")) from None
    for key, low in (("seeds", 1), ("workers", 1)):
        value = cfg[key]
        if not isinstance(value, int) or value < low:
            raise ConfigError(f"{key}={value!r}: must be an integer >= {low}")
    if cfg.first_seed < 0:
        raise ConfigError(f"first_seed={cfg.first_seed!r}: must be a non-negative integer")
    if cfg.steps is not None and cfg.steps < 1:
        raise ConfigError(f"steps={cfg.steps!r}: must be an integer >= 1 or null (the horizon)")
    kind = cfg.experiment.kind
    if kind not in ("paired", "rows"):
        raise ConfigError(f"experiment.kind={kind!r}: must be 'paired' or 'rows'")
    if cfg.experiment.keep not in ("all", "last"):
        raise ConfigError(f"experiment.keep={cfg.experiment.keep!r}: must be 'all' or 'last'")
    try:
        check_writable(cfg.results_root)
        if kind == "rows":
            chunk_bounds(0, cfg.experiment.n_chunks, cfg.experiment.chunk)
    except ValueError as err:
        raise ConfigError(str(err)) from None
    return params


def run_folder(cfg: DictConfig, override_dirname: str) -> Path:
    """Where a run's results go: ``<results_root>/<name>/<overrides or 'base'>``; the same command gives
    the same folder, which is what lets a rerun skip finished work."""
    return Path(cfg.results_root) / cfg.name / (override_dirname or "base")


def run(cfg: DictConfig, override_dirname: str = "", overrides: list[str] | None = None) -> Outcome:
    """Run the configured experiment; see :mod:`sim.runner`."""
    params = validate(cfg)
    if cfg.experiment.kind == "rows":
        return _run_rows(cfg)
    folder = run_folder(cfg, override_dirname)
    if is_complete(folder):
        return Outcome(folder, skipped=True, summary=pd.read_csv(folder / "summary.csv"))
    remove_stale_temporaries(folder)
    seeds = list(range(cfg.first_seed, cfg.first_seed + cfg.seeds))
    started = time.perf_counter()
    keep = "last" if cfg.experiment.keep == "last" else None
    frame = paired_outcomes(params, seeds, cfg.steps, workers=cfg.workers, keep=keep,
                            progress=sys.stderr.isatty())
    simulated = time.perf_counter() - started
    summary = summarise(frame)
    with atomic_folder(folder) as tmp:
        frame.to_parquet(tmp / "outcomes.parquet", index=False)
        summary.to_csv(tmp / "summary.csv", index=False)
        if frame["step"].nunique() > 1:
            plot_paired(frame, tmp / "figure.png", title=_title(cfg))
        (tmp / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
        write_json(tmp / "manifest.json", manifest(
            seeds=seeds, timings={"simulate": simulated, "total": time.perf_counter() - started},
            scenario=_scenario_name(cfg), description=cfg.description, overrides=overrides or [],
            scenarios_run=len(seeds) * 2))
    return Outcome(folder, skipped=False, summary=summary)


def _run_rows(cfg: DictConfig) -> Outcome:
    rows = read_rows(cfg.experiment.rows_file)
    folder = Path(cfg.results_root) / cfg.name
    started = time.perf_counter()
    keep = "last" if cfg.experiment.keep == "last" else None
    path, ran = run_chunk(rows, folder, cfg.experiment.n_chunks, cfg.experiment.chunk, steps=cfg.steps,
                          keep=keep, workers=cfg.workers, progress=sys.stderr.isatty())
    if ran:
        (folder / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
        write_json(path.with_suffix(".manifest.json"), manifest(
            seeds=rows["seed"].to_numpy(), timings={"total": time.perf_counter() - started},
            rows_file=str(cfg.experiment.rows_file), chunk=cfg.experiment.chunk, n_chunks=cfg.experiment.n_chunks))
    return Outcome(path, skipped=not ran)


def _scenario_name(cfg: DictConfig) -> str:
    try:
        from hydra.core.hydra_config import HydraConfig

        return HydraConfig.get().runtime.choices.get("scenario", "")
    except (ImportError, ValueError):
        return ""


def _title(cfg: DictConfig) -> str:
    name = _scenario_name(cfg)
    return f"{name}: {cfg.description}" if name else str(cfg.description)


def screen_summary(outcome: Outcome, headline: tuple[str, ...] = ("fragmentation", "access", "needs_met",
                                                                    "experience", "value")) -> str:
    """A one-screen summary of a paired run: end-of-horizon means and the alliance's effect."""
    lines = [f"results: {outcome.folder}" + ("  (already complete: skipped)" if outcome.skipped else "")]
    if outcome.summary is None:
        return lines[0]
    s = outcome.summary.set_index("outcome")
    step = int(s["step"].iloc[0])
    lines.append(f"month {step}, {int(s['n_seeds'].iloc[0])} seeds per mode, mean [95% interval]")
    lines.append(f"{'outcome':<16}{'alliance':>22}{'traditional':>22}{'alliance - trad.':>26}")
    for name in headline:
        r = s.loc[name]
        cells = [f"{r[f'{k}_mean']:.3f} [{r[f'{k}_low']:.3f}, {r[f'{k}_high']:.3f}]"
                 for k in ("alliance", "traditional", "difference")]
        lines.append(f"{name:<16}{cells[0]:>22}{cells[1]:>22}{cells[2]:>26}")
    return "\n".join(lines)


def collect(folder: str | Path) -> tuple[Path, pd.DataFrame]:
    """Merge a sweep into one table: the chunks of a row sweep, or every complete paired run below
    ``folder`` (with a ``run`` column naming its overrides). Writes ``merged.parquet`` (and, for paired
    runs, ``merged_summary.csv``) into ``folder`` and returns its path and the table."""
    from sim.results import atomic_write_bytes
    from sim.rows import merge

    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError(f"{str(folder)!r}: no such results folder")
    if any(folder.glob("chunk-*-of-*.parquet")):
        table = merge(folder)
    else:
        runs = sorted(p for p in folder.iterdir() if p.is_dir() and is_complete(p))
        if not runs:
            raise ConfigError(f"{str(folder)!r}: no complete runs (folders with manifest.json) to collect")
        table = pd.concat([pd.read_parquet(r / "outcomes.parquet").assign(run=r.name) for r in runs],
                          ignore_index=True)
        summaries = pd.concat([pd.read_csv(r / "summary.csv").assign(run=r.name) for r in runs], ignore_index=True)
        atomic_write_bytes(folder / "merged_summary.csv", lambda tmp: summaries.to_csv(tmp, index=False))
    target = folder / "merged.parquet"
    atomic_write_bytes(target, lambda tmp: table.to_parquet(tmp, index=False))
    return target, table
