"""Content integrity of finished results: every finished folder lists the files it holds in its manifest,
each with its SHA-256, its size and one line on what it holds (the folder's index).

A file truncated by a crash of the storage, garbled by a copy or edited by hand then no longer matches its
record: reuse (a rerun that would skip the work), ``collect.py`` and ``report.py`` check the records first and
stop with one line naming the file and the command that remakes it, instead of reusing it, merging it or
failing deep inside a reader. Folders made before files were recorded (no ``files`` in the manifest) have
nothing to check.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from sim.runtime.errors import DamagedResults
from sim.sweeps.identity import file_sha256

#: What each file of a results folder holds (the manifest's index); one place for all folder kinds.
FILE_ROLES = {
    # a paired run (experiments/run.py)
    "outcomes.parquet": "every outcome per seed, commissioning mode and month (tidy rows)",
    "summary.csv": "end-of-horizon means with 95% intervals per mode and for alliance - traditional",
    "figure.png": "headline outcomes over time, alliance vs traditional, mean with 95% band",
    "config.yaml": "the resolved configuration that made this folder",
    # a row sweep's chunk
    "chunk": "end-of-run (or every month's) outcomes of this chunk's parameter rows, by row id",
    # collect.py
    "merged.parquet": "the sweep's tables joined, one row per scenario-step, with each run's preset and overrides",
    "merged_summary.csv": "every run's summary.csv, with its preset and overrides",
    # a sensitivity study
    "morris.csv": "Morris screening: mu*, its interval and sigma per parameter and outcome (dummy = noise floor)",
    "morris_samples.parquet": "the Morris design points with each effect's replicate values",
    "morris.png": "Morris screening plot (mu* vs sigma) of the primary outcome",
    "sobol.csv": "Sobol indices S1 and ST with 95% intervals at N/2 and N, per kept parameter and outcome",
    "noise.csv": "share of each analysed output's variance that is stochastic noise",
    "sobol_samples.parquet": "the Sobol design points with each effect's replicate values",
    "convergence.csv": "how far the Sobol indices moved from N/2 to N, and whether the ranking held",
    "sobol.png": "Sobol total and first-order indices of the primary outcome",
    "sobol_groups.csv": "Sobol indices of the middle-range theories as groups",
    "discovery_samples.parquet": "the Latin hypercube of scenario discovery with each effect's values",
    "prim_boxes.csv": "PRIM boxes: the parameter ranges where the threshold is reached",
    "prim_stats.csv": "each PRIM box's coverage, density and mass",
    "prim_trajectory.csv": "PRIM's peeling trajectory (coverage vs density)",
    "prim_tradeoff.png": "PRIM's coverage-density trade-off",
    "cart.txt": "the CART rules that cross-check PRIM, with their 5-fold accuracy",
    "cart_leaves.csv": "CART's leaves with their share of runs reaching the threshold",
    "ablation.csv": "change in each effect when a programme or middle-range theory is switched off, 95% intervals",
    "ablation.png": "the ablation's changes of the primary outcome",
    "heatmap.csv": "the primary effect over a grid of the two most influential contexts",
    "heatmap.png": "heatmap of the primary effect over the two most influential contexts",
    "timeseries.parquet": "the base scenario over time under both modes, every seed",
    "timeseries_summary.csv": "the base scenario's end-of-horizon summary (as a run's summary.csv)",
    "timeseries.png": "the base scenario over time, alliance vs traditional",
    "report.html": "the advisory-group report (self-contained HTML)",
    "report.pdf": "the advisory-group report (PDF)",
}


def describe(name: str) -> str:
    """One line on what a results file holds ('' when it is not one of ours)."""
    if name.startswith("chunk-") and name.endswith(".parquet"):
        return FILE_ROLES["chunk"]
    return FILE_ROLES.get(name, "")


def file_record(path: str | os.PathLike, name: str | None = None) -> dict[str, Any]:
    """The record of one file: its SHA-256, its size and what it holds."""
    path = Path(path)
    return {"sha256": file_sha256(path), "bytes": path.stat().st_size, "holds": describe(name or path.name)}


def file_records(folder: str | os.PathLike, exclude: Iterable[str] = ()) -> dict[str, dict[str, Any]]:
    """Records of every file directly in ``folder`` (not hidden, not ``manifest.json``, not ``exclude``)."""
    folder, skip = Path(folder), {"manifest.json", *exclude}
    return {p.name: file_record(p) for p in sorted(folder.iterdir())
            if p.is_file() and not p.name.startswith(".") and p.name not in skip}


def damaged(folder: str | os.PathLike, files: Mapping[str, Any] | None, skip: Iterable[str] = ()) -> str | None:
    """The first recorded file of ``folder`` that is missing or whose size or digest differs, described (e.g.
    ``"summary.csv (its SHA-256 differs from the one recorded when it was written)"``); None if all match."""
    folder, skip = Path(folder), set(skip)
    for name, record in sorted((files or {}).items()):
        if name in skip or not isinstance(record, Mapping):
            continue
        path = folder / name
        try:
            size = path.stat().st_size
        except OSError:
            return f"{name} (missing)"
        if record.get("bytes") is not None and size != record["bytes"]:
            return f"{name} ({size:,} bytes, {record['bytes']:,} when it was written: truncated or replaced)"
        if record.get("sha256") and file_sha256(path) != record["sha256"]:
            return f"{name} (its content differs from the SHA-256 recorded when it was written)"
    return None


def verify(folder: str | os.PathLike, files: Mapping[str, Any] | None, remedy: str, *,
           skip: Iterable[str] = (), where: str | None = None) -> None:
    """Raise :class:`DamagedResults` (one line: the file, what is wrong, ``remedy``) if a recorded file of
    ``folder`` is missing or changed."""
    bad = damaged(folder, files, skip)
    if bad:
        raise DamagedResults(f"{where or folder}: {bad} is damaged, so it is not used; {remedy}")


def rerun_command(script: str, overrides: Sequence[str], *extra: str) -> str:
    """The command line that remakes a folder: ``python experiments/<script> <overrides> <extra>``, each
    override quoted for a POSIX shell; ``extra`` replaces an override of the same key."""
    keys = {e.split("=", 1)[0] for e in extra}
    kept = [o for o in overrides if o.split("=", 1)[0] not in keys]
    return " ".join(["python", f"experiments/{script}", *(shlex.quote(a) for a in (*kept, *extra))])


def task_overrides() -> list[str]:
    """The overrides of the running Hydra job (one job of a ``-m`` sweep: its own values), or [] outside Hydra."""
    try:
        from hydra.core.hydra_config import HydraConfig

        return list(HydraConfig.get().overrides.task)
    except (ImportError, ValueError):
        return []
