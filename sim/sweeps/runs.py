"""What ``experiments/run.py`` does with a composed Hydra config (the entry script stays thin).

A run validates everything before it starts, skips work whose complete results already exist and were
made by the same inputs (so an interrupted sweep resumes by rerunning the same command; a changed command
is refused rather than answered with stale results), and writes its folder atomically.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from omegaconf import DictConfig, OmegaConf

from sim.model.outcomes import OUTCOMES
from sim.params import Params
from sim.runtime.errors import ConfigError
from sim.runtime.limits import check_fits
from sim.sweeps.config import params_from_config
from sim.sweeps.identity import differences, file_sha256, identity_record, read_identity, same
from sim.sweeps.integrity import damaged, file_record, file_records, rerun_command, verify
from sim.sweeps.paired import HEADLINE_EFFECTS, paired_outcomes, parse_effect, plot_paired, summarise
from sim.sweeps.results import (
    MANIFEST,
    atomic_folder,
    atomic_write_bytes,
    check_writable,
    destination_lock,
    is_complete,
    manifest,
    merging_lock,
    remove_stale_temporaries,
    sweep_lock,
    write_json,
)
from sim.sweeps.rows import (
    check_rows,
    chunk_bounds,
    chunk_manifest_path,
    chunk_path,
    read_rows,
    run_chunk,
    with_base,
)

logger = logging.getLogger(__name__)

#: Most seeds and months a run may ask for whatever the memory (beyond this it would run for days).
MAX_SEEDS = 10_000_000
MAX_STEPS = 100_000




@dataclass
class Outcome:
    folder: Path
    skipped: bool
    summary: pd.DataFrame | None = None


#: Longest results folder name: room for the temporaries and locks named after it within a file name's 255 bytes.
MAX_NAME = 100
#: Names that mean something else in results_root: the studies' folder and the link to the newest study.
RESERVED_NAMES = {"sensitivity": "<results_root>/sensitivity holds the sensitivity studies",
                  "latest": "<results_root>/sensitivity/latest points to the newest study"}


def check_name(value: object, key: str = "name") -> str:
    """A results folder name: one plain folder name inside ``results_root`` (no path, not hidden, not reserved,
    at most :data:`MAX_NAME` bytes)."""
    name = "" if value is None else str(value)
    if (not name.strip() or name in (".", "..") or "/" in name or "\\" in name or name.startswith(".")
            or "\x00" in name):
        raise ConfigError(f"{key}={value!r}: must be a plain folder name (not empty, no '/', not starting with "
                          "'.'), e.g. name=my_sweep; results go to <results_root>/<name>/")
    if len(name.encode()) > MAX_NAME:
        raise ConfigError(f"{key}={name[:20]}... ({len(name.encode())} bytes): too long; use at most {MAX_NAME} "
                          "bytes, e.g. name=my_sweep")
    if name in RESERVED_NAMES:
        raise ConfigError(f"{key}={name!r}: reserved ({RESERVED_NAMES[name]}); choose another name, e.g. "
                          "name=my_sweep")
    return name


def check_folder(path: Path, key: str) -> None:
    """A results folder that exists must be a folder we can write into: one line naming ``key`` otherwise."""
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{key}: {str(path)!r} exists and is not a folder; move it away or choose another {key}")
    if path.is_dir() and not os.access(path, os.W_OK | os.X_OK):
        raise ConfigError(f"{key}: {str(path)!r} cannot be written (read-only); choose a writable folder")


def validate(cfg: DictConfig) -> Params:
    """Check a run config before any work starts; returns the scenario's validated Params."""
    try:
        params = params_from_config(cfg.params)
    except (TypeError, ValueError) as err:
        raise ConfigError(str(err).replace("Params.", "params.")) from None
    for key, low, high in (("seeds", 1, MAX_SEEDS), ("workers", 1, 1024)):
        value = cfg[key]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            shown = f"{high:,}" if high >= 10**4 else str(high)
            raise ConfigError(f"{key}={value!r}: must be an integer in [{low}, {shown}]")
    if isinstance(cfg.first_seed, bool) or not 0 <= cfg.first_seed <= 2**63 - 1 - cfg.seeds:
        raise ConfigError(f"first_seed={cfg.first_seed!r}: must be an integer in [0, 2**63 - 1 - seeds]")
    if cfg.steps is not None and not 1 <= cfg.steps <= MAX_STEPS:
        raise ConfigError(f"steps={cfg.steps!r}: must be an integer in [1, {MAX_STEPS:,}] or null (the horizon)")
    kind = cfg.experiment.kind
    if kind not in ("paired", "rows"):
        raise ConfigError(f"experiment.kind={kind!r}: must be 'paired' or 'rows'")
    if cfg.experiment.keep not in ("all", "last"):
        raise ConfigError(f"experiment.keep={cfg.experiment.keep!r}: must be 'all' or 'last'")
    check_folder(Path(cfg.results_root) / check_name(cfg.name), "name")
    months = 1 if cfg.experiment.keep == "last" else (cfg.steps or params.horizon) + 1
    try:
        check_writable(cfg.results_root)
        if kind == "rows":
            chunk_bounds(0, cfg.experiment.n_chunks, cfg.experiment.chunk)
        else:
            what = f"seeds={cfg.seeds}" if cfg.seeds > 1000 else f"steps={cfg.steps}"
            check_fits(what, 2 * cfg.seeds, months, len(OUTCOMES) + len(Params.names()) + 4,
                       "use fewer seeds or steps, experiment.keep=last, or a row sweep split into chunks")
    except ValueError as err:
        raise ConfigError(str(err)) from None
    return params


