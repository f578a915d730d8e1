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
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.stats import qmc

from sim.analysis import figures
from sim.analysis.discovery import cart_rules, prim_boxes, region_rows
from sim.analysis.model_uncertainty import member_bases, robustness, study_members
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


def _run_stages(study: Any, base: Params, folder: Path, workers: int, work_dir: Path | None) -> dict[str, Any]:
    bounds = study_bounds(list(study.parameters), dict(study.narrow), list(study.roles))
    names = list(bounds)
    outcomes = list(study.outcomes)
    primary = outcomes[0]
    R, seed = study.replicates, study.seed
    timings: dict[str, float] = {}
    members, members_text = study_members(study.ensemble)
    from sim.analysis.calibration import model_version
    from sim.sweeps.results import write_json

    write_json(folder / "model_uncertainty.json", {
        "ensemble": str(study.ensemble), "description": members_text,
        "members": 0 if members is None else len(members), "model_version": model_version(),
        "varied": names, "roles": list(study.roles),
        "fixed": [s.name for s in Params.schema() if s.type in (int, float) and s.name not in names]})
    models = _Evaluators(study, base, workers, work_dir, members)
    evaluator = models.new(names, outcomes, block=len(names) + 2)  # a Morris trajectory (with the dummy)
    stages = _Stages(folder)
    resumed_evaluations = 0

    simulation: dict[str, float] = {}

    def stage(name: str) -> Callable[[], None]:
        started, simulated, evaluations = time.perf_counter(), models.seconds, models.evaluations

        def done() -> None:
            timings[name] = time.perf_counter() - started
            simulation[name] = models.seconds - simulated
            stages.mark(name, {"seconds": timings[name], "simulation_seconds": simulation[name],
                               "evaluations": models.evaluations - evaluations})
            logger.info("  %.1f s, of which model runs %.1f s", timings[name], simulation[name])

        logger.info("[%s] ...", name)
        return done

    def resumed(name: str) -> bool:
        nonlocal resumed_evaluations
        record = stages.done(name)
        if record is None:
            return False
        timings[name], simulation[name] = record["seconds"], record["simulation_seconds"]
        resumed_evaluations += int(record["evaluations"])
        return True

    # 1. Morris screening with a dummy parameter
    kept, screening = names, []
    if study.morris:
        if not resumed("morris"):
            done = stage("morris")
            sp = morris_design({**bounds, DUMMY: (0.0, 1.0)}, study.morris_trajectories, seed=seed,
                               levels=study.morris_levels)
            effects = evaluator.run(sp.samples[:, :-1], R)
            rows = []
            for outcome in outcomes:
                table = morris_indices(sp, effects[outcome].mean(axis=1), seed=seed, levels=study.morris_levels)
                rows.append(table.assign(outcome=outcome).reset_index())
            morris_table = pd.concat(rows, ignore_index=True)
            morris_table["group"] = morris_table["parameter"].map(
                lambda n: "dummy" if n == DUMMY else theory_group(n))
            morris_table.to_csv(folder / "morris.csv", index=False)
            _samples(sp.samples, [*names, DUMMY], effects).to_parquet(folder / "morris_samples.parquet", index=False)
            figures.morris_plot(morris_table[morris_table["outcome"] == primary], folder / "morris.png", primary)
            done()
        morris_table = pd.read_csv(folder / "morris.csv")
        primary_morris = morris_table[(morris_table["outcome"] == primary) & (morris_table["parameter"] != DUMMY)]
        screening = primary_morris.sort_values("mu_star", ascending=False)["parameter"].tolist()
        kept = _screen(morris_table[morris_table["outcome"] == primary], study.keep)
        logger.info("  kept for Sobol (above the dummy's noise floor): %s", ", ".join(kept))

    # 2-3. Sobol at N and N/2 on the kept parameters, with replicates; noise share
    if not resumed("sobol"):
        done = stage("sobol")
        sobol_eval = models.new(kept, outcomes, block=(2 * len(kept) + 2) if study.second_order else len(kept) + 2)
        kept_bounds = {n: bounds[n] for n in kept}
        index_rows, noise_rows, samples = [], [], []
        sizes = (study.sobol_n // 2, study.sobol_n)
        designs = [sobol_design(kept_bounds, n, seed=seed, second_order=study.second_order) for n in sizes]
        evaluated = sobol_eval.run_batch([(sp.samples, None) for sp in designs], R)  # one sweep for both
        for n, sp, effects in zip(sizes, designs, evaluated, strict=True):
            for outcome in outcomes:
                table = sobol_indices(sp, effects[outcome].mean(axis=1), seed=seed, second_order=study.second_order)
                index_rows.append(table.assign(outcome=outcome, N=n).reset_index())
                noise_rows.append({"outcome": outcome, "N": n, "replicates": R,
                                   "noise_share": noise_share(effects[outcome]),
                                   "output_mean": float(effects[outcome].mean()),
                                   "output_sd": float(effects[outcome].mean(axis=1).std(ddof=1))})
            samples.append(_samples(sp.samples, kept, effects).assign(N=n))
        sobol_table = pd.concat(index_rows, ignore_index=True)
        sobol_table["group"] = sobol_table["parameter"].map(theory_group)
        sobol_table.to_csv(folder / "sobol.csv", index=False)
        pd.DataFrame(noise_rows).to_csv(folder / "noise.csv", index=False)
        pd.concat(samples, ignore_index=True).to_parquet(folder / "sobol_samples.parquet", index=False)
        _convergence(sobol_table, study.sobol_n).to_csv(folder / "convergence.csv", index=False)
        full = sobol_table[(sobol_table["N"] == study.sobol_n) & (sobol_table["outcome"] == primary)]
        figures.sobol_plot(full, folder / "sobol.png", primary)
        done()
    sobol_table = pd.read_csv(folder / "sobol.csv")
    full = sobol_table[(sobol_table["N"] == study.sobol_n) & (sobol_table["outcome"] == primary)]

    if study.grouped and not resumed("sobol by middle-range theory"):
        done = stage("sobol by middle-range theory")
        groups = {n: theory_group(n) for n in names}
        if len(set(groups.values())) > 1:
            sp = sobol_design(bounds, study.sobol_n // 2, seed=seed, groups=groups)
            effects = models.new(names, outcomes, block=len(set(groups.values())) + 2).run(sp.samples, R)
            grouped = pd.concat([sobol_indices(sp, effects[o].mean(axis=1), seed=seed).assign(outcome=o)
                                 .reset_index().rename(columns={"parameter": "group"}) for o in outcomes],
                                ignore_index=True)
            grouped.to_csv(folder / "sobol_groups.csv", index=False)
        done()

    # 4. Robustness over the ensemble: each factor's own effect under every member
    if not resumed("robustness"):
        done = stage("robustness")
        robust = robustness(names, bounds, base, members, primary, seeds=study.robustness_seeds, seed=seed,
                            limit=study.robustness_members, workers=workers)
        robust.to_csv(folder / "robustness.csv", index=False)
        _contexts_sobol(full, robust, names).to_csv(folder / "contexts_sobol.csv", index=False)
        done()

    # 5. Scenario discovery on a Latin hypercube over every study parameter
    if not resumed("scenario discovery"):
        done = stage("scenario discovery")
        lows, highs = np.array([bounds[n] for n in names]).T
        X = qmc.scale(qmc.LatinHypercube(d=len(names), seed=seed).random(study.discovery_n), lows, highs)
        effects = models.new(names, outcomes).run(X, R)
        x = evaluator.frame(X)[names]
        reduction = effects[primary].mean(axis=1)
        _samples(X, names, effects).to_parquet(folder / "discovery_samples.parquet", index=False)
        label = f"{primary} >= {study.prim_threshold:g}"
        try:
            prim = prim_boxes(x, reduction >= study.prim_threshold, max_boxes=study.prim_boxes,
                              threshold_name=label)
        except ValueError as err:  # e.g. no run reached the threshold: the finished stages are kept
            raise StudyError(f"study.prim_threshold={study.prim_threshold:g}: {err}; the finished stages are kept "
                             "for a rerun with the same inputs") from None
        prim.boxes.to_csv(folder / "prim_boxes.csv", index=False)
        prim.stats.assign(threshold=study.prim_threshold, base_rate=prim.base_rate).to_csv(
            folder / "prim_stats.csv", index=False)
        prim.trajectories.to_csv(folder / "prim_trajectory.csv", index=False)
        figures.prim_tradeoff_plot(prim.trajectories, folder / "prim_tradeoff.png", label)
        cart_text, cart_leaves, cart_accuracy = cart_rules(x, reduction >= study.prim_threshold, seed=seed)
        (folder / "cart.txt").write_text(f"CART cross-check for {label}; 5-fold accuracy {cart_accuracy:.3f}\n\n"
                                         + cart_text)
        cart_leaves.to_csv(folder / "cart_leaves.csv", index=False)
        done()
    prim_stats = pd.read_csv(folder / "prim_stats.csv").drop(columns=["threshold", "base_rate"])

    if not resumed("failure regions"):
        done = stage("failure regions")
        regions = _failure_regions(study, folder, names, bounds, outcomes)
        regions.to_csv(folder / "failure_regions.csv", index=False)
        figures.failure_regions_plot(pd.read_parquet(folder / "discovery_samples.parquet"), regions,
                                     folder / "failure_regions.png", primary, study.failure_margin, names)
        done()

    # 6. Ablation across a sample of contexts
    if not resumed("ablation"):
        done = stage("ablation")
        ablation = _ablation(study, models, base, bounds, outcomes)
        ablation.to_csv(folder / "ablation.csv", index=False)
        figures.ablation_plot(ablation[ablation["outcome"] == primary], folder / "ablation.png", primary)
        done()

    # 7. Resilience under the event presets
    if study.resilience and not resumed("resilience"):
        done = stage("resilience")
        bases = member_bases(base, members, min(study.resilience_members, 1 if members is None else len(members)))
        table, curves = resilience(list(study.resilience), bases, seeds=study.resilience_seeds, seed=seed,
                                   workers=workers)
        table.to_csv(folder / "resilience.csv", index=False)
        curves.to_csv(folder / "resilience_curves.csv", index=False)
        figures.resilience_plot(curves, table, folder / "resilience.png")
        done()

    # 8. Heatmap over the two most influential contexts; the default scenario over time
    if not resumed("heatmap and time series"):
        done = stage("heatmap and time series")
        pair = _top_contexts(full, screening, names)
        heat = _heatmap(study, models, bounds, pair, primary)
        heat.to_csv(folder / "heatmap.csv", index=False)
        figures.heatmap_plot(heat, folder / "heatmap.png", pair, primary)
        series = paired_outcomes(member_bases(base, members, study.timeseries_seeds),
                                 range(seed, seed + study.timeseries_seeds), workers=workers)
        series.to_parquet(folder / "timeseries.parquet", index=False)
        summarise(series).to_csv(folder / "timeseries_summary.csv", index=False)
        figures.timeseries_plot(series, folder / "timeseries.png")
        done()

    if not resumed("journeys"):
        done = stage("journeys")
        from sim.analysis.journeys import typical_journeys

        people = typical_journeys(member_bases(base, members, 1)[0], seed=seed, month=min(60, base.horizon))
        people.to_csv(folder / "journeys.csv", index=False)
        figures.journeys_plot(people, folder / "journeys.png")
        done()

    top = full.sort_values("ST", ascending=False).head(3)
    return {"timings": timings, "simulation_seconds": simulation, "kept": kept,
            "evaluations": models.evaluations + resumed_evaluations,
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
