"""Calibration of the model's constants against the evidence: history matching with Gaussian-process emulators.

The model's answer rests on constants that are mostly assumed (the registry, :mod:`sim.params.constants`) and on
mechanism parameters (``Params`` group "mechanism"). Rather than one hand-picked set, calibration finds every set
that the evidence cannot rule out, following history matching as epidemiological agent-based models use it
(Vernon, Goldstein & Bower 2010, Bayesian Analysis 5:619-669; Andrianakis et al. 2015, PLoS Comput Biol
11:e1003968):

1. **Targets as data** (``sim/conf/calibration/targets.yaml``, :func:`load_targets`): each pattern's model quantity,
   its range, a tolerance (the battery's noise plus model discrepancy) and its source; some targets are *held out*
   and only validate the result.
2. **A summary battery** (:func:`battery`) computes every quantity for many constant sets in one batch of the
   compiled core (common random numbers: each set meets the same seeds, so differences between sets are not seed
   noise).
3. **Waves**: run the battery on a design over the current non-implausible space (wave 1: a Latin hypercube over
   the prior, the registry's plausible ranges), fit one emulator per target (a Gaussian process on the inputs that
   matter most for it), and rule out every point whose implausibility ``I = distance outside the target's range /
   sqrt(emulator variance + tolerance^2)`` exceeds the cut-off (3, Pukelsheim's three-sigma rule) for any target.
   Each wave refocuses on what is left.
4. **The ensemble**: every simulated constant set (of any wave, and of a last draw from the final
   non-implausible space) whose battery meets every calibration target (each quantity in its range, give or take
   one tolerance), thinned by maximin distance to the wanted size (diverse members; it keeps the accepted region's
   edges, so the ensemble's spread is an upper bound of the accepted region's). If none does, the calibration
   reports which targets conflict (no set meets both of a pair that sets meet one at a time): a finding about the
   model, not a reason to widen a tolerance.

Why history matching and not ABC-SMC (pyabc): with about 120 inputs and a battery of ~1 s per set, ABC needs
tens of thousands of simulations per generation to move its particles, while emulators learn from a few hundred
runs per wave which inputs matter for which target, and say so (the diagnostics' "constrained by" table).
``docs/calibration.md`` gives the comparison.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.targets import QUANTITIES, Target
from sim.model.outcomes import LOWER_IS_BETTER, OUTCOMES
from sim.params import Params
from sim.params.constants import CONSTANTS
from sim.runtime.errors import CalibrationError
from sim.runtime.temporaries import atomic_write_bytes

CALIBRATION_DIR = Path(__file__).resolve().parents[1] / "conf" / "calibration"
ENSEMBLE = CALIBRATION_DIR / "ensemble.csv"
#: The members' calibration battery under the code that made them, beside the ensemble
#: (``scripts/restamp_ensemble.py`` and the tests compare later code with it).
BATTERY_FILE = "battery.parquet"
PROVENANCE = CALIBRATION_DIR / "provenance.json"
#: Constants not calibrated: the experience weights (a measurement's weights, jointly constrained to sum to 1,
#: that no pattern speaks to) and the need's arbitrary unit.
FIXED_CONSTANTS: tuple[str, ...] = ("experience_weight_continuity", "experience_weight_access",
                                    "experience_weight_safety", "experience_weight_voice", "base_need")
YEAR_5 = tuple(range(49, 61))
EARLY = tuple(range(19, 31))
MARGIN = 0.01  # worse by more than this counts as a failure (as in sim.analysis.evidence_patterns)


# --- prior ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Dimension:
    """One calibrated input: a registry constant or a mechanism parameter, with its prior range."""

    name: str
    kind: str  # "constant" or "mechanism"
    low: float
    high: float
    default: float


def prior(fixed: Sequence[str] = FIXED_CONSTANTS, mechanisms: bool = True,
          bounds: dict[str, Sequence[float]] | None = None) -> tuple[Dimension, ...]:
    """The prior: every registry constant (but ``fixed``) and, with ``mechanisms``, every numeric mechanism
    parameter, uniform over its plausible range. ``bounds`` narrows a range ``{name: (low, high)}``; it must
    stay inside the registry's (or schema's) range."""
    registry = {c.name: Dimension(c.name, "constant", c.low, c.high, c.value) for c in CONSTANTS}
    schema = {s.name: Dimension(s.name, "mechanism", float(s.low), float(s.high), float(s.default))
              for s in Params.schema() if s.group == "mechanism" and s.type is float}
    known = {**registry, **schema}
    for name in fixed:
        if name not in registry:
            raise CalibrationError(f"prior: fixed constant {name!r} is not in the registry")
    dims = {n: d for n, d in registry.items() if n not in fixed and d.high > d.low}
    if mechanisms:
        dims.update(schema)
    for name, pair in (bounds or {}).items():
        if name not in known:
            raise CalibrationError(f"prior.bounds: {name!r} is neither a registry constant nor a mechanism "
                                   "parameter")
        if name in fixed:
            raise CalibrationError(f"prior.bounds: {name!r} is fixed (prior.fixed); remove it from one of the two")
        if name in schema and not mechanisms:
            raise CalibrationError(f"prior.bounds: {name!r} is a mechanism parameter, but prior.mechanisms is false")
        base = known[name]
        try:
            low, high = (float(v) for v in pair)
        except (TypeError, ValueError):
            raise CalibrationError(f"prior.bounds[{name!r}]={pair!r}: must be [low, high]") from None
        if not base.low <= low < high <= base.high:
            raise CalibrationError(f"prior.bounds[{name!r}]=[{low:g}, {high:g}]: outside the plausible range "
                                   f"[{base.low:g}, {base.high:g}] of {name!r} (or low >= high)")
        dims[name] = Dimension(name, base.kind, low, high, base.default)
    return tuple(dims.values())


def scale_up(unit: np.ndarray, dims: Sequence[Dimension]) -> pd.DataFrame:
    """Points of the unit cube as constant sets (one column per dimension)."""
    low = np.array([d.low for d in dims])
    high = np.array([d.high for d in dims])
    return pd.DataFrame(low + np.asarray(unit) * (high - low), columns=[d.name for d in dims])


def scale_down(sets: pd.DataFrame, dims: Sequence[Dimension]) -> np.ndarray:
    low = np.array([d.low for d in dims])
    high = np.array([d.high for d in dims])
    return (sets[[d.name for d in dims]].to_numpy(dtype=float) - low) / (high - low)


def member_params(member: pd.Series | dict, base: Params | None = None) -> Params:
    """A constant set (a row of the ensemble) applied to ``base``: registry constants go to ``constants``,
    mechanism parameters to their fields."""
    base = Params() if base is None else base
    names = set(Params.names())
    row = dict(member)
    fields = {k: float(v) for k, v in row.items() if k in names}
    consts = {k: float(v) for k, v in row.items() if k not in names}
    return base.replace(**fields, constants={**dict(base.constants), **consts})


# --- the summary battery --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BatterySizes:
    """Runs per constant set: ``seeds`` paired seeds of the one-context comparisons, ``contexts`` uniform contexts
    (one paired seed each), ``direction_seeds`` per end of each seed context, ``long_seeds`` for the 120-month
    patterns."""

    seeds: int = 16
    contexts: int = 240
    direction_seeds: int = 8
    long_seeds: int = 16
    #: added to every seed and to the uniform contexts' sample seed: another draw of the battery's own noise
    #: (:func:`battery_noise`); 0 in a calibration, so every set meets the same seeds
    seed_offset: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.seed_offset, bool) or not isinstance(self.seed_offset, int) or self.seed_offset < 0:
            raise CalibrationError(f"battery.seed_offset={self.seed_offset!r}: must be a whole number >= 0")
        for name in ("seeds", "contexts", "direction_seeds", "long_seeds"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise CalibrationError(f"battery.{name}={value!r}: must be a whole number >= 1")
        if self.contexts < 10:
            raise CalibrationError(f"battery.contexts={self.contexts!r}: must be at least 10 (P10 needs contexts with "
                                   "senior commitment >= 0.5 and the bottom fifth of each context among them)")

    @classmethod
    def tiny(cls) -> BatterySizes:
        return cls(seeds=2, contexts=12, direction_seeds=1, long_seeds=2)

    def scenarios(self) -> int:
        from sim.analysis.patterns import SEED_CONTEXTS

        return (2 * self.seeds * 5 + 2 * self.contexts + 4 * self.direction_seeds * len(SEED_CONTEXTS)
                + 5 * self.long_seeds)


_KEEP_SHORT = (0, *EARLY, *YEAR_5)


@dataclass
class _Plan:
    """The battery's scenarios for one constant set (a template repeated for every set), by block."""

    short: pd.DataFrame
    long: pd.DataFrame
    blocks: dict[str, np.ndarray] = field(default_factory=dict)  # block -> row positions in short or long
    contexts: pd.DataFrame | None = None


def _plan(sizes: BatterySizes) -> _Plan:
    from sim.analysis.patterns import SEED_CONTEXTS, context_sample

    short: list[dict] = []
    long: list[dict] = []
    blocks: dict[str, list[int]] = {}

    def add(rows: list[dict], block: str, items: list[dict]) -> None:
        blocks[block] = list(range(len(rows), len(rows) + len(items)))
        rows.extend(items)

    def paired(n: int, seed0: int, **fields: Any) -> list[dict]:  # alliance rows, then traditional, same seeds
        return [{**fields, "commissioning": m, "seed": seed0 + i} for m in ("alliance", "traditional")
                for i in range(n)]

    s = sizes.seeds
    add(short, "default", paired(s, 1000))
    add(short, "abc_off", paired(s, 1000, disabled="A,B,C"))
    add(short, "monitoring", [{"commissioning": "traditional", "monitoring": m, "seed": 1000 + i}
                              for m in (0.0, 1.0) for i in range(s)])
    add(short, "size6", paired(s, 1000, n_providers=6))
    add(short, "size30", paired(s, 1000, n_providers=30))
    contexts = context_sample(sizes.contexts, seed=11 + sizes.seed_offset)
    add(short, "contexts", [{**row, "commissioning": m, "seed": 5000 + i} for m in ("alliance", "traditional")
                            for i, row in enumerate(contexts.to_dict("records"))])
    for name in SEED_CONTEXTS:
        spec = Params.spec(name)
        for end, value in (("low", spec.low), ("high", spec.high)):
            add(short, f"dir:{name}:{end}", paired(sizes.direction_seeds, 1000, **{name: value}))
    n = sizes.long_seeds
    add(long, "long", paired(n, 1000))
    add(long, "stationary", [{"commissioning": "traditional", "austerity": 0.0, "seed": i} for i in range(n)])
    add(long, "free", [{"commissioning": "alliance", "pooled_share": 1.0, "monitoring": 0.1, "seed": i}
                       for i in range(n)])
    senior = Params().senior_commitment
    add(long, "trust", [{"commissioning": "alliance", "events": f"leadership_change@36=0,leadership_change@72={senior}",
                         "seed": i} for i in range(n)])
    frames = []
    for rows, horizon in ((short, 60), (long, 120)):
        frame = pd.DataFrame(rows)
        frame["seed"] += sizes.seed_offset
        frame["horizon"] = horizon
        for col in frame.columns:  # a field a block does not set takes its default
            if col != "seed":
                default = Params.spec(col).default
                frame[col] = frame[col].fillna("" if isinstance(default, tuple) else default)
        frames.append(frame)
    return _Plan(frames[0], frames[1], {k: np.array(v) for k, v in blocks.items()}, contexts)