def preflight(cfg: DictConfig) -> Params:
    """Everything :func:`run` checks before work starts, including a row sweep's table (used to check every
    job of a sweep before any starts)."""
    params = validate(cfg)
    if cfg.experiment.kind == "rows":
        _checked_rows(cfg, params)
    return params


def _checked_rows(cfg: DictConfig, base: Params) -> pd.DataFrame:
    """The row table with the config's parameters for the columns it does not set (the file's own
    parameter columns are listed in ``attrs["from_file"]``), validated."""
    rows_file = cfg.experiment.rows_file
    try:
        raw = read_rows(rows_file)
        rows = with_base(raw, base)
        rows.attrs["from_file"] = [c for c in raw.columns if c != "seed"]
        check_rows(rows, rows_file)
        check_fits(f"experiment.rows_file={str(rows_file)!r}", len(rows) // cfg.experiment.n_chunks + 1,
                   1 if cfg.experiment.keep == "last" else (cfg.steps or int(rows["horizon"].max())) + 1,
                   len(OUTCOMES) + len(rows.columns) + 4, "split it into more chunks (experiment.n_chunks) "
                   "or keep only the last step (experiment.keep=last)")
    except ValueError as err:
        raise ConfigError(str(err)) from None
    return rows


#: Longest folder name made from a run's overrides; a longer one ends in a hash of the whole.
MAX_OVERRIDE_DIRNAME = 150


def run_folder(cfg: DictConfig, override_dirname: str) -> Path:
    """Where a run's results go: ``<results_root>/<name>/<overrides or 'base'>``; the same command gives
    the same folder, which is what lets a rerun skip finished work. Overrides too long for a file name
    (e.g. a long list of events) are cut and end in a hash of the whole, so distinct runs stay distinct."""
    leaf = override_dirname or "base"
    if len(leaf.encode()) > MAX_OVERRIDE_DIRNAME:
        digest = hashlib.sha256(leaf.encode()).hexdigest()[:16]
        leaf = leaf.encode()[:MAX_OVERRIDE_DIRNAME - 18].decode(errors="ignore") + "--" + digest
    return Path(cfg.results_root) / check_name(cfg.name) / leaf


def sweep_folder(cfg: DictConfig) -> Path:
    """The folder a run writes into with the other jobs of its sweep: ``<results_root>/<name>``."""
    return Path(cfg.results_root) / check_name(cfg.name)


def _refuse(folder: Path, recorded: dict | None, identity: dict) -> ConfigError:
    return ConfigError(f"{folder}: already holds finished results of different inputs "
                       f"({differences(recorded, identity)}); rerun with force=true to replace them, "
                       "or give another name=")


