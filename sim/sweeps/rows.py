"""Large sweeps over a table of parameter rows, split into chunk jobs that can run anywhere.

A row table (one column per parameter, optional ``seed``) is split into ``n_chunks`` contiguous
chunks; each chunk job writes ``chunk-KKKKK-of-NNNNN.parquet`` atomically, and :func:`merge` joins
whatever chunks exist into one table ordered by row. Because a scenario's result does not depend on
what else runs with it, the merged table is identical whatever the split, worker count or machine.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.model.core import scenario_table, simulate, tidy
from sim.params import Params
from sim.runtime.temporaries import atomic_write_bytes, remove_stale_temporaries, write_json
from sim.sweeps.integrity import file_record


def read_rows(path: str | os.PathLike | None) -> pd.DataFrame:
    """Read a parameter-row table from CSV or Parquet; seeds default to the row number.

    Raises ``ValueError`` naming ``experiment.rows_file``, the value and what is wrong (missing, empty,
    unreadable, duplicate row ids)."""
    key = "experiment.rows_file"
    if path is None or str(path).strip() in ("", "???"):
        raise ValueError(f"{key}={path!r}: required for experiment=rows; give a CSV or Parquet table with one "
                         "column per parameter (and optionally seed)")
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{key}={str(path)!r}: no such file")
    try:
        frame = pd.read_parquet(path) if path.suffix in (".parquet", ".pq") else pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise ValueError(f"{key}={str(path)!r}: the file is empty; give a header row and at least one row") from None
    except Exception as err:  # pyarrow and the CSV parser raise many types; all mean "cannot read it"
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ValueError(f"{key}={str(path)!r}: cannot be read as "
                         f"{'Parquet' if path.suffix in ('.parquet', '.pq') else 'CSV'} ({first})") from None
    names = _header(path) if path.suffix not in (".parquet", ".pq") else [str(c) for c in frame.columns]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"{key}={str(path)!r}: column {repeated[0]!r} appears {names.count(repeated[0])} times; "
                         "give each parameter once")
    if len(frame) == 0:
        raise ValueError(f"{key}={str(path)!r}: has no rows; give at least one parameter row")
    if "row" in frame.columns:
        if frame["row"].duplicated().any() or frame["row"].isna().any():
            raise ValueError(f"{key}={str(path)!r}: column 'row' must hold distinct row ids")
        frame = frame.set_index("row")
    else:
        frame.index = pd.RangeIndex(len(frame), name="row")
    if "seed" not in frame.columns:
        frame["seed"] = frame.index.to_numpy()
    return frame


def _header(path: Path) -> list[str]:
    """A CSV file's column names as written (pandas renames a repeated one ``name.1``)."""
    import csv

    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        return [name.strip() for name in next(csv.reader(f), [])]


def with_base(rows: pd.DataFrame, base: Params) -> pd.DataFrame:
    """The row table with every parameter it does not set taken from ``base`` (the run's scenario and
    ``params.*`` overrides); the rows file's own columns win."""
    out = rows.copy()
    for name, value in base.to_dict().items():
        if name not in out.columns:
            out[name] = ",".join(value) if isinstance(value, tuple) else value  # e.g. disabled
    return out


def check_rows(rows: pd.DataFrame, path: str | os.PathLike) -> None:
    """Validate every row before any chunk runs (the same checks as :func:`sim.model.core.simulate`)."""
    try:
        scenario_table(rows.drop(columns=["seed"]), rows["seed"].to_numpy())
    except (TypeError, ValueError) as err:
        raise ValueError(f"experiment.rows_file={str(path)!r}: {err}") from None


def tidy_last(params: pd.DataFrame, seeds: np.ndarray, steps: int | None, *, workers: int = 1,
              progress: Any = False) -> pd.DataFrame:
    """Tidy end-of-run rows in input order. With ``steps=None`` each scenario ends at its own horizon
    (a table of mixed horizons otherwise gives NaN for every scenario shorter than the longest)."""
    seeds = np.asarray(seeds)
    if steps is not None or "horizon" not in params.columns or params["horizon"].nunique() <= 1:
        return tidy(simulate(params, seeds, steps, workers=workers, keep="last", progress=progress))
    horizons = pd.to_numeric(params["horizon"], errors="coerce").to_numpy()
    if np.isnan(horizons).any():  # let simulate name the bad value
        return tidy(simulate(params, seeds, steps, workers=workers, keep="last", progress=progress))
    parts = []
    for h in np.unique(horizons):
        idx = np.flatnonzero(horizons == h)
        part = tidy(simulate(params.iloc[idx], seeds[idx], int(h), workers=workers, keep="last",
                             progress=progress))
        part["scenario"] = idx[part["scenario"].to_numpy()]
        parts.append(part)
    return pd.concat(parts, ignore_index=True).sort_values("scenario", kind="stable").reset_index(drop=True)