def _constants_column(sets: pd.DataFrame, dims: Sequence[Dimension]) -> list[str]:
    from sim.model.core import constants_text

    names = [d.name for d in dims if d.kind == "constant"]
    return [constants_text(tuple(sorted(zip(names, map(float, row), strict=True))))
            for row in sets[names].itertuples(index=False)] if names else [""] * len(sets)


def _run_block_table(template: pd.DataFrame, sets: pd.DataFrame, dims: Sequence[Dimension], keep: Sequence[int],
                     workers: int) -> dict[str, np.ndarray]:
    """Simulate ``template`` once for every constant set; returns ``{outcome: (sets, rows, months)}``."""
    from sim.model.core import simulate

    t = len(template)
    table = template.loc[np.tile(np.arange(t), len(sets))].reset_index(drop=True)
    seeds = table.pop("seed").to_numpy()
    for d in dims:
        if d.kind == "mechanism":
            table[d.name] = np.repeat(sets[d.name].to_numpy(dtype=float), t)
    table["constants"] = np.repeat(np.array(_constants_column(sets, dims), dtype=object), t)
    ds = simulate(table, seeds, keep=list(keep), workers=workers)
    return {name: ds[name].values.reshape(len(sets), t, -1) for name in OUTCOMES}


def _gain(name: str, alliance: np.ndarray, traditional: np.ndarray) -> np.ndarray:
    return traditional - alliance if name in LOWER_IS_BETTER else alliance - traditional


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.inf)


def _summaries(short: dict[str, np.ndarray], long: dict[str, np.ndarray], plan: _Plan,
               sizes: BatterySizes) -> pd.DataFrame:
    """Every battery quantity for each constant set, from the simulated blocks."""
    from sim.analysis.patterns import SEED_CONTEXTS

    col = {m: i for i, m in enumerate(_KEEP_SHORT)}
    early = [col[m] for m in EARLY]
    late = [col[m] for m in YEAR_5]
    b = plan.blocks

    def halves(values: np.ndarray, block: str) -> tuple[np.ndarray, np.ndarray]:
        rows = values[:, b[block]]
        half = rows.shape[1] // 2
        return rows[:, :half], rows[:, half:]

    frag = short["fragmentation"]
    out: dict[str, np.ndarray] = {}
    a, t = halves(frag, "default")
    out["parity"] = (t[:, :, col[0]] - a[:, :, col[0]]).mean(axis=1)
    month60 = col[60]
    out["effect"] = _ratio(t[:, :, month60].mean(1) - a[:, :, month60].mean(1), t[:, :, month60].mean(1))
    for name, months in (("early_reduction", early), ("late_reduction", late)):
        am, tm = a[:, :, months].mean((1, 2)), t[:, :, months].mean((1, 2))
        out[name] = _ratio(tm - am, tm)
    _, lost = halves(short["gaps"], "default")
    out["lost_handoffs"] = lost[:, :, late].mean((1, 2))
    va, vt = halves(short["value"], "default")
    vam, vtm = va[:, :, late].mean((1, 2)), vt[:, :, late].mean((1, 2))
    out["value_gain"] = _ratio(vam - vtm, vtm)
    # contexts: year-5 gain on every outcome
    gains = {}
    for name, values in short.items():
        ca, ct = halves(values, "contexts")
        gains[name] = _gain(name, ca[:, :, late].mean(2), ct[:, :, late].mean(2))  # (sets, contexts)
    worse = gains["fragmentation"] < -MARGIN
    out["failure_share"] = worse.mean(axis=1)
    ctx = plan.contexts
    backed = ctx["senior_commitment"].to_numpy() >= 0.5
    groups = [backed]
    for values in (ctx["initial_trust"].to_numpy(), ctx["culture_readiness"].to_numpy(),
                   ctx[["community_confidence", "community_capacity", "community_connectedness"]].mean(axis=1)
                   .to_numpy(), ctx["pooled_share"].to_numpy()):
        if backed.any():
            groups.append(backed & (values <= np.quantile(values[backed], 0.2)))
    shares = [worse[:, g].mean(axis=1) for g in groups if g.any()]
    out["backed_failure_least"] = np.min(shares, axis=0) if shares else np.full(len(worse), np.nan)
    out["least_worse_share"] = np.min([(g < 0).mean(axis=1) for g in gains.values()], axis=0)
    off = []
    for name, values in short.items():
        oa, ot = halves(values, "abc_off")
        off.append(_gain(name, oa[:, :, late].mean((1, 2)), ot[:, :, late].mean((1, 2))))
    out["abc_off_gain"] = np.max(off, axis=0)
    moves = []
    for name in ("fragmentation", "value"):
        m0, m1 = halves(short[name], "monitoring")
        moves.append(np.abs(m1[:, :, late].mean((1, 2)) - m0[:, :, late].mean((1, 2))))
    out["monitoring_lever"] = np.max(moves, axis=0)
    adv = {}
    for size in ("size6", "size30"):
        sa, st = halves(frag, size)
        adv[size] = st[:, :, late].mean((1, 2)) - sa[:, :, late].mean((1, 2))
    out["size_ratio"] = _ratio(adv["size30"], adv["size6"])
    rises = []
    for name in SEED_CONTEXTS:
        ends = []
        for end in ("low", "high"):
            da, dt = halves(frag, f"dir:{name}:{end}")
            ends.append((dt[:, :, month60] - da[:, :, month60]).mean(axis=1))
        rises.append(ends[1] - ends[0])
    out["direction_least"] = np.min(rises, axis=0)
    # the 120-month runs
    lf = long["fragmentation"]
    la, lt = halves(lf, "long")
    curve = (lt - la).mean(axis=1)  # (sets, months 0-120)
    final = curve[:, 110:121].mean(axis=1)
    reached = curve >= 0.9 * final[:, None]
    out["timing"] = np.where(final > 0, np.argmax(reached, axis=1), -1).astype(float)
    st = lf[:, b["stationary"]].mean(axis=1)
    out["stationary_drift"] = st[:, 116:121].mean(1) - st[:, 22:27].mean(1)
    low = long["low_effort"][:, b["free"]].mean(axis=1)
    out["free_riding_late"] = low[:, 109:121].mean(1)
    out["free_riding_fall"] = low[:, 1:13].mean(1) - out["free_riding_late"]
    trust = long["mean_trust"][:, b["trust"]].mean(axis=1)
    fall = (trust[:, 36] - trust[:, 48]) / 12.0
    rise = (trust[:, 84] - trust[:, 72]) / 12.0
    # as P6 asks: both a fall and a rebuild (trust that never rebuilds does not meet it)
    out["trust_asymmetry"] = np.where((fall > 0) & (rise > 0), fall / np.where(rise > 0, rise, 1.0), 0.0)
    return pd.DataFrame({q: out[q] for q in QUANTITIES})


def battery(sets: pd.DataFrame, dims: Sequence[Dimension], sizes: BatterySizes | None = None, *, workers: int = 1,
            chunk: int = 8, progress: Callable[[int], None] | None = None) -> pd.DataFrame:
    """Every calibration quantity (:data:`QUANTITIES`) for each constant set (a row of ``sets``, one column per
    dimension), ``chunk`` sets per batch of the compiled core. A set's quantities depend only on the set and the
    battery's fixed seeds, never on which other sets share its batch."""
    sizes = BatterySizes() if sizes is None else sizes
    missing = [d.name for d in dims if d.name not in sets.columns]
    if missing:
        raise CalibrationError(f"battery: constant sets lack the column {missing[0]!r}")
    plan = _plan(sizes)
    parts = []
    for start in range(0, len(sets), chunk):
        part = sets.iloc[start:start + chunk].reset_index(drop=True)
        short = _run_block_table(plan.short, part, dims, _KEEP_SHORT, workers)
        long = _run_block_table(plan.long, part, dims, range(121), workers)
        # one set at a time: numpy's summation order depends on an array's shape, so summaries of a batch of sets
        # would differ in the last bits with the batch's size (chunks, launcher jobs)
        for i in range(len(part)):
            parts.append(_summaries({k: v[i:i + 1] for k, v in short.items()},
                                    {k: v[i:i + 1] for k, v in long.items()}, plan, sizes))
        if progress is not None:
            progress(len(part))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(QUANTITIES))


def battery_chunk_file(sets_file: str, dims: list[dict], sizes: dict, n_chunks: int, chunk: int, folder: str,
                       workers: int = 1) -> str:
    """One launcher job of :func:`run_battery`: the battery of chunk ``chunk`` of ``n_chunks`` of the constant sets
    in ``sets_file``, written to ``folder`` (atomically). Arguments are plain data: SLURM jobs receive them
    pickled."""
    sets = pd.read_parquet(sets_file)
    part = np.array_split(np.arange(len(sets)), n_chunks)[chunk]
    values = battery(sets.iloc[part].reset_index(drop=True), [Dimension(**d) for d in dims], BatterySizes(**sizes),
                     workers=workers)
    out = Path(folder) / f"battery-{chunk:05d}-of-{n_chunks:05d}.parquet"
    atomic_write_bytes(out, values.to_parquet)
    return str(out)


def run_battery(sets: pd.DataFrame, dims: Sequence[Dimension], settings: Settings, sizes: BatterySizes, *,
                workers: int = 1, progress: Callable[[int], None] | None = None) -> pd.DataFrame:
    """:func:`battery` in this process, or through ``settings.launcher`` in ``settings.chunks`` jobs (local
    processes or a SLURM job array, as a study's sweeps); the same numbers either way: a set's quantities do not
    depend on its batch. The jobs' files are removed when they succeed and kept, and named, when one fails."""
    if settings.launcher is None or not len(sets):
        return battery(sets, dims, sizes, workers=workers, progress=progress)
    import shutil
    import tempfile
    import uuid

    from omegaconf import OmegaConf

    from sim.sweeps.dispatch import run_jobs

    own_root = settings.work_dir is None
    root = Path(settings.work_dir or tempfile.mkdtemp(prefix="alliance-sim-battery-")).resolve()
    folder = root / f"battery-{uuid.uuid4().hex[:12]}"
    folder.mkdir(parents=True)
    names = [d.name for d in dims]
    sets[names].reset_index(drop=True).to_parquet(folder / "sets.parquet")
    n = min(settings.chunks, len(sets))
    settings_node = OmegaConf.to_container(launcher_node(settings, folder), resolve=True)
    jobs = [(str(folder / "sets.parquet"), [asdict(d) for d in dims], asdict(sizes), n, k, str(folder), workers)
            for k in range(n)]
    try:
        run_jobs(settings_node, jobs, battery_chunk_file)
        values = pd.concat([pd.read_parquet(folder / f"battery-{k:05d}-of-{n:05d}.parquet") for k in range(n)],
                           ignore_index=True)
    except Exception as err:
        text = " ".join(str(err).split())[-1500:] or type(err).__name__
        raise CalibrationError(f"battery through calibration.launcher={settings.launcher} failed (files kept in "
                               f"{folder}): {text}") from None
    shutil.rmtree(root if own_root else folder, ignore_errors=True)
    if progress is not None:
        progress(len(sets))
    return values


