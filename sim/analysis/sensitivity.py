"""Global sensitivity analysis on SALib, for any vectorised function and for the alliance model.

Generic functions (checked against analytic test functions such as Ishigami):

- :func:`sobol` — first-order and total Sobol indices with bootstrap intervals (SALib ``ProblemSpec``);
- :func:`morris` — elementary-effects screening (mu*, its interval, sigma).

``func`` maps an array ``(n, d)`` to outputs ``(n,)``; with ``replicates > 1`` it is called as
``func(X, r)`` for ``r = 0 .. R-1`` and the replicate mean is analysed (common random numbers: the
caller uses the same seed for replicate ``r`` on every row).

Model-specific helpers turn the alliance model into such a function: :func:`study_bounds` takes ranges
from the parameter schema (a study may narrow them, never widen them) and :class:`PairedEffects`
evaluates the alliance's paired effect on an outcome through the vectorised core.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from SALib import ProblemSpec

from sim.model.outcomes import OUTCOMES
from sim.model.theories import RULE_INFO
from sim.params import Params
from sim.sweeps.dispatch import SweepError, evaluate_rows
from sim.sweeps.paired import effect_names, parse_effect  # noqa: F401 - the study's outcomes are named there
from sim.sweeps.rows import tidy_last

__all__ = ["sobol", "morris", "sobol_design", "sobol_indices", "morris_design", "morris_indices", "study_bounds",
           "study_parameters", "role", "ROLES", "DEFAULT_ROLES", "theory_group", "effect_names", "PairedEffects",
           "noise_share", "parse_effect",
           "check_bounds", "SweepError", "NonFiniteOutputs"]

Bounds = Mapping[str, tuple[float, float]]


class NonFiniteOutputs(ValueError):
    """The analysed function returned NaN or infinite outputs: indices of such outputs are meaningless
    (SALib would report them as 0, i.e. "no effect")."""


def check_outputs(y: np.ndarray, n: int) -> np.ndarray:
    """``y`` as ``n`` finite floats, or :class:`NonFiniteOutputs` saying how many are not and where."""
    y = np.asarray(y, dtype=float)
    if y.size != n:
        raise ValueError(f"outputs: got {y.size} values (shape {y.shape}) for {n} sample points; give one per "
                         "sample point, in the design's order")
    y = y.reshape(n)
    bad = ~np.isfinite(y)
    if bad.any():
        raise NonFiniteOutputs(f"outputs: {int(bad.sum())} of {n} are NaN or infinite (first at sample row "
                               f"{int(np.flatnonzero(bad)[0])}); sensitivity indices need a finite output for every "
                               "sample, so none were computed")
    return y


# ------------------------------------------------------------------------------------------------
# Generic analyses
# ------------------------------------------------------------------------------------------------
def check_bounds(bounds: Bounds) -> tuple[list[str], np.ndarray]:
    """Names and an ``(d, 2)`` array of bounds; each must be finite with low < high."""
    if not isinstance(bounds, Mapping) or not bounds:
        raise ValueError("bounds: must be a non-empty mapping of parameter name -> (low, high)")
    names, rows = [], []
    for name, pair in bounds.items():
        try:
            low, high = (float(v) for v in pair)
        except (TypeError, ValueError):
            raise ValueError(f"bounds[{name!r}]={pair!r}: must be a pair (low, high) of numbers") from None
        if not (np.isfinite(low) and np.isfinite(high) and low < high):
            raise ValueError(f"bounds[{name!r}]=({low:g}, {high:g}): needs finite low < high")
        names.append(str(name))
        rows.append((low, high))
    return names, np.array(rows)


def _check_count(name: str, value: int, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise ValueError(f"{name}={value!r}: must be an integer >= {low}")
    return int(value)


def _problem(bounds: Bounds, groups: Mapping[str, str] | None) -> ProblemSpec:
    names, arr = check_bounds(bounds)
    spec = {"names": names, "bounds": arr.tolist(), "num_vars": len(names)}
    if groups is not None:
        missing = [n for n in names if n not in groups]
        if missing:
            raise ValueError(f"groups: no group for parameter {missing[0]!r}; give every parameter a group")
        spec["groups"] = [str(groups[n]) for n in names]
    return ProblemSpec(spec)


def _check_seed(seed: object) -> int:
    """A seed must be given: with ``None`` two identical calls would give different samples and indices."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise TypeError(f"seed={seed!r}: must be an integer >= 0 (the same seed gives the same sample and indices)")
    return int(seed)