def chunk_bounds(n_rows: int, n_chunks: int, chunk: int) -> tuple[int, int]:
    """Row range [start, stop) of chunk ``chunk`` of ``n_chunks`` (sizes differ by at most one)."""
    if n_chunks < 1:
        raise ValueError(f"experiment.n_chunks={n_chunks}: must be >= 1")
    if not 0 <= chunk < n_chunks:
        raise ValueError(f"experiment.chunk={chunk}: must be in [0, {n_chunks - 1}] for n_chunks={n_chunks}")
    edges = np.linspace(0, n_rows, n_chunks + 1).round().astype(int)
    return int(edges[chunk]), int(edges[chunk + 1])


def chunk_path(folder: str | os.PathLike, n_chunks: int, chunk: int) -> Path:
    return Path(folder) / f"chunk-{chunk:05d}-of-{n_chunks:05d}.parquet"


def chunk_manifest_path(target: str | os.PathLike) -> Path:
    return Path(target).with_suffix(".manifest.json")


def run_chunk(rows: pd.DataFrame, folder: str | os.PathLike, n_chunks: int, chunk: int, *,
              steps: int | None = None, keep: str | None = "last", workers: int = 1,
              progress: bool = False, record: dict | None = None) -> tuple[Path, bool]:
    """Run one chunk of a row table into ``folder``; skips it (returns False) if already written.

    ``record`` (the chunk's manifest, with its identity) is written before the chunk file is renamed
    into place, so a chunk file that exists always has the record of what made it."""
    target = chunk_path(folder, n_chunks, chunk)
    if target.is_file():
        return target, False
    remove_stale_temporaries(target)
    started = time.perf_counter()
    start, stop = chunk_bounds(len(rows), n_chunks, chunk)
    # more chunks than rows: this chunk is empty, an empty table of the sweep's columns (from one row's run)
    part = rows.iloc[start:stop] if stop > start else rows.iloc[:1]
    params = part.drop(columns=["seed"])
    seeds = part["seed"].to_numpy()
    if keep == "last":
        frame = tidy_last(params, seeds, steps, workers=workers, progress=progress)
    else:
        frame = tidy(simulate(params, seeds, steps, workers=workers, keep=keep, progress=progress))
    frame["scenario"] = part.index.to_numpy()[frame["scenario"].to_numpy()]  # global row ids
    frame = frame.rename(columns={"scenario": "row"})
    if stop == start:
        frame = frame.iloc[:0]
    Path(folder).mkdir(parents=True, exist_ok=True)

    def write(tmp: Path) -> None:
        frame.to_parquet(tmp, index=False)
        if record is not None:  # its record, with the file's digest, before the file is renamed into place
            timings = {**record.get("timings_seconds", {}), "simulate": round(time.perf_counter() - started, 4)}
            write_json(chunk_manifest_path(target), {**record, "timings_seconds": timings,
                                                     "files": {target.name: file_record(tmp, target.name)}})

    atomic_write_bytes(target, write)
    return target, True


def run_chunk_file(rows_file: str | os.PathLike, folder: str | os.PathLike, n_chunks: int, chunk: int,
                   steps: int | None = None, workers: int = 1) -> Path:
    """One chunk job of a row table file, end-of-run rows only: what ``experiment=rows`` runs for one
    ``experiment.chunk``, as a package function that launchers call (:mod:`sim.sweeps.dispatch`)."""
    rows = with_base(read_rows(rows_file), Params())
    check_rows(rows, rows_file)
    path, _ = run_chunk(rows, folder, n_chunks, chunk, steps=steps, keep="last", workers=workers)
    return path


def merge(folder: str | os.PathLike) -> pd.DataFrame:
    """Join all chunk files of a row sweep into one table ordered by row and step."""
    files = sorted(Path(folder).glob("chunk-*-of-*.parquet"))
    if not files:
        raise ValueError(f"{str(folder)!r}: no chunk files (chunk-*-of-*.parquet) to merge")
    frame = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    return frame.sort_values(["row", "step"], kind="stable").reset_index(drop=True)
