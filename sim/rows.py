"""Large sweeps over a table of parameter rows, split into chunk jobs that can run anywhere.

A row table (one column per parameter, optional ``seed``) is split into ``n_chunks`` contiguous
chunks; each chunk job writes ``chunk-KKKKK-of-NNNNN.parquet`` atomically, and :func:`merge` joins
whatever chunks exist into one table ordered by row. Because a scenario's result does not depend on
what else runs with it, the merged table is identical whatever the split, worker count or machine.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from sim.core import simulate, tidy
from sim.results import atomic_write_bytes, remove_stale_temporaries


def read_rows(path: str | os.PathLike) -> pd.DataFrame:
    """Read a parameter-row table from CSV or Parquet; seeds default to the row number."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"experiment.rows_file={str(path)!r}: no such file")
    frame = pd.read_parquet(path) if path.suffix in (".parquet", ".pq") else pd.read_csv(path)
    if "row" in frame.columns:
        frame = frame.set_index("row")
    else:
        frame.index = pd.RangeIndex(len(frame), name="row")
    if "seed" not in frame.columns:
        frame["seed"] = frame.index.to_numpy()
    return frame


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


def run_chunk(rows: pd.DataFrame, folder: str | os.PathLike, n_chunks: int, chunk: int, *,
              steps: int | None = None, keep: str | None = "last", workers: int = 1,
              progress: bool = False) -> tuple[Path, bool]:
    """Run one chunk of a row table into ``folder``; skips it (returns False) if already written."""
    target = chunk_path(folder, n_chunks, chunk)
    if target.is_file():
        return target, False
    remove_stale_temporaries(target)
    start, stop = chunk_bounds(len(rows), n_chunks, chunk)
    part = rows.iloc[start:stop]
    params = part.drop(columns=["seed"])
    frame = tidy(simulate(params, part["seed"].to_numpy(), steps, workers=workers, keep=keep, progress=progress))
    frame["scenario"] = part.index.to_numpy()[frame["scenario"].to_numpy()]  # global row ids
    frame = frame.rename(columns={"scenario": "row"})
    Path(folder).mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(target, lambda tmp: frame.to_parquet(tmp, index=False))
    return target, True


def merge(folder: str | os.PathLike) -> pd.DataFrame:
    """Join all chunk files of a row sweep into one table ordered by row and step."""
    files = sorted(Path(folder).glob("chunk-*-of-*.parquet"))
    if not files:
        raise ValueError(f"{str(folder)!r}: no chunk files (chunk-*-of-*.parquet) to merge")
    frame = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    return frame.sort_values(["row", "step"], kind="stable").reset_index(drop=True)