def _outputs(func: Callable, X: np.ndarray, *args: int) -> np.ndarray:
    """``func(X, *args)`` as one float per sample point, or a ``ValueError`` saying what it returned instead."""
    y = np.asarray(func(X, *args), dtype=float)
    if y.size != len(X):
        raise ValueError(f"func returned {y.size} outputs (shape {y.shape}) for {len(X)} sample points; it must "
                         f"return one number per row of X (shape ({len(X)},))")
    return y.reshape(len(X))


def _averaged(func: Callable, replicates: int) -> Callable[[np.ndarray], np.ndarray]:
    if replicates == 1:
        return lambda X: _outputs(func, X)
    return lambda X: np.mean([_outputs(func, X, r) for r in range(replicates)], axis=0)


def sobol_design(bounds: Bounds, n: int, *, seed: int, second_order: bool = False,
                 groups: Mapping[str, str] | None = None) -> ProblemSpec:
    """A SALib ``ProblemSpec`` carrying a scrambled Sobol sample of ``n (d + 2)`` points (``n (2d + 2)``
    with ``second_order``); ``n`` must be a power of 2."""
    n = _check_count("n", n, 2)
    seed = _check_seed(seed)
    if n & (n - 1):
        raise ValueError(f"n={n}: must be a power of 2 (e.g. {1 << (n.bit_length() - 1)} or {1 << n.bit_length()})")
    sp = _problem(bounds, groups)
    sp.sample_sobol(n, calc_second_order=second_order, seed=seed)
    return sp


def sobol_indices(sp: ProblemSpec, y: np.ndarray, *, seed: int, second_order: bool = False,
                  bootstrap: int = 1000) -> pd.DataFrame:
    """Analyse outputs ``y`` (in the design's sample order) into ``S1, S1_conf, ST, ST_conf``."""
    sp.set_results(check_outputs(y, len(sp.samples)))
    seed = _check_seed(seed)
    sp.analyze_sobol(calc_second_order=second_order, num_resamples=bootstrap, seed=seed)
    frames = sp.analysis.to_df()
    table = pd.concat([frames[1], frames[0]], axis=1)[["S1", "S1_conf", "ST", "ST_conf"]]
    table.index.name = "parameter"
    if second_order:
        table.attrs["S2"] = frames[2]
    return table


def sobol(func: Callable, bounds: Bounds, n: int, *, seed: int, replicates: int = 1,
          second_order: bool = False, groups: Mapping[str, str] | None = None,
          bootstrap: int = 1000) -> pd.DataFrame:
    """First-order and total Sobol indices of ``func`` over ``bounds``.

    ``n`` is the base sample size, a power of 2; the function is evaluated on ``n (d + 2)`` points
    (``n (2d + 2)`` with ``second_order``), ``d`` the number of parameters (or groups). Returns a
    DataFrame indexed by parameter (or group) with ``S1, S1_conf, ST, ST_conf`` (95% bootstrap
    half-widths; second-order indices in ``.attrs["S2"]`` when ``second_order``).
    """
    replicates = _check_count("replicates", replicates)
    sp = sobol_design(bounds, n, seed=seed, second_order=second_order, groups=groups)
    table = sobol_indices(sp, _averaged(func, replicates)(sp.samples), seed=seed, second_order=second_order,
                          bootstrap=bootstrap)
    table.attrs["evaluations"] = len(sp.samples) * replicates
    return table


