"""The vectorised core: the alliance model over whole batches of scenarios at once.

The same rules (:mod:`sim.theories`, :mod:`sim.relationships`, :mod:`sim.services`), the same
counter-based draws and the same outcomes as :class:`sim.AllianceModel`, over arrays with a leading
scenario axis. Scenarios are grouped by their numbers of providers, localities and domains and run
without padding, so a scenario's numbers never depend on what else is in its batch: they are
bit-identical alone, in any batch, with any chunk size and any number of workers.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from sim import relationships as rel
from sim import services as svc
from sim.draws import Purpose, shock
from sim.outcomes import OUTCOMES, system_outcomes
from sim.params import RULE_IDS, THEORY_RULES, Params
from sim.theories import (
    ipt1_formal_integration,
    ipt2_flexibility,
    ipt3_coproduction_target,
    ipt4_alignment_target,
    ipt5_innovation_gain,
    ipt6_leadership,
    ipt7_orientation_target,
)
from sim.world import budget_factor, initial_world, new_need

__all__ = ["simulate", "simulate_to_parquet", "scenario_table", "tidy"]

#: Target number of trust-matrix cells per chunk: keeps a chunk's working set in cache.
CELLS_PER_CHUNK = 100_000
#: Most months one run may simulate (about 83,000 years).
MAX_STEPS = 1_000_000
#: Fewest scenarios per chunk: below this, Python overhead per month outweighs cache misses (50 providers).
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
        table = pd.DataFrame([p.to_dict() for p in params], columns=list(Params.names()))
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
    unknown = [c for c in frame.columns if c not in names and c != "seed"]
    if unknown:
        raise ValueError(f"params: unknown column {unknown[0]!r}; allowed columns: {', '.join(names)}")
    out = pd.DataFrame(index=frame.index)
    for spec in Params.schema():
        if spec.name not in frame.columns:
            out[spec.name] = [spec.default] * len(frame) if spec.name == "disabled" else spec.default
            continue
        col = frame[spec.name]
        if spec.name == "disabled":
            out[spec.name] = [_disabled_value(v, k) for k, v in zip(frame.index, col, strict=True)]
        elif spec.choices is not None:
            bad = ~col.isin(spec.choices)
            if bad.any():
                k = bad.idxmax()
                raise ValueError(f"params column {spec.name!r}, row {k}: {col[k]!r} not allowed; "
                                 f"must be {spec.describe_allowed()}")
            out[spec.name] = col.astype(object)
        else:
            out[spec.name] = _numeric_column(spec, col)
    return out


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


def _disabled_value(value: Any, row: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = tuple(v.strip() for v in value.split(",") if v.strip())
    elif value is None or (isinstance(value, float) and math.isnan(value)):
        value = ()
    try:
        return Params(disabled=tuple(value)).disabled
    except (TypeError, ValueError) as err:
        raise ValueError(f"params column 'disabled', row {row}: {err}") from None


# ------------------------------------------------------------------------------------------------
# The batched model
# ------------------------------------------------------------------------------------------------
def _columns(table: pd.DataFrame) -> dict[str, np.ndarray]:
    """Parameter arrays of a group of scenarios, with the derived design and rule-strength arrays."""
    cols = {name: table[name].to_numpy(dtype=float) for name in Params.numeric_names()}
    cols["alliance"] = (table["commissioning"].to_numpy() == "alliance").astype(float)
    off = {rule: np.zeros(len(table)) for rule in RULE_IDS}
    for k, disabled in enumerate(table["disabled"]):
        for d in disabled:
            for rule in THEORY_RULES.get(d, (d,)):
                off[rule][k] = 1.0
    for rule in RULE_IDS:
        cols[rule] = cols[f"{rule.lower()}_strength"] * (1.0 - off[rule])
    return cols


def run_group(table: pd.DataFrame, steps: int, keep: np.ndarray) -> dict[str, np.ndarray]:
    """Run scenarios that share numbers of providers, localities and domains.

    Returns each outcome as an array ``(scenarios, len(keep))`` for the months in ``keep``.

    Everything fixed for a run (normalised coverage weights, pair weights, pooled capacity, trust
    rates) is computed once before the month loop; provider sums over localities are small matrix
    products. Every operation acts on each scenario's own slice in the same order whatever the
    batch size, so a scenario's numbers do not depend on its batch.
    """
    P, L, D = (int(table[n].iloc[0]) for n in ("n_providers", "n_localities", "n_domains"))
    c = _columns(table)
    seed = table["seed"].to_numpy(dtype=np.uint64)
    S = len(seed)
    w = initial_world(c, seed, P, L, D)
    trust, commitment, alignment = w["trust"], w["commitment"], w["alignment"]
    orientation, innovation = w["orientation"], w["innovation"]
    participation, experience, backlog = w["participation"], w["experience"], w["backlog"]
    coverage = w["coverage"]

    # --- constants of the run (the shared functions accept them precomputed) ---
    alliance, pooled = c["alliance"], c["pooled_share"]
    leadership = ipt6_leadership(alliance, c["senior_commitment"], c["monitoring"], c["IPT6"])[:, None]
    pull = rel.free_riding_pull(alliance, pooled, c["free_riding_temptation"], c["austerity"],
                                c["monitoring"])[:, None]
    coproduction = ipt3_coproduction_target(alliance, c["place_based"], w["community_assets"],
                                            c["IPT3"])[:, None]
    complexity = c["need_complexity"][:, None]
    diversity = svc.provider_diversity(coverage)
    domains = svc.episode_domains(D)
    weights = svc.locality_weights(coverage)
    pair = svc.pair_weight(coverage)
    pooled_capacity = svc.pooled_capacity(coverage, w["capacity"])
    rates = rel.trust_rates(w["interaction"], c["trust_learning_rate"][:, None, None],
                            c["negativity_bias"][:, None, None])
    noise, window = c["effort_noise"][:, None], c["waiting_window"][:, None, None]
    community = c["community_capacity"][:, None]
    alliance1, ipt1, ipt4, ipt5, ipt7 = (c[k][:, None] for k in ("alliance", "IPT1", "IPT4", "IPT5", "IPT7"))
    readiness = c["culture_readiness"][:, None]
    stake = (pooled * alliance)[:, None]
    seed_p, seed_ld = seed[:, None], seed[:, None, None]
    providers, cells = np.arange(P)[None, :], (np.arange(L)[None, :, None], np.arange(D)[None, None, :])
    # Sums over short last axes as products with a vector of ones: several times faster than
    # ndarray.sum on these shapes. Only on stacked (3-D) arrays, where numpy makes one small BLAS call
    # per scenario; a 2-D (scenarios, P) @ (P,) is one call over the batch whose rounding depends on a
    # row's position in the kernel's blocks, which would break batch invariance.
    ones_p, ones_d = np.ones(P), np.ones(D)
    trust_sum = trust @ ones_p  # each provider's trust row sum; updated once per month

    out = {name: np.empty((S, len(keep))) for name in OUTCOMES}
    keep_at = {int(m): k for k, m in enumerate(keep)}
    for month in range(steps + 1):
        # --- deliver: effort, integration, fragmentation, service (as AllianceModel._deliver) ---
        budget = budget_factor(c["austerity"], month)
        mean_trust = rel.mean_trust_toward_others(trust_sum, P)
        propensity = rel.effort_propensity(commitment, mean_trust, leadership, pull)
        effort = rel.realised_effort(propensity, noise, shock(seed_p, month, Purpose.EFFORT, providers))
        flexibility = ipt2_flexibility(alliance, pooled, effort.mean(axis=-1), c["IPT2"])[:, None]
        # alignment, effort and innovation averaged over each locality's providers in one product
        aligned, local_effort, local_innovation = np.moveaxis(
            svc.locality_means(np.stack([alignment, effort, innovation], axis=-2), weights), -2, 0)
        productivity = 1.0 + svc.PRODUCTIVITY_GAIN * local_innovation
        formal = ipt1_formal_integration(alliance1, complexity, aligned, ipt1)
        joined = svc.integration(svc.informal_integration(trust, effort, coverage, weight=pair), formal,
                                 local_effort)
        gaps = svc.gap_share(complexity, joined, domains)
        duplication = svc.duplication_share(complexity, joined, diversity, flexibility)
        discontinuity = svc.discontinuity_share(complexity, joined, domains)

        need = new_need(w["need_profile"], shock(seed_ld, month, Purpose.NEED, *cells))
        demand = backlog + svc.presented_need(need, participation, community)
        available = svc.locality_capacity(None, None, budget[:, None], productivity, pooled=pooled_capacity)
        available = svc.flexed_capacity(available, demand, flexibility[..., None]) * (
            1.0 - svc.DUPLICATION_WASTE * duplication)[..., None]
        served, expired, backlog = svc.serve(demand, available, window)
        served, expired = served @ ones_d, expired @ ones_d
        access = svc.share(served, served + expired)
        experience = rel.relax(experience, svc.experience_target(discontinuity, access, aligned,
                                                                 participation), svc.EXPERIENCE_RATE)
        resolved = served * (1.0 - gaps) * svc.service_fit(participation, aligned)
        participation = rel.relax(participation, coproduction, svc.PARTICIPATION_RATE)

        # --- learn (as ProviderAgent.learn); month 0 is delivered before anyone learns ---
        if month > 0:
            trust = rel.update_trust(trust, effort[:, None, :], None, None, None, rates=rates)
            trust_sum = trust @ ones_p
            mean_trust = rel.mean_trust_toward_others(trust_sum, P)
            seen = (coverage @ joined[..., None])[..., 0]
            commitment = rel.relax(commitment, rel.commitment_target(alliance1, mean_trust, seen, leadership,
                                                                     stake), rel.COMMITMENT_RATE)
            alignment = rel.relax(alignment, ipt4_alignment_target(alliance1, mean_trust, ipt4),
                                  rel.ALIGNMENT_RATE)
            orientation = rel.relax(orientation, ipt7_orientation_target(alliance1, commitment, readiness,
                                                                         ipt7), rel.ORIENTATION_RATE)
            innovation = innovation + ipt5_innovation_gain(alliance1, readiness, orientation, innovation,
                                                           ipt5)

        if month in keep_at:
            values = system_outcomes(
                need=need @ ones_d, gaps=gaps, duplication=duplication, discontinuity=discontinuity,
                served=served, expired=expired, resolved=resolved, demand=demand @ ones_d,
                experience=experience, budget_factor=budget, capacity_ratio=c["capacity_ratio"],
                n_localities=L,
                trust_total=trust_sum.sum(axis=-1), n_providers=P, commitment=commitment,
                alignment=alignment, orientation=orientation, innovation=innovation)
            for name in OUTCOMES:
                out[name][:, keep_at[month]] = values[name]
    return out


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
    import multiprocessing as mp

    # forkserver: workers fork from a clean single-threaded server that has already imported the core,
    # so they start fast without forking this (multi-threaded, BLAS) process
    if "forkserver" in mp.get_all_start_methods():
        context = mp.get_context("forkserver")
        context.set_forkserver_preload(["sim.core"])
    else:
        context = mp.get_context("spawn")
    from concurrent.futures.process import BrokenProcessPool

    from sim.processes import pool_initializer, start_time

    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=pool_initializer,
                                 initargs=(os.getpid(), start_time(os.getpid()))) as pool:
            yield from zip(chunks, pool.map(_run_chunk, jobs), strict=True)
    except BrokenProcessPool:
        raise RuntimeError(
            f"workers={workers}: the worker processes died before finishing. If simulate() is called from a "
            "script, put the call under `if __name__ == \"__main__\":` (each worker imports the script "
            "again); otherwise a worker ran out of memory or was killed. workers=1 needs no worker processes."
        ) from None


def simulate(params: Sequence[Params] | pd.DataFrame, seeds: Sequence[int] | np.ndarray,
             steps: int | None = None, *, workers: int = 1, chunk_size: int | None = None,
             keep: None | str | Sequence[int] = None, progress: bool = False) -> xr.Dataset:
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

    Returns
    -------
    xarray.Dataset with dims ``("scenario", "step")``, one variable per outcome (the DataCollector's
    column names) and scenario coordinates holding each scenario's parameters and seed.
    """
    table = scenario_table(params, seeds)
    steps_, months = _check_run_args(steps, keep, workers, chunk_size, table)
    from sim.limits import check_fits

    check_fits(f"steps={steps!r}, keep={keep!r} for {len(table):,} scenarios", len(table), len(months),
               len(OUTCOMES) + len(table.columns),
               "keep fewer steps (keep='last') or stream the results with simulate_to_parquet")
    data = {name: np.full((len(table), len(months)), np.nan) for name in OUTCOMES}
    results = _iterate(table, steps_, months, workers, chunk_size)
    for chunk, values in _progress(results, len(table), progress):
        for name in OUTCOMES:
            data[name][chunk.rows] = values[name]
    if steps is None:
        beyond = months[None, :] > table["horizon"].to_numpy()[:, None]
        for name in OUTCOMES:
            data[name][beyond] = np.nan
    coords: dict[str, Any] = {"scenario": np.arange(len(table)), "step": months}
    for col in table.columns:
        values = table[col].to_numpy()
        if col == "disabled":
            values = np.array([",".join(v) for v in values], dtype=object)
        coords[col] = ("scenario", values)
    ds = xr.Dataset({name: (("scenario", "step"), data[name]) for name in OUTCOMES}, coords=coords)
    for name, meaning in OUTCOMES.items():
        ds[name].attrs["description"] = meaning
    return ds


def _progress(results: Iterator, total: int, enabled: bool) -> Iterator:
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

    from sim.results import remove_stale_temporaries, temporary_name

    table = scenario_table(params, seeds)
    steps_, months = _check_run_args(steps, keep, workers, chunk_size, table)
    directory = Path(directory)
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
        part = table.iloc[chunk.rows].assign(disabled=lambda t: t["disabled"].map(",".join))
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