def launcher_node(settings: Settings, folder: Path | None = None) -> Any:
    """The composed ``hydra.launcher`` node of ``settings.launcher`` and its overrides; a launcher that does not
    exist or settings that do not compose are one clear error naming ``calibration.launcher``."""
    from sim.sweeps.cluster import ClusterError, launcher_config

    folder = folder or Path(settings.work_dir or ".")
    try:
        return launcher_config(str(settings.launcher), list(settings.launcher_overrides),
                               context=[f"results_root={folder}", f"hydra.sweep.dir={folder / 'hydra'}",
                                        "name=chunks"], setting="calibration.launcher")
    except ClusterError as err:
        raise CalibrationError(str(err)) from None


#: Ratios blow up when their denominator nears 0; emulators learn them clipped to these spans.
_EMULATION_SPAN: dict[str, tuple[float, float]] = {"trust_asymmetry": (-10.0, 10.0), "size_ratio": (-5.0, 5.0),
                                                   "timing": (-1.0, 121.0)}


#: Least held-out coverage for an emulator to rule out space.
MIN_COVERAGE = 0.85


def battery_noise(constants: pd.DataFrame, dims: Sequence[Dimension], targets: Sequence[Target], *,
                  replicates: int = 8, sizes: BatterySizes | None = None, workers: int = 1) -> pd.DataFrame:
    """The battery's own noise for one constant set: its quantities under ``replicates`` different seed offsets
    (other seeds and another uniform sample of contexts). Per target: the mean, the standard deviation and the
    standard deviation in tolerances. A target whose battery noise is not small against its tolerance is met or
    missed by chance, and a search over many sets keeps the sets whose noise happened to pass (the winner's
    curse): its tolerance should include this noise, or the battery should run more seeds for it."""
    from dataclasses import replace

    sizes = BatterySizes() if sizes is None else sizes
    runs = [battery(constants.iloc[[0]].reset_index(drop=True), dims, replace(sizes, seed_offset=100_000 * r),
                    workers=workers) for r in range(replicates)]
    values = pd.concat(runs, ignore_index=True)
    rows = []
    for t in targets:
        v = values[t.quantity].to_numpy(dtype=float)
        rows.append({"target": t.name, "quantity": t.quantity, "range": t.range_text, "tolerance": t.tolerance,
                     "mean": float(np.mean(v)), "sd": float(np.std(v, ddof=1)),
                     "sd_in_tolerances": float(np.std(v, ddof=1) / t.tolerance),
                     "share_met": float(t.met(v).mean()), "replicates": replicates})
    return pd.DataFrame(rows)


# --- emulators ------------------------------------------------------------------------------------------------
@dataclass
class Emulator:
    """A Gaussian process of one quantity over the unit cube, on the inputs that matter most for it."""

    quantity: str
    active: np.ndarray  # indices of the active inputs
    model: Any  # sklearn GaussianProcessRegressor
    r2: float = float("nan")  # held-out accuracy
    coverage: float = float("nan")  # held-out share with |standardised error| <= 3

    @property
    def trusted(self) -> bool:
        """Used to rule out space only if its held-out errors were within 3 predicted standard deviations for at
        least :data:`MIN_COVERAGE` of the runs (Andrianakis et al. 2015 use validated emulators only)."""
        return not self.coverage < MIN_COVERAGE  # no validation (too few runs): trusted

    def predict(self, unit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mean, sd = self.model.predict(np.asarray(unit)[:, self.active], return_std=True)
        return mean, sd ** 2


def _emulation_values(quantity: str, values: np.ndarray) -> np.ndarray:
    """The values an emulator learns: ratios clipped to their span; a value that is not finite (a ratio whose
    denominator was 0, a share of an empty group) becomes the largest (or, for -inf, smallest) finite value seen."""
    v = np.asarray(values, dtype=float)
    finite = v[np.isfinite(v)]
    if not len(finite):
        return np.zeros_like(v)
    low, high = _EMULATION_SPAN.get(quantity, (finite.min(), finite.max()))
    return np.clip(np.nan_to_num(v, nan=high, posinf=high, neginf=low), low, high)


def active_inputs(unit: np.ndarray, y: np.ndarray, n_active: int) -> np.ndarray:
    """The inputs that explain most of ``y``: largest absolute rank correlation, then largest linear and
    quadratic effect (Andrianakis et al. 2015 select active inputs by stepwise regression; rank correlation is
    its cheap first step)."""
    from scipy.stats import rankdata

    ry = rankdata(y)
    rx = np.apply_along_axis(rankdata, 0, unit)
    rx = rx - rx.mean(0)
    ry = ry - ry.mean()
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.abs(rx.T @ ry) / (np.sqrt((rx ** 2).sum(0) * (ry ** 2).sum()) + 1e-12)
    # a U-shaped effect has no rank correlation: add the correlation with (x - 0.5)^2
    sq = (unit - 0.5) ** 2
    sq = sq - sq.mean(0)
    yc = y - y.mean()
    with np.errstate(invalid="ignore", divide="ignore"):
        corr2 = np.abs(sq.T @ yc) / (np.sqrt((sq ** 2).sum(0) * (yc ** 2).sum()) + 1e-12)
    score = np.nan_to_num(np.maximum(corr, corr2))
    return np.sort(np.argsort(-score, kind="stable")[:n_active])


def fit_emulator(unit: np.ndarray, values: np.ndarray, quantity: str, *, n_active: int = 10, seed: int = 0,
                 validate: float = 0.2) -> Emulator:
    """Fit the emulator of ``quantity``; its accuracy is measured on a held-out ``validate`` share of the runs
    (refitted on all of them afterwards)."""
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

    y = _emulation_values(quantity, values)
    active = active_inputs(unit, y, min(n_active, unit.shape[1]))

    def gp() -> Any:
        kernel = (ConstantKernel(1.0, (1e-3, 1e3)) * RBF(np.full(len(active), 0.5), (0.02, 50.0))
                  + WhiteKernel(0.1, (1e-6, 10.0)))
        return GaussianProcessRegressor(kernel, normalize_y=True, n_restarts_optimizer=1, random_state=seed)

    import warnings

    from sklearn.exceptions import ConvergenceWarning

    rng = np.random.default_rng(seed)
    order = rng.permutation(len(y))
    held = order[: int(round(validate * len(y)))]
    kept = order[len(held):]
    r2 = coverage = float("nan")
    with warnings.catch_warnings():  # a length-scale at its bound only says that input hardly matters here
        warnings.simplefilter("ignore", ConvergenceWarning)
        if len(held) >= 5 and len(kept) >= 10:
            model = gp().fit(unit[kept][:, active], y[kept])
            mean, sd = model.predict(unit[held][:, active], return_std=True)
            resid = y[held] - mean
            total = ((y[held] - y[held].mean()) ** 2).sum()
            r2 = float(1.0 - (resid ** 2).sum() / total) if total > 0 else float("nan")
            coverage = float((np.abs(resid) <= 3.0 * np.maximum(sd, 1e-12)).mean())
        model = gp().fit(unit[:, active], y)
    return Emulator(quantity, active, model, r2, coverage)


def max_implausibility(unit: np.ndarray, emulators: dict[str, Emulator], targets: Sequence[Target],
                       cutoff: float = math.inf) -> np.ndarray:
    """The largest implausibility over ``targets`` at each point (targets without an emulator are skipped);
    points already above ``cutoff`` are not evaluated further."""
    worst = np.zeros(len(unit))
    for target in targets:
        emulator = emulators.get(target.name)
        if emulator is None or not emulator.trusted:
            continue
        live = worst <= cutoff
        if not live.any():
            break
        mean, var = emulator.predict(unit[live])
        worst[live] = np.maximum(worst[live], target.implausibility(mean, var))
    return worst


# --- results --------------------------------------------------------------------------------------------------
def conflicts(values: pd.DataFrame, targets: Sequence[Target], slack: float = 1.0) -> pd.DataFrame:
    """Which targets the simulated sets meet alone and in pairs: pairs met one at a time but (almost) never
    together are the conflicting ones."""
    met = {t.name: t.met(values[t.quantity].to_numpy(), slack) for t in targets}
    rows = []
    names = list(met)
    for i, a in enumerate(names):
        for b_ in names[i + 1:]:
            rows.append({"target_a": a, "target_b": b_, "share_a": met[a].mean(), "share_b": met[b_].mean(),
                         "share_both": (met[a] & met[b_]).mean()})
    frame = pd.DataFrame(rows, columns=["target_a", "target_b", "share_a", "share_b", "share_both"])
    if len(frame):
        frame["expected_if_independent"] = frame["share_a"] * frame["share_b"]
        frame = frame.sort_values(["share_both", "expected_if_independent"], ascending=[True, False])
    return frame


def conflict_chain(values: pd.DataFrame, targets: Sequence[Target], slack: float = 1.0) -> pd.DataFrame:
    """Conflicts of more than two targets: targets added one at a time, each time the one that keeps the most sets
    meeting all added so far. The step where the count falls to zero names a target that no set meeting the earlier
    ones meets (a conflict with them as a group, which pairs can miss); ``then`` is that target's value over the
    sets that met the earlier ones (median, least, most)."""
    met = {t.name: t.met(values[t.quantity].to_numpy(), slack) for t in targets}
    by_name = {t.name: t for t in targets}
    keep = np.ones(len(values), dtype=bool)
    rows, left = [], list(met)
    while left:
        name = max(left, key=lambda n: int((keep & met[n]).sum()))
        before = keep.copy()
        keep &= met[name]
        left.remove(name)
        v = values[by_name[name].quantity].to_numpy(dtype=float)[before]
        rows.append({"target": name, "range": by_name[name].range_text, "sets_meeting_all_so_far": int(keep.sum()),
                     "median_before": float(np.median(v)) if len(v) else np.nan,
                     "least_before": float(v.min()) if len(v) else np.nan,
                     "most_before": float(v.max()) if len(v) else np.nan})
    return pd.DataFrame(rows)


def meets_all(values: pd.DataFrame, targets: Sequence[Target], slack: float = 1.0) -> np.ndarray:
    ok = np.ones(len(values), dtype=bool)
    for t in targets:
        ok &= t.met(values[t.quantity].to_numpy(), slack)
    return ok


def _provenance_file(ensemble: Path) -> Path:
    """The provenance beside an ensemble file: ``ensemble.csv`` -> ``provenance.json``."""
    return ensemble.with_name(ensemble.stem.replace("ensemble", "provenance") + ".json")


def load_ensemble(path: str | Path = ENSEMBLE, *, check_version: bool = True) -> pd.DataFrame:
    """The shipped ensemble: one row per constant set (registry constants and mechanism parameters by name), each
    usable as ``member_params(row)`` or, for the constants alone, ``Params(constants=...)``. An ensemble made by
    another code version is refused, naming both versions."""
    path = Path(path)
    if not path.exists():
        raise CalibrationError(f"ensemble {str(path)!r}: not found; build it with experiments/calibrate.py")
    provenance_file = _provenance_file(path)
    if check_version and not provenance_file.exists():
        import warnings

        warnings.warn(f"ensemble {str(path)!r} has no {provenance_file.name} beside it: the model version it was "
                      "calibrated on cannot be checked", stacklevel=2)
    if check_version and provenance_file.exists():
        made_by = json.loads(provenance_file.read_text()).get("model_version")
        now = model_version()
        if made_by != now:
            raise CalibrationError(f"ensemble {str(path)!r} was calibrated on model version {made_by!r}, but this "
                                   f"is {now!r}: the model's code changed since; rebuild it with "
                                   "experiments/calibrate.py, or, if the change moves no result, carry it over "
                                   "with scripts/restamp_ensemble.py "
                                   "(or load it with check_version=False to compare)")
    frame = pd.read_csv(path)
    known = {c.name for c in CONSTANTS} | {s.name for s in Params.schema() if s.group == "mechanism"}
    unknown = [c for c in frame.columns if c not in known]
    if unknown:
        raise CalibrationError(f"ensemble {str(path)!r}: unknown column {unknown[0]!r} (an ensemble holds registry "
                               "constants and mechanism parameters only)")
    bad = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c]) or frame[c].isna().any()]
    if bad:
        raise CalibrationError(f"ensemble {str(path)!r}: column {bad[0]!r} holds a value that is not a number")
    return frame