def morris_design(bounds: Bounds, trajectories: int, *, seed: int, levels: int = 4,
                  groups: Mapping[str, str] | None = None) -> ProblemSpec:
    """A SALib ``ProblemSpec`` carrying a Morris design of ``trajectories (d + 1)`` points."""
    trajectories = _check_count("trajectories", trajectories, 2)
    levels = _check_count("levels", levels, 2)
    seed = _check_seed(seed)
    if levels % 2:
        raise ValueError(f"levels={levels}: must be even (SALib's Morris design)")
    sp = _problem(bounds, groups)
    sp.sample_morris(trajectories, num_levels=levels, seed=seed)
    return sp


def morris_indices(sp: ProblemSpec, y: np.ndarray, *, seed: int, levels: int = 4) -> pd.DataFrame:
    """Analyse outputs ``y`` (in the design's sample order) into ``mu_star, mu_star_conf, sigma, mu``."""
    sp.set_results(check_outputs(y, len(sp.samples)))
    seed = _check_seed(seed)
    sp.analyze_morris(num_levels=levels, seed=seed)
    res = sp.analysis
    return pd.DataFrame({"mu_star": np.asarray(res["mu_star"]), "mu_star_conf": np.asarray(res["mu_star_conf"]),
                         "sigma": np.asarray(res["sigma"]), "mu": np.asarray(res["mu"])},
                        index=pd.Index(res["names"], name="parameter"))