def read_manifest(path: Path) -> dict:
    """A manifest's content ({} if it cannot be read: then there is nothing to verify or reuse)."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _remedy(command: str) -> str:
    return f"remake it with: {command}"


def run(cfg: DictConfig, override_dirname: str = "", overrides: list[str] | None = None) -> Outcome:
    """Run the configured experiment; see :mod:`sim.sweeps.runs`."""
    params = validate(cfg)
    overrides = list(overrides or [])
    if cfg.experiment.kind == "rows":
        return _run_rows(cfg, params, overrides)
    folder = run_folder(cfg, override_dirname)
    identity = identity_record(cfg)
    force = bool(cfg.get("force", False))
    remake = rerun_command("run.py", overrides, "force=true")
    with sweep_lock(folder.parent), destination_lock(folder):
        if is_complete(folder):
            recorded = read_identity(folder / MANIFEST)
            if same(recorded, identity):
                # reused only if every file still holds what was written
                bad = damaged(folder, read_manifest(folder / MANIFEST).get("files"))
                if bad is None:
                    return Outcome(folder, skipped=True, summary=pd.read_csv(folder / "summary.csv"))
                if not force:
                    verify(folder, read_manifest(folder / MANIFEST).get("files"), _remedy(remake))
                logger.info("%s: %s is damaged: remaking the folder (force=true)", folder, bad)
            elif not force:
                raise _refuse(folder, recorded, identity)
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
            if cfg.get("figure", True) and frame["step"].nunique() > 1:
                plot_paired(frame, tmp / "figure.png", title=_title(cfg))
            (tmp / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
            write_json(tmp / "manifest.json", manifest(
                seeds=seeds, timings={"simulate": simulated, "total": time.perf_counter() - started},
                scenario=_scenario_name(cfg), description=cfg.description, overrides=overrides,
                command=rerun_command("run.py", overrides), scenarios_run=len(seeds) * 2, identity=identity,
                files=file_records(tmp)))
    _warn_if_merged(folder.parent)
    return Outcome(folder, skipped=False, summary=summary)


def _warn_if_merged(folder: Path) -> None:
    """A merged table made before this result is now out of date: say so (collect rebuilds it)."""
    if (folder / "merged.parquet").is_file():
        logger.warning("%s is out of date (it was merged before this result); rebuild it with: "
                       "python experiments/collect.py %s", folder / "merged.parquet", folder)


def _chunk_records(folder: Path) -> dict[Path, dict | None]:
    """Every chunk file in a row-sweep folder with the identity recorded beside it (None if none)."""
    files = sorted(f for f in folder.glob("chunk-*-of-*.parquet") if re.fullmatch(r"chunk-\d+-of-\d+\.parquet", f.name))
    return {f: read_identity(chunk_manifest_path(f)) for f in files}


def _n_chunks_of(path: Path) -> int:
    return int(path.stem.rsplit("-of-", 1)[1])


def _run_rows(cfg: DictConfig, base: Params, overrides: list[str]) -> Outcome:
    rows_file = cfg.experiment.rows_file
    rows = _checked_rows(cfg, base)
    folder = Path(cfg.results_root) / check_name(cfg.name)
    identity = identity_record(cfg, rows_sha256=file_sha256(rows_file))
    n_chunks, chunk = cfg.experiment.n_chunks, cfg.experiment.chunk
    target = chunk_path(folder, n_chunks, chunk)
    force = bool(cfg.get("force", False))
    with sweep_lock(folder), destination_lock(target):
        # whatever is already in the folder must come from the same inputs and the same split
        others = {f: rec for f, rec in _chunk_records(folder).items()
                  if _n_chunks_of(f) != n_chunks or not same(rec, identity)}
        if others and not force:
            f, rec = next(iter(others.items()))
            what = (f"a split into {_n_chunks_of(f)} chunks, this run {n_chunks}" if _n_chunks_of(f) != n_chunks
                    else differences(rec, identity))
            raise ConfigError(f"{folder}: already holds chunks of another row sweep ({f.name}: {what}); rerun "
                              "with force=true to replace them, or give another name=")
        for f in others:  # force: the stale chunks go, with their records
            f.unlink(missing_ok=True)
            chunk_manifest_path(f).unlink(missing_ok=True)
        if target.is_file():  # this chunk, finished before: reused only if it still holds what was written
            files = read_manifest(chunk_manifest_path(target)).get("files")
            if damaged(folder, files) is not None and not force:
                verify(folder, files, _remedy(rerun_command("run.py", overrides, f"experiment.chunk={chunk}",
                                                            "force=true")))
            if damaged(folder, files) is not None:
                target.unlink()
        started = time.perf_counter()
        keep = "last" if cfg.experiment.keep == "last" else None
        record = manifest(seeds=rows["seed"].to_numpy()[slice(*chunk_bounds(len(rows), n_chunks, chunk))],
                          timings={}, rows_file=str(rows_file), chunk=chunk, n_chunks=n_chunks, identity=identity,
                          params_from_rows=rows.attrs["from_file"], overrides=overrides,
                          command=rerun_command("run.py", overrides, f"experiment.chunk={chunk}"))
        path, ran = run_chunk(rows, folder, n_chunks, chunk, steps=cfg.steps, keep=keep, workers=cfg.workers,
                              progress=sys.stderr.isatty(), record=record)
        if ran:
            atomic_write_bytes(folder / "config.yaml", lambda tmp: tmp.write_text(OmegaConf.to_yaml(cfg, resolve=True)))
            logger.info("chunk %d of %d: %.1f s", chunk, n_chunks, time.perf_counter() - started)
    if ran:
        _warn_if_merged(folder)
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


def screen_summary(outcome: Outcome, headline: tuple[str, ...] = HEADLINE_EFFECTS) -> str:
    """A one-screen summary of a paired run: end-of-horizon means and the alliance's effect on each headline
    outcome, signed as in the study and the report (positive = better under the alliance)."""
    lines = [f"results: {outcome.folder}" + ("  (already complete: skipped)" if outcome.skipped else "")]
    if outcome.summary is None:
        return lines[0]
    s = outcome.summary.set_index("outcome")
    step = int(s["step"].iloc[0])
    lines.append(f"month {step}, {int(s['n_seeds'].iloc[0])} seeds per mode, mean [95% interval]; effect of the "
                 "alliance: positive = better (reduction = traditional - alliance, gain = alliance - traditional)")
    lines.append(f"{'outcome':<16}{'alliance':>22}{'traditional':>22}{'alliance effect':>36}")
    for effect in headline:
        name, sign = parse_effect(effect)
        r = s.loc[name]
        cells = [f"{r[f'{k}_mean']:.3f} [{r[f'{k}_low']:.3f}, {r[f'{k}_high']:.3f}]"
                 for k in ("alliance", "traditional")]
        low, high = sorted((sign * r["difference_low"], sign * r["difference_high"]))
        kind = effect[len(name) + 1:]
        cells.append(f"{kind} {sign * r['difference_mean'] + 0.0:.3f} [{low + 0.0:.3f}, {high + 0.0:.3f}]")
        lines.append(f"{name:<16}{cells[0]:>22}{cells[1]:>22}{cells[2]:>36}")
    return "\n".join(lines)


#: Overrides that say how a run ran, not what: left out of the merged table's columns.
_NOT_COLUMNS = ("hydra", "workers", "name", "results_root", "force", "figure", "description")


def _override_columns(record: dict) -> dict[str, object]:
    """A paired run's preset and each of its overrides as columns of the merged tables."""
    import yaml

    columns: dict[str, object] = {"preset": record.get("scenario") or "default"}
    for override in record.get("overrides") or []:
        key, _, text = override.lstrip("+~").partition("=")
        if key == "scenario" or key.split("/")[0].split(".")[0] in _NOT_COLUMNS:
            continue
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError:
            value = text
        columns[key] = value if isinstance(value, int | float | str | bool) else str(value)
    return columns


