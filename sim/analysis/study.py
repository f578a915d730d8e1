"""The sensitivity study of the alliance model: which contexts produce reduced fragmentation.

Stages, in the order recommended for stochastic agent-based models:

1. **Morris screening** of every context, lever and mechanism parameter, with a dummy parameter
   (which the model never reads) as the noise floor;
2. **Sobol** on the parameters that rise above the floor, at N and N/2 to show convergence
   (bootstrap intervals alone do not show it for scrambled Sobol points), and by middle-range theory;
3. **stochasticity**: R replicates per point with common random numbers; the replicate mean is
   analysed and the share of its variance that is noise is reported;
4. **robustness**: each factor's effect moved across its range under every ensemble member: the share of
   members under which it keeps its direction and rank (``contexts_sobol.csv`` puts it beside the indices);
5. **scenario discovery**: PRIM on "fragmentation reduced by at least X", CART as a cross-check, and the
   **failure regions**: where the alliance did worse than traditional commissioning on fragmentation and on
   value (``failure_regions.csv``);
6. **ablation**: each programme theory, and each middle-range theory, switched off across a sample
   of contexts: the change in each effect with 95% intervals;
7. **resilience** under the event presets (leadership turnover, budget shock, pandemic surge): depth of the
   dip and months to recover, alliance against traditional (``resilience.csv``);
8. a heatmap over the two most influential contexts and the default scenario over time;
9. **journeys**: a few service users' care pathways in the same place under each mode (the model's own
   episodes, replayed contact by contact: :func:`sim.analysis.journeys.typical_journeys`).

The study varies what a council has or chooses (the schema's *context* and *lever* roles, or ``study.roles``).
What the model assumes (constants and mechanism parameters) is model uncertainty: each run draws a constant set
of the calibrated ensemble (``study.ensemble``; :mod:`sim.analysis.model_uncertainty`), the same set for every
row of a Saltelli block or Morris trajectory, so no factor's effect is confounded with a change of constants.

Every evaluation runs through the vectorised core in chunks (``workers`` processes); numbers do not
depend on the chunking or the worker count. Everything lands in one folder, written atomically.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.stats import qmc

from sim.analysis import figures
from sim.analysis.discovery import cart_rules, prim_boxes, region_rows
from sim.analysis.model_uncertainty import distinct_bases, member_bases, robustness, study_members
from sim.analysis.resilience import preset, resilience
from sim.analysis.sensitivity import (
    ROLES,
    NonFiniteOutputs,
    PairedEffects,
    morris_design,
    morris_indices,
    noise_share,
    parse_effect,
    sobol_design,
    sobol_indices,
    study_bounds,
    theory_group,
)
from sim.conf import launcher_presets
from sim.params import RULE_IDS, THEORY_IDS, Params
from sim.runtime.errors import StudyError
from sim.sweeps.cluster import sweep_options
from sim.sweeps.paired import interval, paired_outcomes, summarise

logger = logging.getLogger(__name__)

DUMMY = "dummy"

#: Hydra launchers every installation may have (the plugins of pyproject.toml); sim/conf/hydra/launcher adds more.
PLUGIN_LAUNCHERS = ("basic", "joblib", "submitit_local", "submitit_slurm")


def launchers() -> list[str]:
    """Launchers a study may evaluate through: the shipped presets (sim/conf/hydra/launcher) and the plugins."""
    return launcher_presets() + list(PLUGIN_LAUNCHERS)


MAX_SEED = 2**62


def validate_study(study: Any) -> None:
    """Check a study configuration before any work starts."""
    for key, low in (("morris_trajectories", 2), ("morris_levels", 2), ("keep", 1), ("sobol_n", 4),
                     ("replicates", 1), ("prim_boxes", 1), ("discovery_n", 16), ("ablation_contexts", 2),
                     ("heatmap_points", 2), ("timeseries_seeds", 2), ("chunks", 1)):
        value = getattr(study, key)
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise StudyError(f"study.{key}={value!r}: must be an integer >= {low}")
    seed = study.seed
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise StudyError(f"study.seed={seed!r}: must be an integer in [0, 2**62]")
    launcher = getattr(study, "launcher", None)
    if launcher is not None and launcher not in launchers():
        raise StudyError(f"study.launcher={launcher!r}: must be null (evaluate in this process) or one of "
                         f"{', '.join(launchers())}")
    if study.sobol_n & (study.sobol_n - 1):
        n = study.sobol_n
        raise StudyError(f"study.sobol_n={n}: must be a power of 2 (e.g. {1 << (n.bit_length() - 1)} or "
                         f"{1 << n.bit_length()})")
    if study.morris_levels % 2:
        raise StudyError(f"study.morris_levels={study.morris_levels}: must be even")
    if not study.outcomes:
        raise StudyError("study.outcomes: give at least one outcome, e.g. [fragmentation_reduction]")
    roles = list(study.roles)
    unknown = [r for r in roles if r not in ROLES]
    if not roles or unknown:
        raise StudyError(f"study.roles={roles!r}: give one or more of {', '.join(ROLES)} (contexts and levers: "
                         "[context, lever])")
    for key, low in (("robustness_members", 1), ("robustness_seeds", 1), ("resilience_seeds", 1),
                     ("resilience_members", 1)):
        value = getattr(study, key)
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise StudyError(f"study.{key}={value!r}: must be an integer >= {low}")
    if not (np.isfinite(study.failure_margin) and study.failure_margin >= 0):
        raise StudyError(f"study.failure_margin={study.failure_margin!r}: must be a number >= 0 (0.01: worse by "
                         "more than a hundredth)")
    for name in study.resilience:
        preset(name)
    try:
        for name in study.outcomes:
            parse_effect(name)
        bounds = study_bounds(list(study.parameters), dict(study.narrow), roles)
    except ValueError as err:
        raise StudyError(str(err)) from None
    if not np.isfinite(study.prim_threshold):
        raise StudyError(f"study.prim_threshold={study.prim_threshold!r}: must be a finite number")
    _check_sizes(study, len(bounds))


def _check_sizes(study: Any, d: int) -> None:
    """The largest single evaluation must fit in memory (one end-of-run row per scenario)."""
    from sim.model.outcomes import OUTCOMES
    from sim.runtime.limits import check_fits

    points = {"study.sobol_n": study.sobol_n * ((2 * d + 2) if study.second_order else (d + 2)),
              "study.discovery_n": study.discovery_n, "study.morris_trajectories": study.morris_trajectories * (d + 2),
              "study.heatmap_points": study.heatmap_points ** 2, "study.ablation_contexts": study.ablation_contexts}
    key = max(points, key=points.get)
    try:
        check_fits(f"{key}={getattr(study, key.split('.')[1])} with study.replicates={study.replicates}",
                   points[key] * study.replicates * 2, 1, len(OUTCOMES) + len(Params.names()) + 4,
                   "use smaller study sizes or fewer replicates")
    except ValueError as err:
        raise StudyError(str(err)) from None


class _Stages:
    """Finished stages of a study, recorded in ``stages/<name>.json`` after their files are written, so a
    rerun of an interrupted study skips them."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder / "stages"
        self.folder.mkdir(exist_ok=True)

    def done(self, name: str) -> dict[str, Any] | None:
        path = self.folder / f"{name.replace(' ', '_')}.json"
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        logger.info("[%s] already finished: resumed from its files", name)
        return record

    def mark(self, name: str, record: dict[str, Any]) -> None:
        from sim.sweeps.results import write_json

        write_json(self.folder / f"{name.replace(' ', '_')}.json", record)