def model_version() -> str:
    """The equations and the priors an ensemble was calibrated on: SHA-256 of the model's source (``sim/model``,
    ``sim/engine``, the identity results folders carry), the event presets, every constant's plausible range (and
    the value of the constants not calibrated) and every parameter's range (and the default of those that are not
    mechanism parameters: the contexts and levers the battery holds at their defaults), first 16 hex digits.
    Moving a calibrated constant's default (say, to an ensemble member) leaves the version unchanged."""
    from sim.sweeps.identity import model_source

    digest = hashlib.sha256(model_source().encode())
    events = Path(__file__).resolve().parents[1] / "params" / "events.py"
    digest.update(events.read_bytes())
    for c in CONSTANTS:
        fixed = f" = {c.value!r}" if c.name in FIXED_CONSTANTS else ""
        digest.update(f"constant {c.name} [{c.low!r}, {c.high!r}]{fixed}\n".encode())
    for spec in Params.schema():
        default = "" if spec.group == "mechanism" else f" = {spec.default!r}"
        digest.update(f"parameter {spec.name} {spec.group} [{spec.low!r}, {spec.high!r}]{default}\n".encode())
    return digest.hexdigest()[:16]


def provenance(targets_file: Path, dims: Sequence[Dimension], settings: dict[str, Any],
               waves: list[dict[str, Any]]) -> dict[str, Any]:
    from datetime import UTC, datetime

    from sim import __version__
    from sim.sweeps.identity import file_sha256
    from sim.sweeps.results import git_commit, machine

    return {"targets_file": str(targets_file.name), "targets_sha256": file_sha256(targets_file),
            "prior": [asdict(d) for d in dims], "settings": settings, "waves": waves,
            "model_version": model_version(), "package_version": __version__, "git_commit": git_commit(),
            "machine": machine(), "date": datetime.now(UTC).isoformat(timespec="seconds")}