def _remake(record: dict, *extra: str) -> str:
    return _remedy(rerun_command("run.py", record.get("overrides") or [], *extra, "force=true"))


def collect(folder: str | Path, partial: bool = False) -> tuple[Path, pd.DataFrame]:
    """Merge a sweep into one table: the chunks of a row sweep, or every complete paired run below
    ``folder`` (with a ``run`` column naming its overrides, ``preset`` and a column per override). Writes
    ``merged.parquet`` (and, for paired runs, ``merged_summary.csv``) into ``folder`` with
    ``merged.manifest.json`` (what was merged, and the outputs' digests) and returns its path and the table.

    Refuses a folder that a sweep is still writing into, one that mixes kinds (chunk files and paired runs),
    chunkings or row sweeps, a damaged file (its digest differs from its record) and a row sweep with missing
    chunks unless ``partial``; nothing is written unless everything is."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError(f"{str(folder)!r}: no such results folder")
    with merging_lock(folder):
        outputs, merged = _merge(folder, partial)
        _write_together(folder, outputs, {"merged": merged, "partial": partial})
    return folder / "merged.parquet", outputs["merged.parquet"]


def _merge(folder: Path, partial: bool) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """The merged tables of ``folder`` and what went into them (input -> digest of its manifest)."""
    from sim.sweeps.rows import merge

    chunks = _chunk_records(folder)
    runs = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".") and is_complete(p))
    if chunks and runs:
        raise ConfigError(f"{str(folder)!r}: mixes row-sweep chunks ({len(chunks)}, e.g. {next(iter(chunks)).name}) "
                          f"and paired runs ({len(runs)}, e.g. {runs[0].name}); collect them from separate names")
    outputs: dict[str, pd.DataFrame] = {}
    merged: dict[str, str] = {}
    if chunks:
        splits = sorted({_n_chunks_of(f) for f in chunks})
        if len(splits) > 1:
            raise ConfigError(f"{str(folder)!r}: mixes chunkings (split into {', '.join(map(str, splits))} chunks); "
                              "a row sweep must use one experiment.n_chunks; rerun with force=true or another name=")
        hashes = {(rec or {}).get("hash") for rec in chunks.values()}
        if len(hashes) > 1:
            raise ConfigError(f"{str(folder)!r}: holds chunks of different row sweeps (identities "
                              f"{', '.join(sorted(str(h) for h in hashes))}); rerun with force=true or another name=")
        missing = sorted(set(range(splits[0])) - {int(f.name.split("-")[1]) for f in chunks})
        if missing and not partial:
            raise ConfigError(f"{str(folder)!r}: chunks {', '.join(map(str, missing[:10]))} of {splits[0]} are "
                              "missing; run them (experiment.chunk=...) or collect with --partial")
        for f in chunks:
            record_path = chunk_manifest_path(f)
            record = read_manifest(record_path)
            verify(folder, record.get("files"), _remake(record, f"experiment.chunk={int(f.name.split('-')[1])}"),
                   where=str(folder))
            merged[f.name] = file_sha256(record_path) if record else file_sha256(f)
        try:
            table = merge(folder)
        except Exception as err:  # a damaged chunk file made before chunks recorded their digests
            raise ConfigError(f"{str(folder)!r}: a chunk file cannot be read ({str(err).splitlines()[0]}); rerun "
                              "its job with force=true (experiment.chunk=...)") from None
    else:
        if not runs:
            raise ConfigError(f"{str(folder)!r}: no complete runs (folders with manifest.json) or chunk files "
                              "to collect")
        tables, summaries = [], []
        for r in runs:
            record = read_manifest(r / MANIFEST)
            verify(r, record.get("files"), _remake(record))
            merged[r.name] = file_sha256(r / MANIFEST)
            columns = {"run": r.name, **_override_columns(record)}
            try:
                tables.append(pd.read_parquet(r / "outcomes.parquet").assign(**columns))
                summaries.append(pd.read_csv(r / "summary.csv").assign(**columns))
            except Exception as err:  # a damaged file of a folder made before files recorded their digests
                raise ConfigError(f"{r}: its tables cannot be read ({str(err).strip().splitlines()[0]}); "
                                  f"{_remake(record)}") from None
        table = pd.concat(tables, ignore_index=True)
        outputs["merged_summary.csv"] = pd.concat(summaries, ignore_index=True)
    outputs["merged.parquet"] = table
    return outputs, merged


MERGED_MANIFEST = "merged.manifest.json"


def _write_together(folder: Path, outputs: dict[str, pd.DataFrame], record: dict | None = None) -> None:
    """Write every output to a temporary first and rename them only when all are written, so a failure
    (a full disk) leaves the previous outputs or none, never a new summary beside no table. ``record``
    goes into :data:`MERGED_MANIFEST` with the outputs' digests, renamed last."""
    from sim.sweeps.results import temporary_name

    written: list[tuple[Path, Path]] = []
    try:
        for name, frame in outputs.items():
            target = folder / name
            tmp = temporary_name(target)
            written.append((tmp, target))
            if name.endswith(".csv"):
                frame.to_csv(tmp, index=False)
            else:
                frame.to_parquet(tmp, index=False)
        if record is not None:
            target = folder / MERGED_MANIFEST
            tmp = temporary_name(target)
            written.append((tmp, target))
            files = {out.name: file_record(t, out.name) for t, out in written[:-1]}
            provenance = {k: v for k, v in manifest(seeds=[], timings={}).items()
                          if k not in ("seeds", "timings_seconds")}
            tmp.write_text(json.dumps({**provenance, **record, "files": files}, indent=2, default=str) + "\n")
    except BaseException:
        for tmp, _ in written:
            tmp.unlink(missing_ok=True)
        raise
    order = {".parquet": 0, ".csv": 1, ".json": 2}
    for tmp, target in sorted(written, key=lambda w: order.get(w[1].suffix, 1)):
        tmp.replace(target)
