"""Paired comparisons: the same scenario under alliance and traditional commissioning, seed by seed.

Tables (``summary.csv``) hold the paired difference alliance - traditional with a 95% t-interval over seeds.
The alliance's *effect* is named so that positive is good everywhere it is shown (the command line, the
study, the report): ``<outcome>_reduction`` = traditional - alliance (for outcomes where lower is better,
e.g. fragmentation), ``<outcome>_gain`` = alliance - traditional (:func:`parse_effect`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from sim.model.core import simulate, tidy
from sim.model.outcomes import OUTCOMES
from sim.model.outcomes import outcome as outcome_spec
from sim.params import COMMISSIONING_MODES, Params

#: The alliance's effect on each headline outcome, named so that positive is good (see :func:`parse_effect`).
HEADLINE_EFFECTS = ("fragmentation_reduction", "access_gain", "needs_met_gain", "experience_gain", "value_gain")

#: Okabe-Ito colours (colour-blind safe): alliance blue, traditional vermillion.
MODE_COLOURS = {"alliance": "#0072B2", "traditional": "#D55E00"}
FIGURE_OUTCOMES = ("fragmentation", "access", "needs_met", "experience")


def paired_outcomes(params: Params | Sequence[Params], seeds: Sequence[int], steps: int | None = None, *,
                    workers: int = 1, keep: str | None = None, progress: bool = False) -> pd.DataFrame:
    """Tidy outcomes of ``params`` under both commissioning modes for each seed (one row per scenario-step).
    ``params`` may be one per seed (e.g. one ensemble member each); both modes of a seed share them.

    Columns: ``scenario``, every parameter, ``seed``, ``step``, every outcome; ``commissioning`` is the mode.
    """
    seeds = list(seeds)
    per_seed = [params] * len(seeds) if isinstance(params, Params) else list(params)
    if len(per_seed) != len(seeds):
        raise ValueError(f"paired_outcomes: {len(per_seed)} parameter sets for {len(seeds)} seeds")
    scenarios = [p.replace(commissioning=mode) for mode in COMMISSIONING_MODES for p in per_seed]
    all_seeds = np.tile(np.asarray(seeds, dtype=np.int64), len(COMMISSIONING_MODES))
    ds = simulate(scenarios, all_seeds, steps, workers=workers, keep=keep, progress=progress)
    return tidy(ds)


def t_quantile(p: float, df: float) -> float:
    """The ``p`` quantile of Student's t with ``df`` degrees of freedom: what ``scipy.stats.t.ppf(p, df)``
    returns (it calls the same ``scipy.special.stdtrit``), without importing ``scipy.stats`` (about 1 s in
    every sweep process and job)."""
    from scipy.special import stdtrit

    return stdtrit(df, p)


def interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and t-interval of the mean (the interval collapses to the mean for one value)."""
    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    if len(values) < 2 or np.all(values == values[0]):
        return mean, mean, mean
    half = float(t_quantile(0.5 + level / 2, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values)))
    return mean, mean - half, mean + half


def summarise(frame: pd.DataFrame, step: int | None = None) -> pd.DataFrame:
    """End-of-horizon (or ``step``) means with 95% intervals per mode and for alliance - traditional.

    One row per outcome; columns ``<mode>_mean``, ``<mode>_low``, ``<mode>_high`` and ``difference_*``.
    """
    step = int(frame["step"].max()) if step is None else step
    at = frame[frame["step"] == step]
    rows = []
    for outcome in OUTCOMES:
        row: dict[str, float | str | int] = {"outcome": outcome, "step": step}
        by_mode = {m: at[at["commissioning"] == m].set_index("seed")[outcome].sort_index() for m in COMMISSIONING_MODES}
        for mode, values in by_mode.items():
            row[f"{mode}_mean"], row[f"{mode}_low"], row[f"{mode}_high"] = interval(values.to_numpy())
        diff = (by_mode["alliance"] - by_mode["traditional"]).dropna().to_numpy()
        row["difference_mean"], row["difference_low"], row["difference_high"] = interval(diff)
        row["n_seeds"] = len(diff)
        rows.append(row)
    return pd.DataFrame(rows)


def plot_paired(frame: pd.DataFrame, path: str | Path, title: str = "") -> Path:
    """Alliance vs traditional over time, mean with 95% band over seeds, for the headline outcomes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(FIGURE_OUTCOMES), figsize=(4 * len(FIGURE_OUTCOMES), 3.4), sharex=True)
    for ax, outcome in zip(axes, FIGURE_OUTCOMES, strict=True):
        for mode, style in (("alliance", "-"), ("traditional", "--")):
            wide = frame[frame["commissioning"] == mode].pivot(index="step", columns="seed", values=outcome)
            mean = wide.mean(axis=1)
            n = wide.shape[1]
            half = t_quantile(0.975, max(n - 1, 1)) * wide.std(axis=1, ddof=1).fillna(0) / np.sqrt(n)
            ax.plot(mean.index, mean, style, color=MODE_COLOURS[mode], label=mode)
            ax.fill_between(mean.index, mean - half, mean + half, color=MODE_COLOURS[mode], alpha=0.25, lw=0)
        ax.set_title(outcome.replace("_", " "))
        ax.set_xlabel("month")
        ax.grid(alpha=0.3)
    axes[0].legend(frameon=False)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def effect_name(outcome: str) -> str:
    """The alliance's effect on an outcome, named the way that makes positive good (from the outcome registry's
    direction): ``<outcome>_reduction`` (traditional - alliance) where lower is better, else ``<outcome>_gain``."""
    return f"{outcome}_{'reduction' if outcome_spec(outcome).better == 'lower' else 'gain'}"


def effect_names() -> list[str]:
    """The effect of every model outcome, named by :func:`effect_name` (a study may also name the other sign)."""
    return [effect_name(o) for o in OUTCOMES]


def parse_effect(name: str) -> tuple[str, float]:
    """The outcome an effect name is about and the sign that makes it alliance's effect, positive = good."""
    for suffix, sign in (("_reduction", -1.0), ("_gain", 1.0)):
        if name.endswith(suffix) and name[: -len(suffix)] in OUTCOMES:
            return name[: -len(suffix)], sign
    raise ValueError(f"outcome {name!r}: unknown; allowed: <outcome>_reduction or <outcome>_gain with outcome "
                     f"one of {', '.join(OUTCOMES)} (e.g. fragmentation_reduction, access_gain)")