# --- the waves ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Settings:
    """How a calibration runs: waves, runs per wave, candidates screened per wave, the cut-off, emulator inputs,
    the wanted ensemble size, the battery's sizes and the seed of the designs."""

    waves: int = 4
    runs_per_wave: int = 300
    candidates: int = 50_000
    cutoff: float = 3.0
    n_active: int = 10
    ensemble_size: int = 100
    # a member meets a target within its range give or take this many tolerances; negative: at least this many
    # tolerances inside every bound (a margin against the battery's noise)
    slack: float = 1.0
    seed: int = 20261206
    # after the waves: adaptive population Monte Carlo ABC (Lenormand, Jabot & Deffuant 2013) on the simulated
    # distance to the targets, inside the last non-implausible space
    generations: int = 8  # most generations (0: none)
    keep_share: float = 0.5  # alpha: the share of the population kept as parents each generation
    min_acceptance: float = 0.02  # stop when fewer new sets than this beat the current tolerance
    # an earlier calibration (a folder) of the same model, prior, targets and battery whose simulated sets join the
    # waves' as the population Monte Carlo's first candidates: a stricter slack restarts from its runs
    start_from: str | None = None
    # then ABC-MCMC (Marjoram et al. 2003, PNAS 100:15324): ``chains`` chains from the nearest sets, each step moving
    # ``move_inputs`` inputs of every chain by a normal step of ``move_scale`` (unit cube, reflected at its edges)
    chains: int = 0  # 0: none
    chain_steps: int = 20  # most steps per chain
    move_inputs: int = 3
    move_scale: float = 0.1
    chain_patience: int = 10  # a chain not nearing the targets for this many steps restarts at another near set
    # a member must also meet every target on a second draw of the battery's noise (seeds and uniform contexts shifted
    # by this much): a search keeps the sets whose noise happened to pass (0: no second draw)
    replication_offset: int = 0
    # where the battery runs: in this process (None), or through a sweep launcher (local, submitit_local, slurm,
    # slurm_small, as study.launcher) in ``chunks`` jobs, each running ``workers`` worker processes
    launcher: str | None = None
    chunks: int = 1
    launcher_overrides: list[str] = field(default_factory=list)
    work_dir: str | None = None  # the jobs' files (on a cluster: a folder the nodes share); None: a temporary one
    battery: BatterySizes = field(default_factory=BatterySizes)

    def __post_init__(self) -> None:
        if isinstance(self.generations, bool) or not isinstance(self.generations, int) or self.generations < 0:
            raise CalibrationError(f"calibration.generations={self.generations!r}: must be a whole number >= 0")
        if not 0.0 < self.keep_share < 1.0:
            raise CalibrationError(f"calibration.keep_share={self.keep_share!r}: must be in (0, 1) (0.5 is usual)")
        if not 0.0 <= self.min_acceptance < 1.0:
            raise CalibrationError(f"calibration.min_acceptance={self.min_acceptance!r}: must be in [0, 1)")
        if isinstance(self.chunks, bool) or not isinstance(self.chunks, int) or self.chunks < 1:
            raise CalibrationError(f"calibration.chunks={self.chunks!r}: must be a whole number >= 1 (jobs per "
                                   "battery call through calibration.launcher)")
        for name in ("chains", "chain_steps", "chain_patience", "replication_offset"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise CalibrationError(f"calibration.{name}={value!r}: must be a whole number >= 0")
        if isinstance(self.move_inputs, bool) or not isinstance(self.move_inputs, int) or self.move_inputs < 1:
            raise CalibrationError(f"calibration.move_inputs={self.move_inputs!r}: must be a whole number >= 1 (the "
                                   "inputs each chain step moves)")
        if not 0.0 < self.move_scale <= 0.5:
            raise CalibrationError(f"calibration.move_scale={self.move_scale!r}: must be in (0, 0.5] (the standard "
                                   "deviation of a chain step on each input's range scaled to 0-1)")
        for name in ("waves", "runs_per_wave", "candidates", "n_active", "ensemble_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise CalibrationError(f"calibration.{name}={value!r}: must be a whole number >= 1")
        if not self.cutoff > 0:
            raise CalibrationError(f"calibration.cutoff={self.cutoff!r}: must be > 0 (3 is the usual choice)")
        if not np.isfinite(self.slack):
            raise CalibrationError(f"calibration.slack={self.slack!r}: must be a number (tolerances; < 0 asks "
                                   "for a margin inside each range)")
        if self.start_from is not None and not Path(self.start_from, "plan.json").exists():
            raise CalibrationError(f"calibration.start_from={self.start_from!r}: no calibration there (no plan.json)")


@dataclass
class Wave:
    """One wave: its design (unit cube and constant sets), the battery's quantities, its emulators and the
    non-implausible share of the prior left after it."""

    number: int
    unit: np.ndarray
    values: pd.DataFrame
    emulators: dict[str, Emulator]
    nroy_share: float
    seconds: float

    def record(self) -> dict[str, Any]:
        return {"wave": self.number, "runs": len(self.unit), "nroy_share": self.nroy_share,
                "battery_seconds": round(self.seconds, 1),
                "emulators": {name: {"r2": e.r2, "coverage": e.coverage, "active": len(e.active), "used": e.trusted}
                              for name, e in self.emulators.items()}}


def _plausible(unit: np.ndarray, waves: list[Wave], targets: Sequence[Target], cutoff: float) -> np.ndarray:
    """Whether each point is in the non-implausible space left by every wave's emulators."""
    keep = np.ones(len(unit), dtype=bool)
    for wave in waves:
        if keep.any():
            keep[keep] = max_implausibility(unit[keep], wave.emulators, targets, cutoff) <= cutoff
    return keep


def _nroy_sample(n: int, dims: int, waves: list[Wave], targets: Sequence[Target], settings: Settings,
                 rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """``n`` points of the current non-implausible space and its share of the prior: uniform candidates screened
    by every wave's emulators, topped up (if too few survive) by small moves around the survivors."""
    from scipy.stats import qmc

    def plausible(unit: np.ndarray) -> np.ndarray:
        return _plausible(unit, waves, targets, settings.cutoff)

    candidates = qmc.LatinHypercube(d=dims, seed=rng).random(settings.candidates)
    kept = candidates[plausible(candidates)]
    share = len(kept) / len(candidates)
    pool = kept
    tries = 0
    while 0 < len(pool) < n and tries < 20:  # a small space: walk around its known points
        tries += 1
        parents = pool[rng.integers(len(pool), size=max(n, 1000))]
        children = np.clip(parents + rng.normal(0.0, 0.03, parents.shape), 0.0, 1.0)
        pool = np.concatenate([pool, children[plausible(children)]])
    if len(pool) == 0:
        return pool, share
    pick = rng.choice(len(pool), size=min(n, len(pool)), replace=False)
    return pool[pick], share


def distance(values: pd.DataFrame, targets: Sequence[Target], slack: float = 0.0) -> np.ndarray:
    """Each simulated set's distance to the targets: the largest, over targets, of how far its value lies outside
    the target's range in tolerances (0: every target met; :meth:`Target.depth`). A set meets every target give or
    take ``slack`` tolerances exactly when its distance is at most ``slack``; a value that is not a number is
    infinitely far. Inside the ranges the distance is negative down to ``slack`` (when ``slack`` < 0: the margin
    asked for), and no lower: sets deeper than the margin are equally good."""
    d = np.full(len(values), min(slack, 0.0))
    for t in targets:
        d = np.maximum(d, t.depth(values[t.quantity].to_numpy(dtype=float)) / t.tolerance)
    return d


@dataclass
class Generation:
    """One generation of the population Monte Carlo: its tolerance (the kept parents' largest distance), the
    share of its new sets that beat it, and the sets meeting every target found so far."""

    number: int
    tolerance: float
    acceptance: float
    runs: int
    members: int
    seconds: float

    def record(self) -> dict[str, Any]:
        return {"generation": self.number, "tolerance": self.tolerance, "acceptance": self.acceptance,
                "runs": self.runs, "members_so_far": self.members, "battery_seconds": round(self.seconds, 1)}


#: Nearest good particles that set a parent's kernel (population Monte Carlo).
NEIGHBOURS = 10


def _kernel_log_density(points: np.ndarray, centres: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """log K(points[i] | centres[j]) for the component-wise normal kernel truncated to the unit cube; ``sd`` is
    one row of standard deviations per centre (or one row for all)."""
    from scipy.special import log_ndtr
    from scipy.stats import norm

    sd = np.broadcast_to(np.atleast_2d(sd), centres.shape)
    out = np.zeros((len(points), len(centres)))
    for k in range(points.shape[1]):  # one input at a time keeps memory at points x centres
        mu, s = centres[:, k][None, :], sd[:, k][None, :]
        z = (points[:, k][:, None] - mu) / s
        mass = np.log(np.maximum(np.exp(log_ndtr((1.0 - mu) / s)) - np.exp(log_ndtr(-mu / s)), 1e-300))
        out += norm.logpdf(z) - np.log(s) - mass
    return out


def _local_scales(pop: np.ndarray, w: np.ndarray, dist: np.ndarray, share: float,
                  neighbours: int = NEIGHBOURS) -> np.ndarray:
    """Each parent's kernel: the optimal local covariance of Filippi et al. (2013, Stat Appl Genet Mol Biol
    12:87), component-wise and from the parent's ``neighbours`` nearest particles among those that already meet
    the next generation's tolerance (the nearest ``share`` of the population; Filippi et al.'s nearest-neighbour
    variant): the weighted mean squared distance to them, so the kernel is as wide as the good region around
    the parent, not as the whole population (several separate good regions would otherwise widen every kernel)."""
    best = np.argsort(dist, kind="stable")[:max(2, int(round(share * len(pop))))]
    gap = (pop[best][None, :, :] - pop[:, None, :]) ** 2  # parents x best x inputs
    k = min(neighbours, len(best))
    near = np.argsort(gap.sum(axis=2), axis=1, kind="stable")[:, :k]  # each parent's nearest good particles
    wk = w[best][near]
    wk = wk / wk.sum(axis=1, keepdims=True)
    var = np.einsum("ik,ikd->id", wk, np.take_along_axis(gap, near[:, :, None], axis=1))
    return np.sqrt(np.maximum(var, 1e-6))


def population_monte_carlo(waves: list[Wave], targets: Sequence[Target], dims: Sequence[Dimension],
                           settings: Settings, folder: Path, *, workers: int = 1,
                           log: Callable[[str], None] = print) -> tuple[pd.DataFrame, list[Generation]]:
    """Refine the last non-implausible space by simulation: adaptive population Monte Carlo ABC (Lenormand,
    Jabot & Deffuant 2013, Comput Stat 28:2777; the kernel of Beaumont et al. 2009, Biometrika 96:983).

    The emulators of weak, noisy targets (a least share over contexts) cannot rule much space out, so history
    matching alone leaves a wide space where few sets meet every target at once. The population starts as the
    ``keep_share`` of the waves' runs nearest the targets (:func:`distance`); each generation draws new sets
    around them (a normal kernel per input and parent, as wide as the parent's distance to the particles that
    already meet the next tolerance: Filippi et al.'s optimal local covariance, component-wise; truncated to the
    prior and kept only inside the non-implausible space), simulates them, weights each by prior over proposal density,
    and keeps the nearest ``keep_share`` of old and new as the next parents. It stops when the kept parents all
    meet every target and enough members are found, when fewer than ``min_acceptance`` of the new sets beat the
    tolerance, or after ``generations``. Each generation is saved as it ends (a rerun resumes)."""
    from scipy.special import logsumexp
    from scipy.stats import truncnorm

    names = [d.name for d in dims]
    rng = np.random.default_rng(settings.seed + 1)  # its own stream: the waves' designs do not shift it
    n_keep = max(2, int(round(settings.keep_share * settings.runs_per_wave)))
    n_new = max(1, settings.runs_per_wave - n_keep)
    unit = np.concatenate([w.unit for w in waves])
    values = pd.concat([w.values for w in waves], ignore_index=True)
    if settings.start_from is not None:
        earlier_unit, earlier_values = earlier_runs(Path(settings.start_from), folder, dims)
        unit, values = np.concatenate([unit, earlier_unit]), pd.concat([values, earlier_values], ignore_index=True)
        log(f"population Monte Carlo: {len(earlier_unit)} earlier sets from {settings.start_from} join the waves'")
    dist = distance(values, targets, settings.slack)
    order = np.argsort(dist, kind="stable")[:n_keep]
    pop, pop_dist, pop_logw = unit[order], dist[order], np.full(len(order), -np.log(len(order)))
    members = int((dist <= settings.slack).sum())
    frames: list[pd.DataFrame] = []
    generations: list[Generation] = []
    for number in range(1, settings.generations + 1):
        tolerance = float(pop_dist.max())
        if tolerance <= settings.slack and members >= settings.ensemble_size:
            break
        w = np.exp(pop_logw - logsumexp(pop_logw))
        sd = _local_scales(pop, w, pop_dist, settings.keep_share)
        proposals, tries = [], 0
        while sum(len(p) for p in proposals) < n_new and tries < 50:
            tries += 1
            chosen = rng.choice(len(pop), size=2 * n_new, p=w)
            parents, scale = pop[chosen], sd[chosen]
            a, b = (0.0 - parents) / scale, (1.0 - parents) / scale
            children = truncnorm.rvs(a, b, loc=parents, scale=scale, random_state=rng)
            proposals.append(children[_plausible(children, waves, targets, settings.cutoff)])
        new = np.concatenate(proposals)[:n_new]
        if not len(new):
            log(f"generation {number}: no new set inside the non-implausible space; stopping")
            break
        new, values, seconds = _simulated(folder / f"generation_{number}.parquet", new, dims, settings,
                                          f"generation {number}", workers, log)
        frames.append(pd.concat([scale_up(new, dims), values], axis=1))
        new_dist = distance(values, targets, settings.slack)
        # uniform prior on the non-implausible space: weight = 1 / (the mixture of kernels around the parents)
        new_logw = -logsumexp(np.log(w)[None, :] + _kernel_log_density(new, pop, sd), axis=1)
        acceptance = float((new_dist < tolerance).mean())
        members += int((new_dist <= settings.slack).sum())
        every_unit = np.concatenate([pop, new])
        every_dist = np.concatenate([pop_dist, new_dist])
        every_logw = np.concatenate([pop_logw, new_logw])
        keep = np.argsort(every_dist, kind="stable")[:n_keep]
        pop, pop_dist, pop_logw = every_unit[keep], every_dist[keep], every_logw[keep]
        generations.append(Generation(number, tolerance, acceptance, len(new), members, seconds))
        log(f"generation {number}: tolerance {tolerance:.2f}, {acceptance:.0%} of {len(new)} new sets beat it; "
            f"{members} sets meet every calibration target so far")
        if acceptance < settings.min_acceptance:
            break
    runs = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[*names, *QUANTITIES])
    return runs, generations


def shortfall(values: pd.DataFrame, targets: Sequence[Target], slack: float = 0.0) -> np.ndarray:
    """Each simulated set's summed miss: over targets, how far its value lies outside the range widened by
    ``slack`` tolerances, in tolerances (0 exactly when the set meets every target; infinite for a value that is not
    a number). Unlike :func:`distance` (the largest miss) it credits a set for nearing any target, so a chain
    (:func:`abc_chains`) can trade a little on one target it meets for more on one it misses."""
    total = np.zeros(len(values))
    for t in targets:
        total += np.maximum(t.depth(values[t.quantity].to_numpy(dtype=float)) / t.tolerance - slack, 0.0)
    return total


@dataclass
class ChainStep:
    """One step of the ABC-MCMC chains: how many moves were accepted and the chains at the targets after it."""

    number: int
    runs: int
    accepted: int
    at_targets: int
    members: int
    seconds: float

    def record(self) -> dict[str, Any]:
        return {"step": self.number, "runs": self.runs, "accepted": self.accepted,
                "chains_meeting_every_target": self.at_targets, "members_so_far": self.members,
                "battery_seconds": round(self.seconds, 1)}


#: The chains' starts are spread over this many times ``chains`` of the simulated sets nearest the targets.
START_POOL = 10


def _spread_order(unit: np.ndarray, n: int | None = None) -> np.ndarray:
    """The first ``n`` (default all) points in order for spreading out: the first, then each time the one farthest
    from those taken (greedy maximin)."""
    if not len(unit):
        return np.arange(0)
    order = [0]
    dist = np.linalg.norm(unit - unit[0], axis=1)
    for _ in range(min(len(unit), len(unit) if n is None else n) - 1):
        k = int(np.argmax(dist))
        order.append(k)
        dist = np.minimum(dist, np.linalg.norm(unit - unit[k], axis=1))
    return np.array(order)


def _reflect(x: np.ndarray) -> np.ndarray:
    """Fold a point back into the unit cube at its edges (a reflected step is as likely forward as back)."""
    x = np.mod(x, 2.0)
    return np.where(x > 1.0, 2.0 - x, x)


def relevance(unit: np.ndarray, values: pd.DataFrame, targets: Sequence[Target]) -> np.ndarray:
    """Each input's rank correlation with each target's quantity over the simulated sets (``targets x inputs``;
    a quantity that is not a number ranks in the middle): which way moving an input moves a target."""
    x = pd.DataFrame(unit).rank().to_numpy()
    x = x - x.mean(axis=0)
    out = np.zeros((len(targets), unit.shape[1]))
    for k, t in enumerate(targets):
        y = pd.Series(values[t.quantity].to_numpy(dtype=float)).replace([np.inf, -np.inf], np.nan).rank()
        y = y.fillna(y.mean()).to_numpy()
        if np.ptp(y) == 0:
            continue
        yc = y - y.mean()
        with np.errstate(invalid="ignore", divide="ignore"):
            r = (x * yc[:, None]).sum(axis=0) / np.sqrt((x ** 2).sum(axis=0) * (yc ** 2).sum())
        out[k] = np.nan_to_num(r)
    return out


def abc_chains(unit: np.ndarray, values: pd.DataFrame, targets: Sequence[Target],
               dims: Sequence[Dimension], settings: Settings, folder: Path, *, workers: int = 1,
               log: Callable[[str], None] = print) -> tuple[pd.DataFrame, list[ChainStep]]:
    """Find and spread the sets that meet every target by ABC-MCMC (Marjoram, Molitor, Plagnol & Tavare 2003,
    PNAS 100:15324), started from the simulated sets nearest the targets (``unit``, ``values``).

    Near the targets the population Monte Carlo's kernels, which move every one of a hundred inputs at once, rarely
    keep what a parent already meets; a set missing one target by a little usually needs one or two inputs moved.
    So each step moves ``move_inputs`` inputs of each chain by a normal step of ``move_scale``, reflected at the
    prior's edges. A chain accepts a move whose summed miss (:func:`shortfall`) is no larger than its own.

    - **Burn-in**, while a chain misses a target: a search. It moves the inputs that go with the targets it misses
      (chosen with weight the squared rank correlation over the simulated sets, :func:`relevance`, plus a floor so
      any input can move), each step centred one ``move_scale`` in the direction that correlation says nears the
      target. A target met only on a plateau (a least share that is 0 over a region) gives no credit for moving
      toward it otherwise.
    - **Sampling**, once a chain meets every target: the ABC-MCMC rule with tolerance 0. Inputs are chosen
      uniformly and steps are centred (symmetric, so with the uniform prior a move is accepted on the targets alone),
      and only sets meeting every target are accepted: the chain wanders the set of members.

    The chains start at sets spread over the ``START_POOL x chains`` nearest (maximin, from the nearest), so they
    look for members in different regions. A chain in burn-in that has not lowered its summed miss for
    ``chain_patience`` steps (a plateau it cannot leave) restarts (0: never): when some chains meet every target,
    with chance one half at one of them (more members where they are known to be), otherwise at the next of those
    near sets not yet used (more regions searched). The moves are simulated, not screened by the waves' emulators:
    near the targets their errors matter. Each step's runs are saved as it ends (``chain_<k>.parquet``; a rerun
    resumes, and more ``chain_steps`` extend it)."""
    names = [d.name for d in dims]
    rng = np.random.default_rng(settings.seed + 2)  # its own stream
    miss = shortfall(values, targets, settings.slack)
    # the starts: spread over the nearest sets (maximin from the nearest), the rest queued for restarts
    near = np.argsort(miss, kind="stable")[:START_POOL * settings.chains]
    near = near[np.isfinite(miss[near])]
    _, first = np.unique(unit[near], axis=0, return_index=True)
    near = near[np.sort(first)]
    queue = [int(i) for i in near[_spread_order(unit[near])]]
    start, queue = queue[:settings.chains], queue[settings.chains:]
    state, state_miss = unit[start].copy(), miss[start].copy()
    state_values = values.iloc[start].reset_index(drop=True)
    signed = relevance(unit, values, targets)
    members = int((miss == 0).sum())
    frames: list[pd.DataFrame] = []
    steps: list[ChainStep] = []
    log(f"ABC-MCMC: {len(start)} chains from summed misses {np.round(state_miss, 2).tolist()}")
    n_inputs = min(settings.move_inputs, unit.shape[1])
    stalled = np.zeros(len(state), dtype=int)  # steps since each chain last lowered its summed miss
    for number in range(1, settings.chain_steps + 1):
        stuck = np.flatnonzero((state_miss > 0) & (stalled >= settings.chain_patience)) if settings.chain_patience \
            else np.array([], dtype=int)
        at = np.flatnonzero(state_miss == 0)
        if len(stuck) and len(at):  # half of the stuck chains (at random) join chains at the targets
            join = stuck[rng.random(len(stuck)) < 0.5]
            source = at[rng.integers(len(at), size=len(join))]
            state[join], state_miss[join] = state[source], state_miss[source]
            state_values.loc[join] = state_values.loc[source].to_numpy()
            stalled[join] = 0
            stuck = np.setdiff1d(stuck, join)
            if len(join):
                log(f"chain step {number}: {len(join)} stuck chains join chains meeting every target")
        if len(stuck) and queue:
            restart, queue = queue[:len(stuck)], queue[len(stuck):]
            stuck = stuck[:len(restart)]
            state[stuck], state_miss[stuck] = unit[restart], miss[restart]
            state_values.loc[stuck] = values.iloc[restart].to_numpy()
            stalled[stuck] = 0
            log(f"chain step {number}: {len(stuck)} chains stuck for {settings.chain_patience} steps restart at "
                "other near sets")
        proposal = state.copy()
        # per chain and target: +1 below the range, -1 above, 0 met
        current = {t.name: state_values[t.quantity].to_numpy(dtype=float) for t in targets}
        need = np.stack([np.where(t.depth(current[t.name]) > settings.slack * t.tolerance,
                                  np.where(current[t.name] < t.low, 1.0, -1.0), 0.0) for t in targets], axis=1)
        for c in range(len(state)):
            pull = need[c] @ signed  # which way, and how strongly, each input nears the missed targets
            if need[c].any():
                weight = (np.abs(need[c]) @ signed ** 2) + 0.01
                moved = rng.choice(unit.shape[1], size=n_inputs, replace=False, p=weight / weight.sum())
                centre = settings.move_scale * np.sign(pull[moved])
            else:
                moved = rng.choice(unit.shape[1], size=n_inputs, replace=False)
                centre = np.zeros(n_inputs)
            proposal[c, moved] = _reflect(state[c, moved] + centre + rng.normal(0.0, settings.move_scale, n_inputs))
        new, found, seconds = _simulated(folder / f"chain_{number}.parquet", proposal, dims, settings,
                                         f"chain step {number}", workers, log)
        frames.append(pd.concat([scale_up(new, dims), found], axis=1))
        new_miss = shortfall(found, targets, settings.slack)
        members += int((new_miss == 0).sum())
        accept = new_miss <= state_miss
        stalled = np.where(new_miss < state_miss, 0, stalled + 1)
        state[accept], state_miss[accept] = new[accept], new_miss[accept]
        state_values.loc[accept] = found.loc[accept, list(state_values.columns)].to_numpy()
        steps.append(ChainStep(number, len(new), int(accept.sum()), int((state_miss == 0).sum()), members, seconds))
        log(f"chain step {number}: {int(accept.sum())} of {len(new)} moves accepted; {int((state_miss == 0).sum())} "
            f"chains meet every target; {members} sets meet every calibration target so far")
    runs = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[*names, *QUANTITIES])
    return runs, steps


def saved_runs(folder: Path, field: str = "") -> pd.DataFrame:
    """Every constant set a calibration in ``folder`` simulated (its waves and generations), with its quantities;
    ``field`` names the setting that gave the folder in the error when there are none."""
    files = [f for kind in ("wave", "generation", "chain") for f in sorted(folder.glob(f"{kind}_*.parquet"))]
    if not files:
        raise CalibrationError(f"{field}{str(folder)!r}: no simulated wave or generation there")
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)


def calibration_plan(folder: Path) -> dict[str, Any]:
    """The plan (``plan.json``) of the calibration in ``folder``, refused unless this tree runs the model version it
    calibrated (its simulated quantities would not be this code's)."""
    plan = json.loads((Path(folder) / "plan.json").read_text())
    if plan["model_version"] != model_version():
        raise CalibrationError(f"{folder} calibrated model version {plan['model_version']}, this tree is "
                               f"{model_version()}: run this on the code that calibration ran")
    return plan


def earlier_runs(source: Path, folder: Path, dims: Sequence[Dimension]) -> tuple[np.ndarray, pd.DataFrame]:
    """The simulated sets (waves and generations) of the calibration in ``source``, refused unless it ran the same
    model version, prior, targets and battery as the one in ``folder`` (its quantities would not compare)."""
    mine, theirs = (json.loads(Path(f, "plan.json").read_text()) for f in (folder, source))
    same = ("model_version", "prior", "targets")
    for key in same:
        if mine[key] != theirs[key]:
            raise CalibrationError(f"calibration.start_from={str(source)!r}: its {key} differs from this "
                                   f"calibration's ({theirs.get('model_version')} vs {mine['model_version']} for the "
                                   "model version); only a calibration of the same model, prior and targets can seed "
                                   "this one")
    if mine["settings"]["battery"] != theirs["settings"]["battery"]:
        raise CalibrationError(f"calibration.start_from={str(source)!r}: its battery sizes "
                               f"{theirs['settings']['battery']} differ from {mine['settings']['battery']}")
    frame = saved_runs(source, "calibration.start_from=")
    return scale_down(frame[[d.name for d in dims]], dims), frame[list(QUANTITIES)].reset_index(drop=True)


#: Most runs an emulator learns from (a Gaussian process costs the cube of its runs).
TRAINING_RUNS = 600


def _simulated(file: Path, unit: np.ndarray, dims: Sequence[Dimension], settings: Settings, label: str,
               workers: int, log: Callable[[str], None]) -> tuple[np.ndarray, pd.DataFrame, float]:
    """The battery's quantities for the design ``unit``, simulated and saved to ``file`` (atomically), or loaded
    from it when a rerun resumes (the same design was drawn again: the rng advanced identically). Returns the
    design as saved (to the last bit), the quantities and the battery's seconds (NaN when loaded)."""
    from tqdm import tqdm

    names = [d.name for d in dims]
    if file.exists():
        saved = pd.read_parquet(file)
        log(f"{label}: {len(saved)} runs loaded from {file.name}")
        return scale_down(saved[names], dims), saved[list(QUANTITIES)].reset_index(drop=True), float("nan")
    sets = scale_up(unit, dims)
    start = time.perf_counter()
    with tqdm(total=len(sets), desc=label, unit="set") as bar:
        values = run_battery(sets, dims, settings, settings.battery, workers=workers, progress=bar.update)
    seconds = time.perf_counter() - start
    atomic_write_bytes(file, pd.concat([sets, values], axis=1).to_parquet)
    return scale_down(sets, dims), values, seconds


def _wave_file(folder: Path, number: int) -> Path:
    return folder / f"wave_{number}.parquet"


def history_match(targets: Sequence[Target], dims: Sequence[Dimension], settings: Settings, folder: str | Path, *,
                  workers: int = 1, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Run the waves into ``folder`` (each wave's runs saved as it ends: a rerun resumes after the last saved wave),
    then the ensemble. Returns ``{"summary", "ensemble", "runs", "waves"}``; if no simulated set meets every
    calibration target the ensemble is empty and ``summary["conflict"]`` names the conflicting targets."""

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if not any(t.role == "calibrate" for t in targets):
        raise CalibrationError("no target has role 'calibrate': nothing to calibrate against")
    # left out of the plan: the stopping rules (a rerun with more generations or chain steps, or another
    # acceptance floor, resumes), the replication (it only chooses among the simulated sets) and where the battery
    # runs (the same numbers anywhere)
    not_planned = ("generations", "min_acceptance", "chain_steps", "replication_offset", "launcher", "chunks",
                   "launcher_overrides", "work_dir")
    plan = {"settings": {k: v for k, v in asdict(settings).items() if k not in not_planned},
            "prior": [asdict(d) for d in dims], "targets": [asdict(t) for t in targets],
            "model_version": model_version()}
    if settings.launcher is not None:
        launcher_node(settings, folder)  # a launcher that does not compose fails before any run
    plan_file = folder / "plan.json"
    text = json.dumps(plan, indent=1, default=str)
    if plan_file.exists() and plan_file.read_text() != text:
        raise CalibrationError(f"{str(folder)!r} holds a calibration with other settings, prior, targets or model "
                               "version; resume it with the same ones, or give a new folder")
    plan_file.write_text(text)
    calibrate = [t for t in targets if t.role == "calibrate"]
    if settings.slack < 0:
        for t in calibrate:
            if 2.0 * -settings.slack * t.tolerance >= t.high - t.low:
                raise CalibrationError(f"calibration.slack={settings.slack!r}: target {t.name}'s range "
                                       f"{t.range_text} is narrower than twice the margin ({-settings.slack:g} x "
                                       f"tolerance {t.tolerance:g}); no set could meet it")
    rng = np.random.default_rng(settings.seed)
    waves: list[Wave] = []
    names = [d.name for d in dims]
    share = 1.0
    for number in range(1, settings.waves + 1):
        file = _wave_file(folder, number)
        if number == 1:
            from scipy.stats import qmc

            unit = qmc.LatinHypercube(d=len(dims), seed=rng).random(settings.runs_per_wave)
        else:
            unit, share = _nroy_sample(settings.runs_per_wave, len(dims), waves, calibrate, settings, rng)
            log(f"wave {number}: non-implausible share of the prior after wave {number - 1}: {share:.4f}")
            if len(unit) == 0:
                break
        unit, values, seconds = _simulated(file, unit, dims, settings, f"wave {number}", workers, log)
        # emulators learn from this wave's runs and earlier runs still in the non-implausible space (the space
        # they must describe), the most recent first, up to TRAINING_RUNS
        train_unit, train_values = unit, values
        for old in reversed(waves):
            if len(train_unit) >= TRAINING_RUNS:
                break
            inside = np.ones(len(old.unit), dtype=bool)
            for w in waves:
                inside &= max_implausibility(old.unit, w.emulators, calibrate, settings.cutoff) <= settings.cutoff
            train_unit = np.concatenate([train_unit, old.unit[inside]])[:TRAINING_RUNS]
            train_values = pd.concat([train_values, old.values[inside]], ignore_index=True).iloc[:TRAINING_RUNS]
        emulators = {t.name: fit_emulator(train_unit, train_values[t.quantity].to_numpy(), t.quantity,
                                          n_active=settings.n_active, seed=settings.seed + number)
                     for t in calibrate}
        met = meets_all(values, calibrate, settings.slack)
        log(f"wave {number}: {len(unit)} runs, {met.sum()} meet every calibration target; emulator R2 "
            + ", ".join(f"{n} {e.r2:.2f}" for n, e in emulators.items()))
        waves.append(Wave(number, unit, values, emulators, share, seconds))
    # the ensemble: simulated sets of the last non-implausible space that meet every calibration target, found by
    # population Monte Carlo inside that space, or (generations=0) by one more uniform sample of it
    runs = [pd.concat([scale_up(w.unit, dims), w.values], axis=1) for w in waves]
    generations: list[Generation] = []
    if settings.generations and waves:
        share = _nroy_sample(1, len(dims), waves, calibrate, settings, rng)[1]
        refined, generations = population_monte_carlo(waves, calibrate, dims, settings, folder, workers=workers,
                                                      log=log)
        runs.append(refined)
    else:
        unit, share = _nroy_sample(max(settings.ensemble_size * 3, settings.runs_per_wave), len(dims), waves,
                                   calibrate, settings, rng)
        if len(unit):
            unit, values, _ = _simulated(folder / "ensemble_runs.parquet", unit, dims, settings, "ensemble",
                                         workers, log)
            runs.append(pd.concat([scale_up(unit, dims), values], axis=1))
    steps: list[ChainStep] = []
    if settings.chains:
        pool = pd.concat(runs, ignore_index=True)
        unit, values = scale_down(pool[names], dims), pool[list(QUANTITIES)].reset_index(drop=True)
        if settings.start_from is not None:
            earlier_unit, earlier_values = earlier_runs(Path(settings.start_from), folder, dims)
            unit, values = np.concatenate([unit, earlier_unit]), pd.concat([values, earlier_values], ignore_index=True)
        chained, steps = abc_chains(unit, values, calibrate, dims, settings, folder, workers=workers, log=log)
        runs.append(chained)
    everything = pd.concat(runs, ignore_index=True)
    met_by = {t.name: t.met(everything[t.quantity].to_numpy(), settings.slack) for t in calibrate}
    count = np.sum(list(met_by.values()), axis=0)  # targets each set meets
    met = count == len(calibrate)
    summary = {"waves": [w.record() for w in waves], "generations": [g.record() for g in generations],
               "chain_steps": [c.record() for c in steps],
               "final_nroy_share": share, "runs": len(everything), "members_found": int(met.sum())}
    table = conflicts(everything, calibrate, settings.slack)
    (folder / "conflicts.csv").write_text(table.to_csv(index=False))
    chain = conflict_chain(everything, calibrate, settings.slack)
    (folder / "conflict_chain.csv").write_text(chain.to_csv(index=False))
    if not met.any():
        never = [n for n, hit in met_by.items() if not hit.any()]
        pairs = (table[(table["share_both"] == 0) & (table["share_a"] > 0) & (table["share_b"] > 0)] if len(table)
                 else table)
        detail = "; ".join(part for part in (
            f"targets no set meets at all: {', '.join(never)}" if never else "",
            "pairs met one at a time but never together: "
            + ", ".join(f"{a}+{b}" for a, b in pairs[["target_a", "target_b"]].head(8).itertuples(index=False))
            if len(pairs) else "") if part)
        best = count == count.max()
        missed = {n: float(1 - hit[best].mean()) for n, hit in met_by.items()}
        missed = {n: m for n, m in sorted(missed.items(), key=lambda kv: -kv[1]) if m > 0}
        if not detail:
            detail = "every target, and every pair of targets, is met by some set, but never all at once"
        detail += (f"; the closest sets meet {int(count.max())} of {len(calibrate)} and miss "
                   + ", ".join(f"{n} ({m:.0%} of them)" for n, m in missed.items()))
        direction = next((t for t in calibrate if t.quantity == "direction_least"), None)
        if direction is not None:
            # P5 is the least rise over the seed contexts: say which contexts the closest sets miss it on
            order = np.argsort(-count, kind="stable")
            closest = [i for i in order if not met_by[direction.name][i]][:12]
            if closest:
                parts = direction_detail(everything.iloc[closest], dims, settings.battery, workers=workers)
                parts.to_csv(folder / "direction_detail.csv", index=False)
                failing = parts[parts["rise"] < direction.low]["context"].value_counts()
                if len(failing):
                    detail += (f"; at the {len(closest)} closest sets missing {direction.name}, the seed contexts "
                               "whose direction fails: " + ", ".join(f"{c} ({n})" for c, n in failing.items()))
        empty = chain[chain["sets_meeting_all_so_far"] == 0]
        if len(empty):
            first = empty.index[0]
            group = ", ".join(chain["target"].iloc[:first])
            detail += (f"; the {int(chain['sets_meeting_all_so_far'].iloc[first - 1]) if first else len(everything)}"
                       f" sets meeting {group or 'nothing'} all miss {chain['target'].iloc[first]}")
        summary["conflict"] = (f"no constant set of {len(everything)} simulated meets every calibration target "
                               f"({detail}); the table of pairs is {folder / 'conflicts.csv'}, the chain of "
                               f"targets {folder / 'conflict_chain.csv'}")
        summary["closest_miss"] = missed
        summary["members"] = 0
        return {"summary": summary, "ensemble": everything.iloc[:0], "runs": everything, "waves": waves}
    members = everything[met].drop_duplicates(subset=names)
    if settings.replication_offset:
        again = replicated(folder / "replication.parquet", members, dims, settings, workers=workers, log=log)
        held = meets_all(again, calibrate, settings.slack)
        summary["members_replicated"] = int(held.sum())
        log(f"{int(held.sum())} of {len(members)} members meet every calibration target again on seeds shifted by "
            f"{settings.replication_offset}")
        if not held.any():
            summary["conflict"] = (f"{len(members)} sets meet every calibration target, but none does again on "
                                   f"other seeds (seed offset {settings.replication_offset}): they met it by the "
                                   "battery's noise")
            summary["members"] = 0
            return {"summary": summary, "ensemble": everything.iloc[:0], "runs": everything, "waves": waves}
        members = members[held].reset_index(drop=True)
    # diverse members: the ones farthest from each other in the unit cube, greedily (maximin)
    chosen = _maximin(scale_down(members, dims), settings.ensemble_size)
    ensemble = members.iloc[chosen].reset_index(drop=True)
    summary["members"] = len(ensemble)
    return {"summary": summary, "ensemble": ensemble, "runs": everything, "waves": waves}


def replicated(file: Path, sets: pd.DataFrame, dims: Sequence[Dimension], settings: Settings, *, workers: int = 1,
               log: Callable[[str], None] = print) -> pd.DataFrame:
    """The battery's quantities for ``sets`` on seeds shifted by ``settings.replication_offset`` (another draw of its
    noise), in the order of ``sets``. Saved to ``file`` as they are simulated; a rerun simulates only the sets not
    in it (a calibration extended with more chain steps replicates only its new members)."""
    from dataclasses import replace

    from tqdm import tqdm

    names = [d.name for d in dims]
    done = pd.read_parquet(file) if file.exists() else pd.DataFrame(columns=[*names, *QUANTITIES])
    key = [tuple(r) for r in sets[names].itertuples(index=False)]
    known = {tuple(r): i for i, r in enumerate(done[names].itertuples(index=False))}
    todo = sets[[k not in known for k in key]].reset_index(drop=True)
    if len(todo):
        sizes = replace(settings.battery, seed_offset=settings.replication_offset)
        with tqdm(total=len(todo), desc="replication", unit="set") as bar:
            values = run_battery(todo[names], dims, settings, sizes, workers=workers, progress=bar.update)
        done = pd.concat([done, pd.concat([todo[names], values], axis=1)], ignore_index=True)
        atomic_write_bytes(file, done.to_parquet)
    else:
        log(f"replication: {len(sets)} members loaded from {file.name}")
    known = {tuple(r): i for i, r in enumerate(done[names].itertuples(index=False))}
    return done.iloc[[known[k] for k in key]][list(QUANTITIES)].reset_index(drop=True)


def _maximin(unit: np.ndarray, n: int) -> np.ndarray:
    """The positions of ``n`` points spread out (:func:`_spread_order`), in their original order."""
    return np.arange(len(unit)) if len(unit) <= n else np.sort(_spread_order(unit, n))


# --- diagnostics ----------------------------------------------------------------------------------------------
def constrained_by(emulators: dict[str, Emulator], dims: Sequence[Dimension], top: int = 5) -> pd.DataFrame:
    """Which inputs each target's emulator found to matter, strongest first (shortest length-scale)."""
    rows = []
    for name, e in emulators.items():
        scales = np.atleast_1d(e.model.kernel_.k1.k2.length_scale)
        for rank, k in enumerate(np.argsort(scales)[:top]):
            rows.append({"target": name, "rank": rank + 1, "input": dims[int(e.active[k])].name,
                         "length_scale": float(scales[k])})
    return pd.DataFrame(rows)


def ensemble_vs_prior(ensemble: pd.DataFrame, dims: Sequence[Dimension]) -> pd.DataFrame:
    """Each input's prior range and the ensemble's: the share of the prior range the ensemble spans (small:
    the evidence constrains it), sorted most constrained first."""
    rows = []
    for d in dims:
        values = ensemble[d.name].to_numpy(dtype=float) if len(ensemble) else np.array([np.nan])
        q05, q95 = np.nanquantile(values, [0.05, 0.95]) if len(ensemble) else (np.nan, np.nan)
        rows.append({"input": d.name, "kind": d.kind, "prior_low": d.low, "prior_high": d.high, "default": d.default,
                     "ensemble_q05": q05, "ensemble_median": float(np.nanmedian(values)), "ensemble_q95": q95,
                     "share_of_prior_range": (q95 - q05) / (d.high - d.low)})
    return pd.DataFrame(rows).sort_values("share_of_prior_range")


def target_table(values: pd.DataFrame, targets: Sequence[Target], slack: float = 1.0) -> pd.DataFrame:
    """Each target's value across a set of runs (an ensemble): the share in range (strictly, and give or take
    ``slack`` tolerances) and its 5 %, 50 % and 95 % quantiles."""
    rows = []
    for t in targets:
        if t.quantity not in values:
            continue
        v = values[t.quantity].to_numpy(dtype=float)
        with np.errstate(invalid="ignore"):  # a ratio may be +inf (its denominator <= 0)
            q = np.nanquantile(v, [0.05, 0.5, 0.95]) if len(v) else [np.nan] * 3
        rows.append({"target": t.name, "role": t.role, "range": t.range_text, "share_in_range": float(t.met(v).mean()),
                     "share_within_tolerance": float(t.met(v, slack).mean()), "q05": q[0], "median": q[1],
                     "q95": q[2]})
    return pd.DataFrame(rows)


def write_diagnostics(folder: str | Path, result: dict[str, Any], targets: Sequence[Target],
                      dims: Sequence[Dimension], settings: Settings) -> None:
    """Tables and figures of a calibration into ``folder``: waves, emulator accuracy, what constrains what, the
    ensemble against the prior, the targets (held-out ones included) across the ensemble, marginals and pairs."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    folder = Path(folder)
    waves: list[Wave] = result["waves"]
    rows = []
    for w in waves:
        for name, e in w.emulators.items():
            rows.append({"wave": w.number, "runs": len(w.unit), "nroy_share_before": w.nroy_share,
                         "battery_seconds": w.seconds, "target": name, "emulator_r2": e.r2,
                         "emulator_coverage": e.coverage, "used_to_rule_out": e.trusted})
    pd.DataFrame(rows).to_csv(folder / "waves.csv", index=False)
    pd.DataFrame(result["summary"].get("generations", []),
                 columns=["generation", "tolerance", "acceptance", "runs", "members_so_far", "battery_seconds"]
                 ).to_csv(folder / "generations.csv", index=False)
    pd.DataFrame(result["summary"].get("chain_steps", []),
                 columns=["step", "runs", "accepted", "chains_meeting_every_target", "members_so_far",
                          "battery_seconds"]).to_csv(folder / "chain_steps.csv", index=False)
    if waves:
        constrained_by(waves[-1].emulators, dims).to_csv(folder / "constrained_by.csv", index=False)
    ensemble = result["ensemble"]
    target_table(result["runs"], targets, settings.slack).to_csv(folder / "targets_all_runs.csv", index=False)
    (folder / "summary.json").write_text(json.dumps(result["summary"], indent=1, default=float))
    if not len(ensemble):
        return
    ensemble.to_csv(folder / "ensemble.csv", index=False)
    target_table(ensemble, targets, settings.slack).to_csv(folder / "targets_ensemble.csv", index=False)
    spread = ensemble_vs_prior(ensemble, dims)
    spread.to_csv(folder / "ensemble_vs_prior.csv", index=False)
    shown = spread["input"].head(12).tolist()
    fig = Figure(figsize=(12, 8), dpi=90)
    for i, name in enumerate(shown):
        ax = fig.add_subplot(3, 4, i + 1)
        d = next(d for d in dims if d.name == name)
        ax.hist(ensemble[name], bins=15, range=(d.low, d.high), color="#0072B2")
        ax.axvline(d.default, color="#D55E00", ls="--", lw=1)
        ax.set_title(name, fontsize=9)
        ax.set_xlim(d.low, d.high)
    fig.suptitle("The ensemble's most constrained inputs over their prior ranges (dashed: the registry default)")
    fig.tight_layout()
    fig.savefig(folder / "marginals.png")
    pair = shown[:4]
    fig = Figure(figsize=(9, 9), dpi=90)
    for i, a in enumerate(pair):
        for j, b_ in enumerate(pair):
            ax = fig.add_subplot(len(pair), len(pair), i * len(pair) + j + 1)
            if i == j:
                ax.hist(ensemble[a], bins=12, color="#0072B2")
            else:
                ax.scatter(ensemble[b_], ensemble[a], s=6, color="#0072B2")
            if i == len(pair) - 1:
                ax.set_xlabel(b_, fontsize=8)
            if j == 0:
                ax.set_ylabel(a, fontsize=8)
    fig.tight_layout()
    fig.savefig(folder / "pairs.png")


def ship(result: dict[str, Any], targets_file: Path, targets: Sequence[Target], dims: Sequence[Dimension],
         settings: Settings, destination: Path = CALIBRATION_DIR) -> Path:
    """Save the ensemble with its provenance and its members' battery beside the targets
    (``sim/conf/calibration/``)."""
    ensemble = result["ensemble"]
    if not len(ensemble):
        raise CalibrationError("nothing to ship: the ensemble is empty (" + result["summary"].get("conflict", "") + ")")
    names = [d.name for d in dims]
    ensemble[names].to_csv(destination / "ensemble.csv", index=False)
    ensemble[list(QUANTITIES)].reset_index(drop=True).to_parquet(destination / BATTERY_FILE)
    record = provenance(targets_file, dims, {**asdict(settings), "calibrated_on": [t.name for t in targets
                                                                                   if t.role == "calibrate"]},
                        result["summary"]["waves"])
    record["members"] = len(ensemble)
    record["generations"] = result["summary"].get("generations", [])
    record["held_out"] = target_table(ensemble, [t for t in targets if t.role == "held_out"],
                                      settings.slack).to_dict("records")
    (destination / "provenance.json").write_text(json.dumps(record, indent=1, default=float))
    return destination / "ensemble.csv"


def direction_detail(sets: pd.DataFrame, dims: Sequence[Dimension], sizes: BatterySizes | None = None,
                     workers: int = 1) -> pd.DataFrame:
    """P5's parts for each constant set: the rise of the month-60 fragmentation advantage from the low to the high
    end of each seed context (the battery's direction seeds), where P5 reports only the least. Returns one row per
    set and context: ``set`` (its position in ``sets``), ``context``, ``rise``."""
    from sim.analysis.patterns import SEED_CONTEXTS
    from sim.model.core import simulate

    sizes = sizes or BatterySizes()
    seeds = sizes.direction_seeds
    names = [d.name for d in dims]
    rows: list[Params] = []
    cells: list[tuple[int, str]] = []
    for position, (_, member) in enumerate(sets.iterrows()):
        base = member_params(member[names])
        for name in SEED_CONTEXTS:
            spec = Params.spec(name)
            cells.append((position, name))
            for value in (spec.low, spec.high):
                for mode in ("alliance", "traditional"):
                    rows += [base.replace(**{name: value}, commissioning=mode)] * seeds
    seed_of = np.tile(np.arange(1000, 1000 + seeds) + sizes.seed_offset, len(rows) // seeds)
    month60 = simulate(rows, seed_of, keep=[60], workers=workers)["fragmentation"].values[:, 0]
    means = month60.reshape(len(cells), 2, 2, seeds).mean(axis=3)  # (cell, low/high, alliance/traditional)
    advantage = means[:, :, 1] - means[:, :, 0]
    return pd.DataFrame({"set": [c[0] for c in cells], "context": [c[1] for c in cells],
                         "rise": advantage[:, 1] - advantage[:, 0]})


def ensemble_battery(path: str | Path = ENSEMBLE) -> BatterySizes:
    """The battery sizes the ensemble at ``path`` was calibrated with (its provenance), or the defaults."""
    provenance_file = _provenance_file(Path(path))
    if provenance_file.exists():
        sizes = json.loads(provenance_file.read_text()).get("settings", {}).get("battery")
        if isinstance(sizes, dict):
            return BatterySizes(**{k: v for k, v in sizes.items() if k != "seed_offset"})
    return BatterySizes()


def members_battery(ensemble: pd.DataFrame, sizes: BatterySizes | None = None, workers: int = 1) -> pd.DataFrame:
    """The battery's quantities of every member of an ensemble (its columns name the constants and mechanism
    parameters it sets)."""
    dims = [Dimension(c, "mechanism" if c in Params.names() else "constant", np.nan, np.nan, np.nan)
            for c in ensemble.columns]
    return battery(ensemble, dims, sizes, workers=workers)


def ensemble_patterns(ensemble: pd.DataFrame, targets: Sequence[Target], sizes: BatterySizes | None = None,
                      workers: int = 1) -> pd.DataFrame:
    """Each target's share of ensemble members meeting it and its spread, from the battery run on every member."""
    return target_table(members_battery(ensemble, sizes, workers), targets)