def run_study(study: Any, base: Params, folder: Path, *, workers: int = 1,
              work_dir: Path | None = None) -> dict[str, Any]:
    """Run every stage of the study into ``folder`` (which must exist); returns timings and headline results.
    With ``study.launcher`` set, evaluations go out as sweeps whose files live in ``work_dir``.

    Stages already recorded as finished in ``folder`` (an interrupted run of the same study) are not rerun;
    their results are read back from their files."""
    validate_study(study)
    try:
        return _run_stages(study, base, folder, workers, work_dir)
    except NonFiniteOutputs as err:
        raise StudyError(f"{err} (a study parameter or range makes the model return no value; check "
                         "study.parameters and study.narrow)") from None


@dataclass
class _Context:
    """What every stage reads: the study's settings, base, folder and factors, its evaluators and the ensemble's
    members. Results of earlier stages are read back from their files, so a resumed stage sees the same inputs."""

    study: Any
    base: Params
    folder: Path
    workers: int
    bounds: dict[str, tuple[float, float]]
    models: _Evaluators
    members: pd.DataFrame | None

    @property
    def names(self) -> list[str]:
        return list(self.bounds)

    @property
    def outcomes(self) -> list[str]:
        return list(self.study.outcomes)

    @property
    def primary(self) -> str:
        return self.outcomes[0]

    def morris_primary(self) -> pd.DataFrame | None:
        if not self.study.morris:
            return None
        table = pd.read_csv(self.folder / "morris.csv")
        return table[table["outcome"] == self.primary]

    @property
    def kept(self) -> list[str]:
        """The factors that rose above the dummy's noise floor (all of them without Morris screening)."""
        table = self.morris_primary()
        return self.names if table is None else _screen(table, self.study.keep)

    @property
    def screening(self) -> list[str]:
        table = self.morris_primary()
        if table is None:
            return []
        return table[table["parameter"] != DUMMY].sort_values("mu_star", ascending=False)["parameter"].tolist()

    @property
    def full(self) -> pd.DataFrame:
        """The Sobol indices of the primary effect at the largest N."""
        table = pd.read_csv(self.folder / "sobol.csv")
        return table[(table["N"] == self.study.sobol_n) & (table["outcome"] == self.primary)]


