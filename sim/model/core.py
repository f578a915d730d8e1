"""The vectorised core: the alliance model over whole batches of scenarios at once.

The same rules (:mod:`sim.model.theories`, :mod:`sim.model.relationships`, :mod:`sim.model.services`), the same
counter-based draws and the same outcomes as :class:`sim.AllianceModel`, over arrays with a leading
scenario axis. Scenarios are grouped by their numbers of providers, localities and domains and run
without padding, so a scenario's numbers never depend on what else is in its batch: they are
bit-identical alone, in any batch, with any chunk size and any number of workers.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from sim.engine.batch import MonthResult, Plan, State, Tables, month_workspace, run_scenarios
from sim.model import pathways
from sim.model.outcomes import OUTCOMES
from sim.model.setup import prepare
from sim.params import Params
from sim.params.events import check_events

__all__ = ["simulate", "simulate_to_parquet", "scenario_table", "tidy", "constants_text"]

#: Fields whose value is a sequence, not a number or a choice.
SEQUENCE_FIELDS = ("events", "disabled", "constants")

#: Target number of trust-matrix cells per chunk: bounds the arrays of a chunk's set-up (its starting world
#: and fixed tables, built in numpy over the chunk) and gives parallel runs pieces to share.
CELLS_PER_CHUNK = 100_000
#: Most months one run may simulate (about 83,000 years).
MAX_STEPS = 1_000_000
#: Fewest scenarios per chunk: below this, a chunk's fixed cost (its numpy set-up calls) outweighs its work
#: (50 providers).
MIN_CHUNK = 256


# ------------------------------------------------------------------------------------------------
# Input: a validated table of scenarios
# ------------------------------------------------------------------------------------------------
def scenario_table(params: Sequence[Params] | pd.DataFrame,
                   seeds: Sequence[int] | np.ndarray) -> pd.DataFrame:
    """Validate scenarios and seeds into one table: a column per schema field plus ``seed``.

    ``params`` is a sequence of :class:`Params` or a DataFrame with one column per schema field
    (missing columns take their defaults). Raises ``ValueError``/``TypeError`` naming the column or
    argument, the value and what is allowed, before any work starts.
    """
    if isinstance(params, pd.DataFrame):
        table = _validate_frame(params)
    elif isinstance(params, Params):
        raise TypeError("params: pass a sequence of Params (e.g. [p]) or a DataFrame, not a single Params")
    elif isinstance(params, str | bytes) or not isinstance(params, Sequence | np.ndarray):
        raise TypeError(f"params={params!r}: must be a sequence of sim.Params (e.g. [Params()]) or a DataFrame")
    else:
        params = list(params)
        bad = [i for i, p in enumerate(params) if not isinstance(p, Params)]
        if bad:
            raise TypeError(f"params[{bad[0]}]={params[bad[0]]!r}: must be a sim.Params")
        values = attrgetter(*Params.names())  # a tuple per scenario: faster than a dict each
        table = pd.DataFrame([values(p) for p in params], columns=list(Params.names()))
    if len(table) == 0:
        raise ValueError("params: no scenarios; give at least one (e.g. simulate([Params()], [0]))")
    if isinstance(seeds, str | bytes) or seeds is None:
        raise TypeError(f"seeds={seeds!r}: must be a sequence of non-negative integers, one per scenario")
    seeds = _validate_seeds(seeds)
    if len(seeds) != len(table):
        raise ValueError(f"seeds: got {len(seeds)} seeds for {len(table)} scenarios; "
                         "give one seed per scenario")
    table = table.reset_index(drop=True)
    table["seed"] = seeds
    return table


def _validate_seeds(seeds: Any) -> np.ndarray:
    arr = np.asarray(seeds)
    if arr.ndim != 1:
        raise ValueError(f"seeds: must be a one-dimensional sequence of integers, got shape {arr.shape}")
    if arr.dtype.kind == "f":
        finite = np.isfinite(arr)
        if not finite.all() or not np.all(arr == np.round(arr)):
            k = int(np.flatnonzero(~finite | (arr != np.round(np.where(finite, arr, 0))))[0])
            raise ValueError(f"seeds[{k}]={arr[k]!r}: seeds must be non-negative integers")
        arr = arr.astype(np.int64)
    if arr.dtype.kind not in "iu" or arr.dtype == bool:
        if len(arr) == 0:
            return np.zeros(0, dtype=np.uint64)
        raise TypeError(f"seeds: must be integers, got {arr.dtype} (first value {arr.flat[0]!r})")
    if arr.dtype.kind == "i" and (arr < 0).any():
        k = int(np.flatnonzero(arr < 0)[0])
        raise ValueError(f"seeds[{k}]={int(arr[k])}: seeds must be non-negative integers in [0, 2**63 - 1]")
    if arr.dtype.kind == "u" and (arr >= 2**63).any():
        k = int(np.flatnonzero(arr >= 2**63)[0])
        raise ValueError(f"seeds[{k}]={int(arr[k])}: seeds must be non-negative integers in [0, 2**63 - 1]")
    return arr.astype(np.int64)


def _validate_frame(frame: pd.DataFrame) -> pd.DataFrame:
    names = Params.names()
    repeated = frame.columns[frame.columns.duplicated()]
    if len(repeated):
        count = int((frame.columns == repeated[0]).sum())
        raise ValueError(f"params: column {repeated[0]!r} appears {count} times; give each parameter once")
    unknown = [c for c in frame.columns if c not in names and c != "seed"]
    if unknown:
        raise ValueError(f"params: unknown column {unknown[0]!r}; allowed columns: {', '.join(names)}")
    out = pd.DataFrame(index=frame.index)
    for spec in Params.schema():
        if spec.name not in frame.columns:
            out[spec.name] = [spec.default] * len(frame) if spec.name in SEQUENCE_FIELDS else spec.default
            continue
        col = frame[spec.name]
        if spec.name in ROW_CHECKS:
            out[spec.name] = _each_distinct(col.index, col, ROW_CHECKS[spec.name])
        elif spec.choices is not None:
            bad = ~col.isin(spec.choices)
            if bad.any():
                k = bad.idxmax()
                raise ValueError(f"params column {spec.name!r}, row {k}: {col[k]!r} not allowed; "
                                 f"must be {spec.describe_allowed()}")
            out[spec.name] = col.astype(object)
        else:
            out[spec.name] = _numeric_column(spec, col)
    _each_distinct(out.index, zip(out["events"], out["horizon"], strict=True), _events_fit_horizon)
    return out


def _events_fit_horizon(pair: tuple, row: Any) -> None:
    events, horizon = pair
    try:
        check_events(events, int(horizon))
    except (TypeError, ValueError) as err:
        raise ValueError(f"params column 'events', row {row}: {err}") from None


def _each_distinct(rows: Iterable, values: Iterable, function) -> list:
    """``function(value, row)`` for every row, computed once per distinct value: a study's rows share a few rule
    lists, event lists and constant sets (an ensemble member's over its points and seeds), and checking one
    builds a :class:`Params`. A value equal to one seen before but made of other types (``1`` for ``1.0``, ``True``
    for ``1``, ``-0.0`` for ``0.0``, a frozenset for a frozenset of other types) gets its own call, as does one that
    cannot be a key (a list, a mapping); missing values (None, NaN) share one key."""
    seen: dict = {}  # key -> (the value first seen, its result)
    # tuple objects already matched (rows sharing one object skip the type comparison); holding each object keeps
    # its id from being reused by another while this runs
    matched: dict[int, tuple] = {}
    out = []
    for k, v in zip(rows, values, strict=True):
        hit = matched.get(id(v))
        if hit is not None and hit[0] is v:
            out.append(hit[1])
            continue
        key = _MISSING if v is None or (isinstance(v, float) and math.isnan(v)) else v
        try:
            first, result = seen[key]
        except KeyError:
            result = function(v, k)
            seen[key] = (v, result)
        except TypeError:
            result = function(v, k)
        else:
            if first is not v and not _same_types(first, v):
                result = function(v, k)
        if type(v) is tuple:
            matched[id(v)] = (v, result)
        out.append(result)
    return out


#: The one key of every missing value (None, NaN: NaN is not equal to itself).
_MISSING = object()


def _same_types(a: Any, b: Any) -> bool:
    """Whether two equal values are made of the same types all the way down, with the same sign where a float is
    zero: only text, numbers, None and tuples of them are known to be; anything else is not (checked again)."""
    if type(a) is not type(b):
        return False
    if type(a) is tuple:
        return len(a) == len(b) and all(_same_types(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float | np.floating):
        return bool(np.signbit(a) == np.signbit(b)) or (math.isnan(a) and math.isnan(b))
    return isinstance(a, str | int | np.integer) or a is None


def _numeric_column(spec, col: pd.Series) -> pd.Series:
    values = pd.to_numeric(col, errors="coerce")
    if col.dtype == bool or values.isna().any():
        k = col.index[values.isna()][0] if values.isna().any() else col.index[0]
        raise ValueError(f"params column {spec.name!r}, row {k}: {col[k]!r} is not allowed "
                         f"(NaN or not a number); must be {spec.describe_allowed()}")
    arr = values.to_numpy(dtype=float)
    outside = (arr < spec.low) | (arr > spec.high)
    if spec.type is int:
        outside |= arr != np.round(arr)
    if outside.any():
        k = col.index[int(np.flatnonzero(outside)[0])]
        raise ValueError(f"params column {spec.name!r}, row {k}: {col[k]!r} is out of range; "
                         f"must be {spec.describe_allowed()}")
    return pd.Series(arr.astype(np.int64) if spec.type is int else arr, index=col.index)


def _events_value(value: Any, row: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = tuple(v.strip() for v in value.replace(";", ",").split(",") if v.strip())
    elif value is None or (isinstance(value, float) and math.isnan(value)):
        value = ()
    elif not isinstance(value, tuple | list | np.ndarray):
        raise ValueError(f"params column 'events', row {row}: {value!r} is not allowed; give event strings "
                         "'kind@month=value' separated by commas")
    return tuple(str(v) for v in value)


def _constants_value(value: Any, row: Any) -> tuple[tuple[str, float], ...]:
    """A row's model constants: a mapping, pairs, or the text form ``"name=value,name=value"`` of a table."""
    if isinstance(value, str):
        pairs = []
        for item in (v.strip() for v in value.split(",") if v.strip()):
            name, _, number = item.partition("=")
            try:
                pairs.append((name.strip(), float(number)))
            except ValueError:
                raise ValueError(f"params column 'constants', row {row}: {item!r} is not 'name=value' with a "
                                 "number") from None
        value = pairs
    elif value is None or (isinstance(value, float) and math.isnan(value)):
        value = ()
    try:
        return Params(constants=value).constants
    except (TypeError, ValueError) as err:
        raise ValueError(f"params column 'constants', row {row}: {err}") from None


def constants_text(constants: tuple[tuple[str, float], ...]) -> str:
    """The text form of a scenario's model constants in a table: ``"name=value,..."`` (empty: the registry's)."""
    return ",".join(f"{name}={value!r}" for name, value in constants)


def _disabled_value(value: Any, row: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = tuple(v.strip() for v in value.split(",") if v.strip())
    elif value is None or (isinstance(value, float) and math.isnan(value)):
        value = ()
    try:
        return Params(disabled=tuple(value)).disabled
    except (TypeError, ValueError) as err:
        raise ValueError(f"params column 'disabled', row {row}: {err}") from None


#: The columns checked row by row (each distinct value once): rule lists, event lists, constant sets.
ROW_CHECKS = {"disabled": _disabled_value, "events": _events_value, "constants": _constants_value}


# ------------------------------------------------------------------------------------------------
# The batched model
# ------------------------------------------------------------------------------------------------
def _columns(table: pd.DataFrame) -> dict[str, np.ndarray]:
    """Parameter arrays of a group of scenarios, with the commissioning mode as 0/1."""
    cols = {name: table[name].to_numpy(dtype=float) for name in Params.numeric_names()}
    cols["alliance"] = (table["commissioning"].to_numpy() == "alliance").astype(float)
    return cols


def run_group(table: pd.DataFrame, steps: int, keep: np.ndarray) -> dict[str, np.ndarray]:
    """Run scenarios that share numbers of providers, localities and domains.

    Returns each outcome as an array ``(scenarios, len(keep))`` for the months in ``keep``. Sets up what is
    fixed for the run (:func:`sim.model.setup.prepare`, numpy over the batch), then runs every scenario through
    every month compiled, one scenario at a time (:func:`sim.engine.batch.run_scenarios`: the phases the Mesa
    agents call, in the same order; events, exits and the contract review included). A scenario's numbers do not
    depend on its batch.
    """
    P, L, D = (int(table[n].iloc[0]) for n in ("n_providers", "n_localities", "n_domains"))
    S, f = len(table), np.ascontiguousarray
    run = prepare(_columns(table), table["seed"].to_numpy(dtype=np.uint64), list(table["disabled"]),
                  [tuple(e) for e in table["events"]], list(table["constants"]), steps, P, L, D)
    tables = Tables(constants=f(run.constants), localities=np.arange(L),
                    **{name: f(run.tables[name]) for name in Tables._fields[2:]})
    state = State(*(f(run.world[name], dtype=float) for name in State._fields))
    events = Plan(*(f(run.plan[key], dtype=float) for key in Plan._fields))

    # outcome-major: each outcome's (scenario, month) table is one contiguous block, handed on without a copy
    by_outcome = np.empty((len(OUTCOMES), S, len(keep)))
    kept = np.full(steps + 1, -1, dtype=np.int64)
    kept[keep] = np.arange(len(keep))
    out = MonthResult(np.empty(P), np.empty((L, len(pathways.COUNTS))), *(np.empty(L) for _ in range(5)), np.empty(1))
    run_scenarios(steps, kept, run.c, run.r, events, tables, state, out, month_workspace(P, L, D), by_outcome)
    return dict(zip(OUTCOMES, by_outcome, strict=True))


# ------------------------------------------------------------------------------------------------
# Chunking and workers
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Chunk:
    rows: np.ndarray  # positions in the scenario table


def _chunks(table: pd.DataFrame, chunk_size: int | None) -> Iterator[_Chunk]:
    """Chunks of scenarios sharing a shape: about CELLS_PER_CHUNK trust cells, at least MIN_CHUNK."""
    keys = table[["n_providers", "n_localities", "n_domains"]].to_numpy()
    for key in np.unique(keys, axis=0):
        rows = np.flatnonzero((keys == key).all(axis=1))
        size = chunk_size or max(MIN_CHUNK, CELLS_PER_CHUNK // int(key[0]) ** 2)
        for start in range(0, len(rows), size):
            yield _Chunk(rows[start:start + size])


def _run_chunk(args: tuple[pd.DataFrame, int, np.ndarray]) -> dict[str, np.ndarray]:
    table, steps, keep = args
    return run_group(table, steps, keep)


def _check_run_args(steps: int | None, keep: Any, workers: int, chunk_size: int | None,
                    table: pd.DataFrame) -> tuple[int, np.ndarray]:
    if steps is None:
        steps = int(table["horizon"].max()) if len(table) else 0
    elif isinstance(steps, bool) or not isinstance(steps, int | np.integer) or steps < 1:
        raise ValueError(f"steps={steps!r}: must be an integer >= 1 (or None for each scenario's horizon)")
    elif steps > MAX_STEPS:  # checked before the month index is allocated
        raise ValueError(f"steps={steps!r}: must be an integer in [1, {MAX_STEPS:,}] (or None for each "
                         "scenario's horizon)")
    if isinstance(workers, bool) or not isinstance(workers, int | np.integer) or workers < 1:
        raise ValueError(f"workers={workers!r}: must be an integer >= 1")
    if chunk_size is not None and (isinstance(chunk_size, bool)
                                   or not isinstance(chunk_size, int | np.integer) or chunk_size < 1):
        raise ValueError(f"chunk_size={chunk_size!r}: must be an integer >= 1 or None")
    if keep is None:
        months = np.arange(steps + 1)
    elif isinstance(keep, str):
        if keep != "last":
            raise ValueError(f"keep={keep!r}: must be None (all steps), 'last' or a list of steps "
                             f"in [0, {steps}]")
        months = np.array([steps])
    else:
        months = np.unique(np.asarray(keep))
        if months.dtype.kind not in "iu" or len(months) == 0 or months.min() < 0 or months.max() > steps:
            raise ValueError(f"keep={keep!r}: must be None (all steps), 'last' or a list of steps "
                             f"in [0, {steps}]")
    return int(steps), months.astype(np.int64)


def _iterate(table: pd.DataFrame, steps: int, months: np.ndarray, workers: int,
             chunk_size: int | None) -> Iterator[tuple[_Chunk, dict[str, np.ndarray]]]:
    chunks = list(_chunks(table, chunk_size))
    jobs = ((table.iloc[ch.rows], steps, months) for ch in chunks)
    if workers == 1 or len(chunks) == 1:
        for ch, job in zip(chunks, jobs, strict=True):
            yield ch, _run_chunk(job)
        return
    from concurrent.futures.process import BrokenProcessPool

    try:
        from sim.engine.workers import worker_pool

        with worker_pool(workers) as pool:
            yield from zip(chunks, pool.map(_run_chunk, jobs), strict=True)
    except BrokenProcessPool:
        raise RuntimeError(
            f"workers={workers}: the worker processes died before finishing. If simulate() is called from a "
            "script, put the call under `if __name__ == \"__main__\":` (each worker imports the script "
            "again); otherwise a worker ran out of memory or was killed. workers=1 needs no worker processes."
        ) from None


def simulate(params: Sequence[Params] | pd.DataFrame, seeds: Sequence[int] | np.ndarray,
             steps: int | None = None, *, workers: int = 1, chunk_size: int | None = None,
             keep: None | str | Sequence[int] = None, progress: Any = False) -> xr.Dataset:
    """Run many scenarios at once and return their outcomes.

    Parameters
    ----------
    params
        A sequence of :class:`Params`, or a DataFrame with one column per schema field (missing
        columns take their defaults).
    seeds
        One non-negative integer per scenario.
    steps
        Months to simulate; ``None`` runs to the longest ``horizon`` and leaves NaN after each
        scenario's own horizon.
    workers
        Worker processes; the numbers are identical whatever the count.
    chunk_size
        Scenarios per chunk (default: sized to stay in cache); never changes the numbers.
    keep
        Steps to keep: ``None`` for all, ``"last"``, or a list of steps; bounds memory in large studies.
    progress
        Show a progress bar (``True``), or advance a caller's ``tqdm`` bar spanning several calls.

    Returns
    -------
    xarray.Dataset with dims ``("scenario", "step")``, one variable per outcome (the DataCollector's
    column names) and scenario coordinates holding each scenario's parameters and seed.
    """
    table = scenario_table(params, seeds)
    steps_, months = _check_run_args(steps, keep, workers, chunk_size, table)
    from sim.runtime.limits import check_fits

    check_fits(f"steps={steps!r}, keep={keep!r} for {len(table):,} scenarios", len(table), len(months),
               len(OUTCOMES) + len(table.columns),
               "keep fewer steps (keep='last') or stream the results with simulate_to_parquet")
    data: dict[str, np.ndarray] = {}
    results = _iterate(table, steps_, months, workers, chunk_size)
    for chunk, values in _progress(results, len(table), progress):
        if len(chunk.rows) == len(table):  # one chunk of every scenario, in order: its tables are the result
            data = values
            continue
        for name in OUTCOMES:
            if name not in data:  # every scenario is in exactly one chunk: each row is written once
                data[name] = np.empty((len(table), len(months)))
            data[name][chunk.rows] = values[name]
    if steps is None:
        beyond = months[None, :] > table["horizon"].to_numpy()[:, None]
        for name in OUTCOMES:
            data[name][beyond] = np.nan
    coords: dict[str, Any] = {"scenario": np.arange(len(table)), "step": months}
    for col in table.columns:
        values = table[col].to_numpy()
        if col in ("disabled", "events", "constants"):
            values = column_texts(values, constants_text if col == "constants" else ",".join)
        coords[col] = ("scenario", values)
    ds = xr.Dataset({name: (("scenario", "step"), data[name]) for name in OUTCOMES}, coords=coords)
    for name, meaning in OUTCOMES.items():
        ds[name].attrs["description"] = meaning
    return ds


def column_texts(values: Sequence | np.ndarray, text) -> np.ndarray:
    """Each row's ``text(value)``, made once per distinct value (a constant set's text is a few kilobytes, and a
    study's rows share a few sets): the text form of a table's rule lists, event lists and constant sets."""
    texts = _each_distinct(range(len(values)), values, lambda v, _row: text(v))
    out = np.empty(len(texts), dtype=object)
    out[:] = texts
    return out


def _progress(results: Iterator, total: int, enabled: Any) -> Iterator:
    if hasattr(enabled, "update"):  # a caller's bar over several calls (a study's stage in blocks)
        for chunk, values in results:
            yield chunk, values
            enabled.update(len(chunk.rows))
        return
    if not enabled:
        yield from results
        return
    from tqdm import tqdm

    with tqdm(total=total, unit="scenario", desc="simulating") as bar:
        for chunk, values in results:
            yield chunk, values
            bar.update(len(chunk.rows))


def tidy(ds: xr.Dataset) -> pd.DataFrame:
    """Long table from a :func:`simulate` result: one row per scenario and step, parameters and outcomes."""
    frame = ds[list(OUTCOMES)].to_dataframe().reset_index()  # scenario coordinates become columns
    first = ["scenario", *(c for c in frame.columns if c not in ("scenario", "step", *OUTCOMES))]
    return frame[[*first, "step", *OUTCOMES]]


def simulate_to_parquet(params: Sequence[Params] | pd.DataFrame, seeds: Sequence[int] | np.ndarray,
                        directory: str | os.PathLike, steps: int | None = None, *, workers: int = 1,
                        chunk_size: int | None = None, keep: None | str | Sequence[int] = None,
                        progress: bool = False) -> Path:
    """Like :func:`simulate` but stream each chunk to ``directory/part-NNNNN.parquet`` (tidy rows),
    so memory stays bounded whatever the number of scenarios.

    ``directory`` must not exist yet (or be empty): the parts are written into a hidden temporary folder
    beside it, which becomes ``directory`` only when every part is written, with a ``_SUCCESS`` marker.
    A failed run (a full disk) leaves no ``directory`` at all, never a partial set of parts."""
    import shutil

    from sim.runtime.temporaries import remove_stale_temporaries, temporary_name

    table = scenario_table(params, seeds)
    steps_, months = _check_run_args(steps, keep, workers, chunk_size, table)
    directory = Path(directory)
    if directory.is_symlink():
        raise ValueError(f"directory={str(directory)!r}: is a symbolic link; give the folder itself "
                         f"({str(directory.resolve())!r}) or a new folder")
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise ValueError(f"directory={str(directory)!r}: already exists and is not empty; give a new folder "
                         "(parts of another run must not mix with this one's)")
    remove_stale_temporaries(directory)
    tmp = temporary_name(directory)
    tmp.mkdir(parents=True)
    try:
        _stream_parts(table, steps, steps_, months, workers, chunk_size, progress, tmp)
        (tmp / "_SUCCESS").write_text(f"{len(table)} scenarios\n")
        if directory.is_dir():
            directory.rmdir()  # empty (checked above)
        tmp.rename(directory)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return directory


def _stream_parts(table: pd.DataFrame, steps: int | None, steps_: int, months: np.ndarray, workers: int,
                  chunk_size: int | None, progress: bool, directory: Path) -> None:
    results = _iterate(table, steps_, months, workers, chunk_size)
    for k, (chunk, values) in enumerate(_progress(results, len(table), progress)):
        part = table.iloc[chunk.rows].assign(disabled=lambda t: t["disabled"].map(",".join),
                                             events=lambda t: t["events"].map(",".join),
                                             constants=lambda t: t["constants"].map(constants_text))
        part.insert(0, "scenario", chunk.rows)
        frame = part.loc[part.index.repeat(len(months))].reset_index(drop=True)
        frame["step"] = np.tile(months, len(chunk.rows))
        if steps is None:  # NaN after each scenario's own horizon, as in simulate()
            beyond = months[None, :] > table["horizon"].to_numpy()[chunk.rows, None]
            for name in OUTCOMES:
                values[name][beyond] = np.nan
        for name in OUTCOMES:
            frame[name] = values[name].reshape(-1)
        tmp = directory / f".part-{k:05d}.parquet.tmp"
        frame.to_parquet(tmp, index=False)
        tmp.replace(directory / f"part-{k:05d}.parquet")