def morris(func: Callable, bounds: Bounds, trajectories: int, *, seed: int, levels: int = 4,
           replicates: int = 1, groups: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Morris elementary-effects screening: ``mu_star``, ``mu_star_conf`` (95%), ``sigma`` per parameter."""
    replicates = _check_count("replicates", replicates)
    sp = morris_design(bounds, trajectories, seed=seed, levels=levels, groups=groups)
    table = morris_indices(sp, _averaged(func, replicates)(sp.samples), seed=seed, levels=levels)
    table.attrs["evaluations"] = len(sp.samples) * replicates
    return table


def noise_share(per_replicate: np.ndarray) -> float:
    """Share of the analysed output's variance that is stochastic noise.

    ``per_replicate`` has shape ``(rows, R)``. The analysed output is the replicate mean, whose noise
    variance is the mean within-row variance divided by R.
    """
    per_replicate = np.asarray(per_replicate, dtype=float)
    if per_replicate.shape[1] < 2:
        return float("nan")
    noise = per_replicate.var(axis=1, ddof=1).mean() / per_replicate.shape[1]
    total = per_replicate.mean(axis=1).var(ddof=1)
    return float(noise / total) if total > 0 else float("nan")


# ------------------------------------------------------------------------------------------------
# The alliance model as a function of its parameters
# ------------------------------------------------------------------------------------------------
#: The schema's roles a study may vary; contexts and levers by default. Mechanism parameters and constants are
#: model uncertainty (drawn from the calibrated ensemble), scale parameters stay fixed unless a study names them.
ROLES = ("context", "lever", "mechanism", "scale")
DEFAULT_ROLES = ("context", "lever")
#: Rows evaluated at once by a study in-process (a full study has 1.3 million in its Sobol stage): bounds the
#: memory of the validated table, its coordinates and tidy rows to about 2 GB.
EVALUATION_BLOCK = 200_000


def study_parameters(roles: Sequence[str] = DEFAULT_ROLES) -> list[str]:
    """Parameters a study varies by default: every numeric parameter of ``roles`` (contexts and levers)."""
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise ValueError(f"study role {unknown[0]!r}: not a role of the schema; roles: {', '.join(ROLES)}")
    return [s.name for s in Params.schema() if s.group in roles and s.type in (int, float)]


def role(name: str) -> str:
    """The schema's role of a parameter: context, lever, mechanism or scale."""
    return Params.spec(name).group


def study_bounds(names: Sequence[str] | None = None,
                 narrow: Mapping[str, Sequence[float]] | None = None,
                 roles: Sequence[str] = DEFAULT_ROLES) -> dict[str, tuple[float, float]]:
    """Bounds from the schema for ``names`` (default :func:`study_parameters` of ``roles``); ``narrow`` may
    shrink a range but never widen it, and must name a parameter in the study."""
    names = list(study_parameters(roles) if names is None or len(names) == 0 else names)
    allowed = set(Params.numeric_names())
    for name in names:
        if name not in allowed:
            raise ValueError(f"study parameter {name!r}: not a numeric parameter of the schema; "
                             f"allowed: {', '.join(sorted(allowed))}")
    bounds = {n: (float(Params.spec(n).low), float(Params.spec(n).high)) for n in names}
    for name, pair in (narrow or {}).items():
        if pair is None:  # not narrowed: the schema's range
            continue
        if name not in bounds:
            raise ValueError(f"narrow[{name!r}]: not a parameter of this study ({', '.join(names)})")
        try:
            low, high = (float(v) for v in pair)
        except (TypeError, ValueError):
            raise ValueError(f"narrow[{name!r}]={pair!r}: must be a pair [low, high] of numbers") from None
        s_low, s_high = bounds[name]
        if not (s_low <= low < high <= s_high):
            raise ValueError(f"narrow[{name!r}]=({low:g}, {high:g}): must satisfy {s_low:g} <= low < high <= "
                             f"{s_high:g} (the schema's range; a study may narrow it, never widen it)")
        bounds[name] = (low, high)
    return bounds


def theory_group(name: str) -> str:
    """Middle-range theory (A, B, C) whose rules read ``name`` first, or ``other`` (general mechanisms)."""
    for rule in RULE_INFO:
        if name in rule.parameters and name != "commissioning":
            return rule.theory
    return "other"


@dataclass
class PairedEffects:
    """The alliance's paired effect on outcomes as a vectorised function of some parameters.

    Each row of ``X`` sets ``names`` on top of ``base``; the row runs under alliance and traditional
    commissioning with seeds ``seed + r`` for replicates ``r`` (the same seeds on every row: common
    random numbers); the effect is the end-of-horizon paired difference.
    """

    names: Sequence[str]
    outcomes: Sequence[str]
    base: Params = field(default_factory=Params)
    seed: int = 0
    steps: int | None = None
    workers: int = 1
    #: None: evaluate in this process; otherwise a Hydra launcher (``local``, ``submitit_local``,
    #: ``slurm``) through which the rows go out as ``chunks`` jobs (:mod:`sim.sweeps.dispatch`).
    launcher: str | None = None
    chunks: int = 1
    #: launcher settings for the sweep, e.g. ``["hydra.launcher.partition=short"]``
    launcher_overrides: Sequence[str] = ()
    #: folder for the sweeps' files (on a cluster: one the nodes share); each evaluation's part is removed
    #: when it succeeds; None: a temporary folder
    work_dir: str | None = None
    progress: bool = False
    #: model uncertainty: constant sets of the calibrated ensemble (rows usable by
    #: :func:`sim.analysis.calibration.member_params`); None: the base's constants alone. Rows of a design are
    #: taken in blocks of ``block`` (a Saltelli block, a Morris trajectory) that share one member per replicate,
    #: so a parameter's move within a block is never confounded with a change of member; replicate ``r`` of
    #: block ``b`` runs member ``(b * replicates + r) mod members``.
    members: pd.DataFrame | None = None
    block: int = 1
    evaluations: int = 0
    seconds: float = 0.0  # time spent evaluating the model (the rest of a study is analysis)

    def __post_init__(self) -> None:
        self._effects = {o: parse_effect(o) for o in self.outcomes}
        unknown = [n for n in self.names if n not in Params.names()]
        if unknown:
            raise ValueError(f"study parameter {unknown[0]!r}: not in the schema")

    def frame(self, X: np.ndarray, base: Params | None = None, under: list[dict] | None = None) -> pd.DataFrame:
        """Scenario rows (one per row of X) as a parameter table; integer parameters are rounded. ``under``: each
        row's parameters before the study's are set (``base``'s, or its ensemble member's)."""
        base = self.base if base is None else base
        frame = pd.DataFrame([base.to_dict()] * len(X) if under is None else under)
        for k, name in enumerate(self.names):
            values = X[:, k]
            frame[name] = np.rint(values).astype(np.int64) if Params.spec(name).type is int else values
        return frame

    def run(self, X: np.ndarray, replicates: int, base: Params | None = None) -> dict[str, np.ndarray]:
        """Effects of every outcome for every row and replicate: ``{outcome: (rows, replicates)}``."""
        return self.run_batch([(X, base)], replicates)[0]

    def run_batch(self, designs: Sequence[tuple[np.ndarray, Params | None]],
                  replicates: int) -> list[dict[str, np.ndarray]]:
        """:meth:`run` for each ``(X, base)`` of ``designs``, evaluated together as one table (one sweep
        through a launcher instead of one per design). A scenario's numbers do not depend on what else runs
        with it, so each result equals its own :meth:`run`."""
        tables, seeds, sizes = [], [], []
        for X, base in designs:
            X = np.atleast_2d(np.asarray(X, dtype=float))
            n = len(X)
            if self.members is None or not len(self.members):
                per_replicate = [self.frame(X, base)] * replicates
            else:
                from sim.analysis.model_uncertainty import member_bases

                applied = [p.to_dict() for p in member_bases(self.base if base is None else base, self.members,
                                                              len(self.members))]
                blocks = np.arange(n) // max(1, self.block)
                per_replicate = [self.frame(X, base, [applied[m] for m in (blocks * replicates + r) %
                                                      len(applied)]) for r in range(replicates)]
            tables.append(pd.concat([rows.assign(commissioning=mode) for mode in ("alliance", "traditional")
                                     for rows in per_replicate], ignore_index=True))
            seeds.append(np.tile(np.repeat(self.seed + np.arange(replicates), n), 2))
            sizes.append(n)
        table = pd.concat(tables, ignore_index=True) if len(tables) > 1 else tables[0]
        started = time.perf_counter()
        final = self._final_values(table, np.concatenate(seeds))
        self.seconds += time.perf_counter() - started
        self.evaluations += len(table)
        results, start = [], 0
        for n in sizes:
            stop = start + 2 * replicates * n
            out = {}
            for name, (outcome, sign) in self._effects.items():
                values = final[outcome][start:stop].reshape(2, replicates, n)
                out[name] = (sign * (values[0] - values[1])).T
            results.append(out)
            start = stop
        return results

    def _final_values(self, table: pd.DataFrame, seeds: np.ndarray) -> dict[str, np.ndarray]:
        """End-of-horizon outcomes of every row, in row order, in-process or through the sweep machinery."""
        if self.launcher is None:
            # each row ends at its own horizon (horizon may be a study parameter): never NaN for short rows.
            # In blocks: a full study's million rows at once would hold several copies of its table (validated,
            # coordinates, tidy rows) in memory; a row's numbers do not depend on its block.
            parts = []
            with contextlib.ExitStack() as stack:
                bar = self.progress
                if self.progress and len(table) > EVALUATION_BLOCK:  # one bar over the blocks
                    from tqdm import tqdm

                    bar = stack.enter_context(tqdm(total=len(table), unit="scenario", desc="simulating"))
                for start in range(0, max(len(table), 1), EVALUATION_BLOCK):  # an empty table: simulate says so
                    rows = slice(start, start + EVALUATION_BLOCK)
                    final = tidy_last(table.iloc[rows], seeds[rows], self.steps, workers=self.workers, progress=bar)
                    parts.append({o: final[o].to_numpy() for o in OUTCOMES})
            return {o: np.concatenate([part[o] for part in parts]) for o in OUTCOMES}
        merged = evaluate_rows(table.assign(seed=seeds), self.launcher, self.chunks, self.work_dir, self.steps,
                               self.workers, list(self.launcher_overrides))
        return {o: merged[o].to_numpy() for o in OUTCOMES}