def _morris(c: _Context) -> None:
    """Morris screening of every factor with a dummy parameter (the noise floor)."""
    study, names, outcomes, seed = c.study, c.names, c.outcomes, c.study.seed
    sp = morris_design({**c.bounds, DUMMY: (0.0, 1.0)}, study.morris_trajectories, seed=seed,
                       levels=study.morris_levels)
    effects = c.models.new(names, outcomes, block=len(names) + 2).run(sp.samples[:, :-1], study.replicates)
    rows = []
    for outcome in outcomes:
        table = morris_indices(sp, effects[outcome].mean(axis=1), seed=seed, levels=study.morris_levels)
        rows.append(table.assign(outcome=outcome).reset_index())
    morris_table = pd.concat(rows, ignore_index=True)
    morris_table["group"] = morris_table["parameter"].map(lambda n: "dummy" if n == DUMMY else theory_group(n))
    morris_table.to_csv(c.folder / "morris.csv", index=False)
    _samples(sp.samples, [*names, DUMMY], effects).to_parquet(c.folder / "morris_samples.parquet", index=False)
    figures.morris_plot(morris_table[morris_table["outcome"] == c.primary], c.folder / "morris.png", c.primary)


def _sobol(c: _Context) -> None:
    """Sobol indices of the kept factors at N and N/2 (convergence), with replicates; the noise share."""
    study, kept, outcomes, seed = c.study, c.kept, c.outcomes, c.study.seed
    logger.info("  kept for Sobol (above the dummy's noise floor): %s", ", ".join(kept))
    evaluator = c.models.new(kept, outcomes, block=(2 * len(kept) + 2) if study.second_order else len(kept) + 2)
    kept_bounds = {n: c.bounds[n] for n in kept}
    index_rows, noise_rows, samples = [], [], []
    sizes = (study.sobol_n // 2, study.sobol_n)
    designs = [sobol_design(kept_bounds, n, seed=seed, second_order=study.second_order) for n in sizes]
    evaluated = evaluator.run_batch([(sp.samples, None) for sp in designs], study.replicates)  # one sweep for both
    for n, sp, effects in zip(sizes, designs, evaluated, strict=True):
        for outcome in outcomes:
            table = sobol_indices(sp, effects[outcome].mean(axis=1), seed=seed, second_order=study.second_order)
            index_rows.append(table.assign(outcome=outcome, N=n).reset_index())
            noise_rows.append({"outcome": outcome, "N": n, "replicates": study.replicates,
                               "noise_share": noise_share(effects[outcome]),
                               "output_mean": float(effects[outcome].mean()),
                               "output_sd": float(effects[outcome].mean(axis=1).std(ddof=1))})
        samples.append(_samples(sp.samples, kept, effects).assign(N=n))
    sobol_table = pd.concat(index_rows, ignore_index=True)
    sobol_table["group"] = sobol_table["parameter"].map(theory_group)
    sobol_table.to_csv(c.folder / "sobol.csv", index=False)
    pd.DataFrame(noise_rows).to_csv(c.folder / "noise.csv", index=False)
    pd.concat(samples, ignore_index=True).to_parquet(c.folder / "sobol_samples.parquet", index=False)
    _convergence(sobol_table, study.sobol_n).to_csv(c.folder / "convergence.csv", index=False)
    figures.sobol_plot(c.full, c.folder / "sobol.png", c.primary)


def _sobol_groups(c: _Context) -> None:
    """Sobol indices by middle-range theory (A, B, C, other) over every factor."""
    groups = {n: theory_group(n) for n in c.names}
    if len(set(groups.values())) < 2:
        return
    sp = sobol_design(c.bounds, c.study.sobol_n // 2, seed=c.study.seed, groups=groups)
    effects = c.models.new(c.names, c.outcomes, block=len(set(groups.values())) + 2).run(sp.samples,
                                                                                          c.study.replicates)
    grouped = pd.concat([sobol_indices(sp, effects[o].mean(axis=1), seed=c.study.seed).assign(outcome=o)
                         .reset_index().rename(columns={"parameter": "group"}) for o in c.outcomes],
                        ignore_index=True)
    grouped.to_csv(c.folder / "sobol_groups.csv", index=False)


def _robustness(c: _Context) -> None:
    """Each factor's own effect under every ensemble member; beside the Sobol indices in contexts_sobol.csv."""
    robust = robustness(c.names, c.bounds, c.base, c.members, c.primary, seeds=c.study.robustness_seeds,
                        seed=c.study.seed, limit=c.study.robustness_members, workers=c.workers)
    robust.to_csv(c.folder / "robustness.csv", index=False)
    _contexts_sobol(c.full, robust, c.names).to_csv(c.folder / "contexts_sobol.csv", index=False)


def _discovery(c: _Context) -> None:
    """PRIM on "the primary effect at least the threshold" over a Latin hypercube of every factor; CART beside."""
    study, names, primary = c.study, c.names, c.primary
    lows, highs = np.array([c.bounds[n] for n in names]).T
    X = qmc.scale(qmc.LatinHypercube(d=len(names), seed=study.seed).random(study.discovery_n), lows, highs)
    evaluator = c.models.new(names, c.outcomes)
    effects = evaluator.run(X, study.replicates)
    x = evaluator.frame(X)[names]
    reduction = effects[primary].mean(axis=1)
    _samples(X, names, effects).to_parquet(c.folder / "discovery_samples.parquet", index=False)
    label = f"{primary} >= {study.prim_threshold:g}"
    try:
        prim = prim_boxes(x, reduction >= study.prim_threshold, max_boxes=study.prim_boxes, threshold_name=label)
    except ValueError as err:  # e.g. no run reached the threshold: the finished stages are kept
        raise StudyError(f"study.prim_threshold={study.prim_threshold:g}: {err}; the finished stages are kept "
                         "for a rerun with the same inputs") from None
    prim.boxes.to_csv(c.folder / "prim_boxes.csv", index=False)
    prim.stats.assign(threshold=study.prim_threshold, base_rate=prim.base_rate).to_csv(
        c.folder / "prim_stats.csv", index=False)
    prim.trajectories.to_csv(c.folder / "prim_trajectory.csv", index=False)
    figures.prim_tradeoff_plot(prim.trajectories, c.folder / "prim_tradeoff.png", label)
    cart_text, cart_leaves, cart_accuracy = cart_rules(x, reduction >= study.prim_threshold, seed=study.seed)
    (c.folder / "cart.txt").write_text(f"CART cross-check for {label}; 5-fold accuracy {cart_accuracy:.3f}\n\n"
                                       + cart_text)
    cart_leaves.to_csv(c.folder / "cart_leaves.csv", index=False)


def _failure(c: _Context) -> None:
    """Where the alliance did worse (and best), from the discovery sample: failure_regions.csv."""
    regions = _failure_regions(c.study, c.folder, c.names, c.bounds, c.outcomes)
    regions.to_csv(c.folder / "failure_regions.csv", index=False)
    figures.failure_regions_plot(pd.read_parquet(c.folder / "discovery_samples.parquet"), regions,
                                 c.folder / "failure_regions.png", c.primary, c.study.failure_margin, c.names)


def _ablation_stage(c: _Context) -> None:
    """Each programme theory and middle-range theory switched off across a sample of contexts."""
    ablation = _ablation(c.study, c.models, c.base, c.bounds, c.outcomes)
    ablation.to_csv(c.folder / "ablation.csv", index=False)
    figures.ablation_plot(ablation[ablation["outcome"] == c.primary], c.folder / "ablation.png", c.primary)


def _resilience_stage(c: _Context) -> None:
    """Dips and recoveries under the event presets, alliance against traditional: resilience.csv."""
    bases = distinct_bases(c.base, c.members, c.study.resilience_members)
    table, curves = resilience(list(c.study.resilience), bases, seeds=c.study.resilience_seeds, seed=c.study.seed,
                               workers=c.workers)
    table.to_csv(c.folder / "resilience.csv", index=False)
    curves.to_csv(c.folder / "resilience_curves.csv", index=False)
    figures.resilience_plot(curves, table, c.folder / "resilience.png")


def _heatmap_and_series(c: _Context) -> None:
    """The effect over the two most influential contexts; the default scenario over time (over members)."""
    pair = _top_contexts(c.full, c.screening, c.names)
    heat = _heatmap(c.study, c.models, c.bounds, pair, c.primary)
    heat.to_csv(c.folder / "heatmap.csv", index=False)
    figures.heatmap_plot(heat, c.folder / "heatmap.png", pair, c.primary)
    seeds = range(c.study.seed, c.study.seed + c.study.timeseries_seeds)
    series = paired_outcomes(member_bases(c.base, c.members, c.study.timeseries_seeds), seeds, workers=c.workers)
    series.to_parquet(c.folder / "timeseries.parquet", index=False)
    summarise(series).to_csv(c.folder / "timeseries_summary.csv", index=False)
    figures.timeseries_plot(series, c.folder / "timeseries.png")


def _journeys(c: _Context) -> None:
    """A few service users' care pathways under each mode: journeys.csv."""
    from sim.analysis.journeys import typical_journeys

    people = typical_journeys(member_bases(c.base, c.members, 1)[0], seed=c.study.seed,
                              month=min(60, c.base.horizon))
    people.to_csv(c.folder / "journeys.csv", index=False)
    figures.journeys_plot(people, c.folder / "journeys.png")


@dataclass(frozen=True)
class Stage:
    """One stage of the study: its name (as logged and recorded), the work (writes its files into the folder)
    and whether this study runs it."""

    name: str
    run: Callable[[_Context], None]
    wanted: Callable[[Any], bool] = lambda study: True


#: The study's stages in order (the module docstring says what each answers).
STAGES: tuple[Stage, ...] = (
    Stage("morris", _morris, lambda study: bool(study.morris)),
    Stage("sobol", _sobol),
    Stage("sobol by middle-range theory", _sobol_groups, lambda study: bool(study.grouped)),
    Stage("robustness", _robustness),
    Stage("scenario discovery", _discovery),
    Stage("failure regions", _failure),
    Stage("ablation", _ablation_stage),
    Stage("resilience", _resilience_stage, lambda study: bool(study.resilience)),
    Stage("heatmap and time series", _heatmap_and_series),
    Stage("journeys", _journeys),
)


class _Runner:
    """Runs the stages in order and owns resuming: a stage recorded as finished (``stages/<name>.json``, written
    after its files) is skipped and its time read back; the others run, timed, and are recorded."""

    def __init__(self, folder: Path, models: _Evaluators) -> None:
        self.stages, self.models = _Stages(folder), models
        self.timings: dict[str, float] = {}
        self.simulation: dict[str, float] = {}
        self.resumed_evaluations = 0

    def run(self, stage: Stage, context: _Context) -> None:
        record = self.stages.done(stage.name)
        if record is not None:
            self.timings[stage.name], self.simulation[stage.name] = record["seconds"], record["simulation_seconds"]
            self.resumed_evaluations += int(record["evaluations"])
            return
        logger.info("[%s] ...", stage.name)
        started, simulated, evaluations = time.perf_counter(), self.models.seconds, self.models.evaluations
        stage.run(context)
        self.timings[stage.name] = time.perf_counter() - started
        self.simulation[stage.name] = self.models.seconds - simulated
        self.stages.mark(stage.name, {"seconds": self.timings[stage.name],
                                      "simulation_seconds": self.simulation[stage.name],
                                      "evaluations": self.models.evaluations - evaluations})
        logger.info("  %.1f s, of which model runs %.1f s", self.timings[stage.name], self.simulation[stage.name])


def _run_stages(study: Any, base: Params, folder: Path, workers: int, work_dir: Path | None) -> dict[str, Any]:
    from sim.analysis.calibration import model_version
    from sim.sweeps.results import write_json

    bounds = study_bounds(list(study.parameters), dict(study.narrow), list(study.roles))
    members, members_text = study_members(study.ensemble)
    write_json(folder / "model_uncertainty.json", {
        "ensemble": str(study.ensemble), "description": members_text,
        "members": 0 if members is None else len(members), "model_version": model_version(),
        "varied": list(bounds), "roles": list(study.roles),
        "fixed": [s.name for s in Params.schema() if s.type in (int, float) and s.name not in bounds]})
    models = _Evaluators(study, base, workers, work_dir, members)
    context = _Context(study, base, folder, workers, bounds, models, members)
    runner = _Runner(folder, models)
    for stage in STAGES:
        if stage.wanted(study):
            runner.run(stage, context)
    top = context.full.sort_values("ST", ascending=False).head(3)
    prim_stats = pd.read_csv(folder / "prim_stats.csv").drop(columns=["threshold", "base_rate"])
    return {"timings": runner.timings, "simulation_seconds": runner.simulation, "kept": context.kept,
            "evaluations": models.evaluations + runner.resumed_evaluations,
            "top": top[["parameter", "ST", "ST_conf", "S1", "S1_conf"]].to_dict("records"),
            "prim": prim_stats.to_dict("records")}


# ------------------------------------------------------------------------------------------------
class _Evaluators:
    """Makes the study's model evaluators and keeps account of their runs and time."""

    def __init__(self, study: Any, base: Params, workers: int, work_dir: Path | None = None,
                 members: pd.DataFrame | None = None) -> None:
        self.study, self.base, self.workers, self.members = study, base, workers, members
        self.sweep = sweep_options(study, workers, work_dir)  # in-process, or the launcher and its settings
        self.made: list[PairedEffects] = []

    def new(self, names: list[str], outcomes: list[str], block: int = 1) -> PairedEffects:
        evaluator = PairedEffects(names, outcomes, base=self.base, seed=self.study.seed, progress=sys.stderr.isatty(),
                                  members=self.members, block=block, **self.sweep)
        self.made.append(evaluator)
        return evaluator

    @property
    def seconds(self) -> float:
        return sum(e.seconds for e in self.made)

    @property
    def evaluations(self) -> int:
        return sum(e.evaluations for e in self.made)


def _samples(X: np.ndarray, names: list[str], effects: dict[str, np.ndarray]) -> pd.DataFrame:
    """Sample rows with each effect's replicate mean and replicate values."""
    frame = pd.DataFrame(X, columns=names)
    for outcome, values in effects.items():
        frame[outcome] = values.mean(axis=1)
        for r in range(values.shape[1]):
            frame[f"{outcome}_r{r}"] = values[:, r]
    return frame


def _screen(morris_primary: pd.DataFrame, keep: int) -> list[str]:
    """Parameters whose mu* beats the dummy's mu* plus its interval, the strongest ``keep`` of them
    (at least two, so Sobol has something to apportion)."""
    table = morris_primary.set_index("parameter")
    floor = float(table.loc[DUMMY, "mu_star"] + table.loc[DUMMY, "mu_star_conf"])
    ranked = table.drop(index=DUMMY).sort_values("mu_star", ascending=False)
    above = ranked[ranked["mu_star"] > floor].index.tolist()
    return (above if len(above) >= 2 else ranked.index[:2].tolist())[:keep]


def _convergence(table: pd.DataFrame, n: int) -> pd.DataFrame:
    """Per outcome: how far indices moved from N/2 to N and whether the ranking held."""
    rows = []
    for outcome, group in table.groupby("outcome", sort=False):
        half = group[group["N"] == n // 2].set_index("parameter")
        full = group[group["N"] == n].set_index("parameter").loc[half.index]
        rho = stats.spearmanr(half["ST"], full["ST"]).statistic if len(full) > 2 else float("nan")
        rows.append({"outcome": outcome, "N_half": n // 2, "N": n,
                     "max_abs_change_ST": float((full["ST"] - half["ST"]).abs().max()),
                     "max_abs_change_S1": float((full["S1"] - half["S1"]).abs().max()),
                     "spearman_ST": float(rho),
                     "same_top": bool(full["ST"].idxmax() == half["ST"].idxmax()),
                     "top_parameter": str(full["ST"].idxmax()),
                     "max_ST_conf": float(full["ST_conf"].max())})
    return pd.DataFrame(rows)


def _contexts_sobol(sobol_primary: pd.DataFrame, robust: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Each factor's Sobol indices (primary effect, largest N; empty for a factor screened out by Morris) beside
    its role, direction and robustness over the ensemble."""
    indices = sobol_primary.set_index("parameter")[["S1", "S1_conf", "ST", "ST_conf"]]
    table = robust.set_index("parameter").join(indices, how="left").reindex(names).reset_index()
    table["screened_out"] = table["ST"].isna()
    columns = ["parameter", "role", "S1", "S1_conf", "ST", "ST_conf", "robustness", "sign_robustness",
               "direction", "change", "rank", "members", "screened_out"]
    return table[columns].sort_values(["screened_out", "ST"], ascending=[True, False]).reset_index(drop=True)


def _failure_regions(study: Any, folder: Path, names: list[str], bounds: dict, outcomes: list[str]) -> pd.DataFrame:
    """Where the alliance did worse than traditional commissioning (fragmentation by more than the margin; value
    at all) and where it did best, from the discovery sample, each by PRIM with CART's accuracy beside it."""
    sample = pd.read_parquet(folder / "discovery_samples.parquet")
    x = sample[names]
    primary, margin = outcomes[0], study.failure_margin
    questions = [("worse_fragmentation" if primary == "fragmentation_reduction" else f"worse_{primary}",
                  f"{primary} < -{margin:g}", sample[primary].to_numpy() < -margin),
                 ("best", f"{primary} >= {study.prim_threshold:g}", sample[primary].to_numpy() >= study.prim_threshold)]
    if primary != "value_gain" and "value_gain" in outcomes:
        questions.insert(1, ("worse_value", "value_gain < 0", sample["value_gain"].to_numpy() < 0))
    rows = []
    for question, meaning, y in questions:
        rows += region_rows(question, meaning, x, y, bounds, max_boxes=study.prim_boxes, seed=study.seed)
    return pd.DataFrame(rows)


def _context_sample(study: Any, bounds: dict, n: int) -> tuple[list[str], np.ndarray]:
    contexts = [name for name in bounds if Params.spec(name).group == "context"] or list(bounds)
    lows, highs = np.array([bounds[c] for c in contexts]).T
    return contexts, qmc.scale(qmc.LatinHypercube(d=len(contexts), seed=study.seed + 1).random(n), lows, highs)


def _ablation(study: Any, models: _Evaluators, base: Params, bounds: dict, outcomes: list[str]) -> pd.DataFrame:
    """Change in each effect when a programme theory (or middle-range theory) is switched off,
    paired by context and seed, with 95% intervals."""
    contexts, X = _context_sample(study, bounds, study.ablation_contexts)
    evaluator = models.new(contexts, outcomes)
    variants = (*RULE_IDS, *THEORY_IDS)
    # the reference and every variant as one sweep
    reference, *switched_off = evaluator.run_batch(
        [(X, None), *((X, base.replace(disabled=(variant,))) for variant in variants)], study.replicates)
    rows = []
    for variant, effects in zip(variants, switched_off, strict=True):
        for outcome in outcomes:
            change = (effects[outcome] - reference[outcome]).ravel()
            mean, low, high = interval(change)
            rows.append({"disabled": variant, "level": "theory" if variant in THEORY_IDS else "rule",
                         "outcome": outcome, "effect_full": float(reference[outcome].mean()),
                         "effect_disabled": float(effects[outcome].mean()), "change": mean,
                         "change_low": low, "change_high": high, "n": change.size})
    return pd.DataFrame(rows)


def _top_contexts(sobol_primary: pd.DataFrame, screening: list[str], names: list[str]) -> list[str]:
    """The two most influential contexts: by Sobol total index, then by Morris mu*, then schema order."""
    ranked = sobol_primary.sort_values("ST", ascending=False)["parameter"].tolist()
    order = list(dict.fromkeys([*ranked, *screening, *names]))
    contexts = [n for n in order if Params.spec(n).group == "context"]
    return (contexts + [n for n in order if n not in contexts])[:2]


def _heatmap(study: Any, models: _Evaluators, bounds: dict, pair: list[str], primary: str) -> pd.DataFrame:
    k = study.heatmap_points
    gx, gy = (np.linspace(*bounds[p], k) for p in pair)
    X = np.array([(a, b) for b in gy for a in gx])
    effects = models.new(pair, [primary]).run(X, study.replicates)
    return pd.DataFrame({pair[0]: X[:, 0], pair[1]: X[:, 1], primary: effects[primary].mean(axis=1)})
