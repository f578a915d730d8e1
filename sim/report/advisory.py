"""The advisory-group report of a sensitivity study: plain language, in HTML and PDF.

The report is four modules, one job each: :mod:`sim.report.folder` reads and checks the study folder,
:mod:`sim.report.facts` turns its tables into the numbers and sentences the prose quotes (with where each came
from, so tests can hold the prose to the CSVs), :mod:`sim.report.words` holds the plain words and rounding, and
this module draws the summary's figures, builds the appendix tables and renders: ``write_report(folder)`` writes
``report.html`` (self-contained: inline CSS, base64 images, no external requests) and ``report.pdf``
(WeasyPrint, A4) from the Jinja2 templates in ``sim/report/templates/``. The figures of the failure regions,
resilience and journeys are the study's own (:mod:`sim.analysis.figures`); the others are redrawn here from the
tables with plain-word labels, and every figure gets alt text generated from the same numbers.
"""

from __future__ import annotations

import base64
import importlib.metadata
import io
import json
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

from sim.runtime.extras import require

require("report", "The advisory-group report")

matplotlib.use("Agg")
import jinja2  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402

from sim.analysis.sensitivity import theory_group  # noqa: E402
from sim.model.theories import RULE_INFO  # noqa: E402
from sim.params import RULE_IDS, THEORY_IDS, THEORY_RULES, Params  # noqa: E402
from sim.report.facts import study_facts, summary_facts  # noqa: E402
from sim.report.folder import Study, first_line  # noqa: E402
from sim.report.words import (  # noqa: E402
    CONVERGENCE_GUIDE,
    KIND_NAMES,
    SIGNIFICANT_QP,
    THEORY_NAMES,
    effect_label,
    num,
    outcome_label,
    param_label,
    pct,
    small_pct,
    span,
    upper_first,
    variant_label,
)
from sim.runtime.errors import DamagedResults, ReportError  # noqa: E402

__all__ = ["ReportError", "summary_facts", "render_html", "write_report", "param_label", "effect_label"]

TEMPLATES = Path(__file__).resolve().parent / "templates"
OKABE_ITO = {"blue": "#0072B2", "sky": "#56B4E9", "orange": "#E69F00", "vermillion": "#D55E00",
             "green": "#009E73", "purple": "#CC79A7", "yellow": "#F0E442", "grey": "#999999", "black": "#000000"}
GROUP_STYLE = {"A": (OKABE_ITO["blue"], "o"), "B": (OKABE_ITO["green"], "s"), "C": (OKABE_ITO["purple"], "D"),
               "other": (OKABE_ITO["grey"], "^"), "dummy": (OKABE_ITO["black"], "x")}




# ------------------------------------------------------------------------------------------------
# Figures (PNG bytes + alt text)
# ------------------------------------------------------------------------------------------------
@dataclass
class Figure:
    key: str
    title: str
    png: bytes
    alt: str
    caption: str

    @property
    def src(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=150, bbox_inches="tight", facecolor="white")
    plt.close(fig)
    return buf.getvalue()


def _style(ax) -> None:
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="x", alpha=0.3)


def _wrap(text: str, width: int = 34) -> str:
    return "\n".join(textwrap.wrap(text, width))


def sobol_figure(s: Study, facts: dict) -> Figure:
    rows = s.sobol(s.primary).iloc[::-1]
    y = np.arange(len(rows))
    fig, ax = plt.subplots(figsize=(7, 0.5 * len(rows) + 1.4))
    # Small samples can give estimates outside [0, 1]; bars and whiskers show the clipped values.
    clipped = {k: rows[k].clip(0, 1) for k in ("ST", "S1")}
    err = lambda a, lo, hi: [(clipped[a] - rows[lo]).clip(0), (rows[hi] - clipped[a]).clip(0)]  # noqa: E731
    ax.barh(y + 0.19, clipped["ST"], 0.38, xerr=err("ST", "ST_low", "ST_high"), color=OKABE_ITO["blue"],
            capsize=3, label="total effect (alone and with others)")
    ax.barh(y - 0.19, clipped["S1"], 0.38, xerr=err("S1", "S1_low", "S1_high"), color=OKABE_ITO["sky"],
            capsize=3, label="effect on its own")
    ax.set_yticks(y, [_wrap(param_label(p), 40) for p in rows["parameter"]], fontsize=8)
    ax.set_xlabel(f"share of the variation in the {facts['primary_label']} (95% interval)")
    ax.set_xlim(0, max(1e-9, float(rows["ST_high"].max())) * 1.1)
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    _style(ax)
    ranked = facts["ranking"]
    alt = (f"Horizontal bar chart of Sobol indices for the {facts['primary_label']}, N = {facts['N']}, ranked by "
           "total effect. " + "; ".join(f"{r['label']}: total {num(r['ST'])} (95% interval "
                                        f"{span(r['ST_low'], r['ST_high'])}), on its own {num(r['S1'])}"
                                        for r in ranked) + ".")
    return Figure("sobol", "Which factors matter most", _png(fig), alt,
                  f"Total-effect (dark) and first-order (light) Sobol indices of the {facts['primary_label']} at "
                  f"N = {facts['N']} base points with {facts['replicates']} replicates each; whiskers are 95% "
                  "bootstrap intervals. The gap between the two bars is what a factor does through interactions "
                  "with others.")


def morris_figure(s: Study, facts: dict) -> Figure | None:
    table = s.csv("morris.csv")
    if table is None:
        return None
    table = table[table["outcome"] == s.primary]
    fig, ax = plt.subplots(figsize=(5.2, 4.4))
    for group, rows in table.groupby("group"):
        colour, marker = GROUP_STYLE.get(group, GROUP_STYLE["other"])
        ax.scatter(rows["mu_star"], rows["sigma"], color=colour, marker=marker, s=36, zorder=3,
                   label=f"{group}: {THEORY_NAMES.get(group, group)}" if group in THEORY_RULES else
                   THEORY_NAMES.get(group, group))
    ranked = table[table["parameter"] != "dummy"].sort_values("mu_star", ascending=False)
    # Numbers at the points and a key beside the plot: long plain-word names would overlap.
    key = []
    for k, (_, r) in enumerate(ranked.head(8).iterrows(), start=1):
        ax.annotate(str(k), (r["mu_star"], r["sigma"]), fontsize=8, fontweight="bold", xytext=(4, 3),
                    textcoords="offset points")
        key.append(f"{k}  {_wrap(param_label(r['parameter']), 30)}".replace("\n", "\n    "))
    ax.text(1.03, 1.0, "\n".join(key), transform=ax.transAxes, fontsize=7.5, va="top", linespacing=1.35)
    dummy = table[table["parameter"] == "dummy"]
    floor = float(dummy["mu_star"].iloc[0] + dummy["mu_star_conf"].iloc[0]) if len(dummy) else None
    if floor is not None:
        ax.axvline(floor, color="black", ls=":", lw=1, label="noise floor")
    ax.set_xlabel(f"average size of a factor's effect on the {facts['primary_label']} (μ*)")
    ax.set_ylabel("how much that effect depends on other factors (σ)")
    ax.grid(alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(frameon=False, fontsize=7, loc="upper left")
    top = ranked.head(4)
    quiet = int((ranked["mu_star"] <= (floor or 0)).sum())
    alt = (f"Scatter plot of Morris screening for the {facts['primary_label']}: {len(ranked)} factors, each "
           "placed by the average size of its effect (across) and how much that effect varies (up). Largest: "
           + "; ".join(f"{param_label(r['parameter'])} μ* {num(r['mu_star'])}, σ {num(r['sigma'])}"
                       for _, r in top.iterrows())
           + f". {quiet} factors sit at or below the noise floor set by a dummy factor"
           + (f" (μ* {num(floor, 3)})." if floor is not None else "."))
    return Figure("morris", "Screening every factor", _png(fig), alt,
                  f"Morris elementary effects ({s.study['morris_trajectories']} trajectories). Factors to the right "
                  "of the dotted noise floor (a dummy factor the model never reads, plus its interval) were "
                  "passed on to the Sobol analysis; factors high up act mostly through interactions or "
                  "non-linearly. Shapes and colours mark the middle-range theory whose rules read the factor.")


def heatmap_figure(s: Study, facts: dict) -> Figure:
    table = s.csv("heatmap.csv")
    value = s.primary if s.primary in table else table.columns[-1]
    pair = [c for c in table.columns if c != value][:2]
    wide = table.pivot(index=pair[1], columns=pair[0], values=value)
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    z = wide.to_numpy()
    mesh = ax.pcolormesh(wide.columns, wide.index, z, cmap="viridis", shading="nearest")
    fig.colorbar(mesh, ax=ax, label=facts["primary_label"])
    if min(z.shape) >= 3 and np.ptp(z) > 0:
        contours = ax.contour(wide.columns, wide.index, z, levels=5, colors="white", linewidths=0.8)
        ax.clabel(contours, fmt=lambda v: num(v), fontsize=7)
    ax.set_xlabel(param_label(pair[0]))
    ax.set_ylabel(param_label(pair[1]))
    lo_idx, hi_idx = np.unravel_index(np.nanargmin(z), z.shape), np.unravel_index(np.nanargmax(z), z.shape)
    def where(i: tuple) -> str:
        return f"{param_label(pair[0])} {num(wide.columns[i[1]])}, {param_label(pair[1])} {num(wide.index[i[0]])}"

    alt = (f"Heatmap of the {facts['primary_label']} over {param_label(pair[0])} (across) and "
           f"{param_label(pair[1])} (up), {z.shape[1]} by {z.shape[0]} grid, other factors at the base scenario. "
           f"Lowest {num(np.nanmin(z))} at {where(lo_idx)}; highest {num(np.nanmax(z))} at {where(hi_idx)}. "
           + _gradient_text(wide, pair))
    facts["heatmap"] = {"pair": pair, "min": float(np.nanmin(z)), "max": float(np.nanmax(z))}
    ranked = [r["parameter"] for r in facts["ranking"]]
    if all(p in ranked for p in pair):
        why = "These are the two local contexts ranked highest by the total-effect index."
    elif pair[0] in ranked:
        why = (f"{upper_first(param_label(pair[0]))} is the local context ranked highest; no other local context "
               f"passed the screening, so {param_label(pair[1])} is simply the next one in the parameter list.")
    else:
        why = "No local context passed the screening, so these are the first two in the parameter list."
    return Figure("heatmap", "The effect over the leading local contexts", _png(fig), alt,
                  f"The {facts['primary_label']} (mean of {facts['replicates']} replicates) on a grid of "
                  f"{param_label(pair[0])} and {param_label(pair[1])}, with every other factor at the base "
                  f"scenario. {why} White lines join points with the same effect.")


def _gradient_text(wide: pd.DataFrame, pair: list[str]) -> str:
    z = wide.to_numpy()
    across = float(np.nanmean(z[:, -1] - z[:, 0]))
    up = float(np.nanmean(z[-1, :] - z[0, :]))
    def say(name: str, d: float) -> str:
        return (f"moving {name} from lowest to highest changes the effect by {num(d)} on average")
    return f"{say(param_label(pair[0]), across).capitalize()}; {say(param_label(pair[1]), up)}."


def timeseries_figure(s: Study, facts: dict) -> Figure:
    frame = s.parquet("timeseries.parquet")
    outcomes = list(dict.fromkeys([facts["outcome"], "access", "needs_met", "experience"]))[:4]
    outcomes = [o for o in outcomes if o in frame]
    fig, axes = plt.subplots(2, 2, figsize=(7, 5.2), sharex=True)
    styles = {"alliance": (OKABE_ITO["blue"], "-"), "traditional": (OKABE_ITO["vermillion"], "--")}
    ends = []
    for ax, outcome in zip(axes.flat, outcomes, strict=False):
        for mode, (colour, ls) in styles.items():
            wide = frame[frame["commissioning"] == mode].pivot(index="step", columns="seed", values=outcome)
            mean, k = wide.mean(axis=1), wide.shape[1]
            half = stats.t.ppf(0.975, max(k - 1, 1)) * wide.std(axis=1, ddof=1).fillna(0) / np.sqrt(k)
            ax.plot(mean.index, mean, ls, color=colour, lw=1.6, label=mode)
            ax.fill_between(mean.index, mean - half, mean + half, color=colour, alpha=0.25, lw=0)
            ends.append((outcome, mode, float(mean.iloc[-1]), float((mean - half).iloc[-1]),
                         float((mean + half).iloc[-1])))
        ax.set_title(outcome_label(outcome).capitalize(), fontsize=10)
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
        ax.spines[["top", "right"]].set_visible(False)
    for ax in axes.flat[len(outcomes):]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("month")
    axes[0, 0].legend(frameon=False, fontsize=8)
    seeds = int(frame["seed"].nunique())
    steps = int(frame["step"].max())
    alt = (f"Four line charts of the base scenario over {steps} months, alliance (solid blue) against "
           f"traditional commissioning (dashed orange), mean of {seeds} seeds with 95% bands. At month {steps}: "
           + "; ".join(f"{outcome_label(o)} {m} {num(v)} ({span(lo, hi)})" for o, m, v, lo, hi in ends) + ".")
    return Figure("timeseries", "Alliance and traditional commissioning over time", _png(fig), alt,
                  f"The base scenario run under both commissioning models with the same {seeds} random seeds; "
                  "lines are means and shaded bands 95% intervals over seeds. Outcomes are shares from 0 to 1; "
                  "lower fragmentation is better, higher is better for the others.")


def ablation_figure(s: Study, facts: dict) -> Figure:
    rows = pd.DataFrame(facts["ablation"])
    rows = rows.iloc[::-1].reset_index(drop=True)
    y = np.arange(len(rows))
    fig, ax = plt.subplots(figsize=(7, 0.42 * len(rows) + 1.4))
    colours = [OKABE_ITO["orange"] if lvl == "theory" else OKABE_ITO["blue"] for lvl in rows["level"]]
    hatches = ["//" if lvl == "theory" else "" for lvl in rows["level"]]
    bars = ax.barh(y, rows["change"], color=colours, edgecolor="black", linewidth=0.4,
                   xerr=[rows["change"] - rows["change_low"], rows["change_high"] - rows["change"]], capsize=3)
    for bar, hatch in zip(bars, hatches, strict=True):
        bar.set_hatch(hatch)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(y, [_wrap(v, 44) for v in rows["label"]], fontsize=8)
    ax.set_xlabel(f"change in the {facts['primary_label']} when switched off")
    from matplotlib.patches import Patch

    for k, r in rows.iterrows():
        if r["change"] == 0 and r["change_low"] == 0 and r["change_high"] == 0:
            ax.annotate("no change (acts on other outcomes)", (0, k), xytext=(-4, 0), textcoords="offset points",
                        ha="right", va="center", fontsize=7, color="#444444")
    fig.legend(handles=[Patch(color=OKABE_ITO["blue"], label="one programme theory"),
                        Patch(facecolor=OKABE_ITO["orange"], hatch="//", edgecolor="black",
                              label="a whole middle-range theory")], frameon=False, fontsize=8,
               loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=2)
    _style(ax)
    fig.tight_layout()
    alt = (f"Horizontal bar chart: change in the {facts['primary_label']} when each programme theory is switched "
           f"off (full effect {num(rows['effect_full'].iloc[0])}). "
           + "; ".join(f"{r['label']}: {num(r['change'])} (95% interval {span(r['change_low'], r['change_high'])})"
                       for r in facts["ablation"]) + ".")
    return Figure("ablation", "Which programme theories carry the effect", _png(fig), alt,
                  f"Each bar is the average change in the {facts['primary_label']} when one programme theory "
                  "(blue) or a whole middle-range theory (orange, hatched) is switched off, over the same sampled "
                  "contexts and seeds; whiskers are 95% intervals. Bars to the left mean the alliance achieves "
                  "less without that theory.")


# ------------------------------------------------------------------------------------------------
# Appendix tables
# ------------------------------------------------------------------------------------------------
def study_figures(s: Study, facts: dict) -> list[Figure]:
    """The figures the study drew (one style, :mod:`sim.analysis.figures`), with alt text from the study's tables:
    where the alliance did worse, the dips under shocks, and a few service users' care pathways."""
    out = []
    meaning = facts.get("meaning") or {}
    regions = s.csv("failure_regions.csv")
    if (s.folder / "failure_regions.png").is_file() and regions is not None:
        worse = [w for w in meaning.get("worse", []) if w["question"] == "worse_fragmentation"]
        alt = ("Scatter of the sampled places on two factors, marking those where the alliance left services more "
               "fragmented. " + (worse[0]["sentence"] if worse else ""))
        out.append(Figure("failure", "Where the alliance did worse than traditional commissioning",
                          (s.folder / "failure_regions.png").read_bytes(), alt,
                          "Each point is a sampled place and its choices; crosses mark places where the alliance "
                          "left services more fragmented than traditional commissioning by more than "
                          f"{num(float(s.study.get('failure_margin', 0.01)))}. The dashed box is the region where "
                          "that happened most often."))
    resilience = s.csv("resilience.csv")
    if (s.folder / "resilience.png").is_file() and resilience is not None:
        parts = [f"{r['preset'].replace('_', ' ')}: up to {num(r['depth'])} under the {r['commissioning']}"
                 for _, r in resilience.iterrows()]
        out.append(Figure("resilience", "How far fragmentation rose after each shock",
                          (s.folder / "resilience.png").read_bytes(),
                          "Line charts of the rise in fragmentation caused by each shock, by month, under each "
                          "mode. " + "; ".join(parts) + ".",
                          "Each line is fragmentation with the shock minus the same runs without it (the same "
                          "places and chance events); the dotted line marks the first event."))
    people = s.csv("journeys.csv")
    if (s.folder / "journeys.png").is_file() and people is not None:
        count = people.groupby("commissioning")[["handoff", "lost", "repeated"]].sum()
        alt = "Care pathways of {} service users under each mode. ".format(people["person"].nunique()) + "; ".join(
            f"{mode}: {int(r['handoff'])} handoffs, {int(r['lost'])} lost, {int(r['repeated'])} assessed again"
            for mode, r in count.iterrows()) + "."
        out.append(Figure("journeys", "The same people's care under each mode",
                          (s.folder / "journeys.png").read_bytes(), alt,
                          "The same people with the same needs in the same month, in the same place: each circle is "
                          "the provider of one part of their care; a cross marks a handoff where the person was lost "
                          "(no one took responsibility), a ring a provider that assessed them again."))
    return out


def _parameter_table(s: Study) -> list[dict[str, Any]]:
    out = []
    for spec in Params.schema():
        if spec.group == "ablation":
            continue
        base = s.base.get(spec.name, spec.default)
        if spec.name == "commissioning":
            used = "both, compared in pairs"
        elif spec.name in s.bounds:
            lo, hi = s.bounds[spec.name]
            used = f"{lo:g} to {hi:g}"
        else:
            used = f"fixed at {base:g}" if isinstance(base, int | float) else f"fixed at {base}"
        if spec.name == "events":
            allowed, base = "'kind@month=value' events", ", ".join(base) or "none"
            used = f"fixed at {base}"
        elif spec.name == "constants":
            allowed = "model constants in their plausible ranges (methods: the constants table)"
            base = ", ".join(f"{n}={v:g}" for n, v in (base or ())) or "the registry's values"
            used = f"fixed at {base}"
        else:
            allowed = ", ".join(spec.choices) if spec.choices else f"{spec.low:g} to {spec.high:g}"
        out.append({"name": spec.name, "label": param_label(spec.name), "group": KIND_NAMES[spec.group],
                    "meaning": spec.meaning, "unit": spec.unit, "base": base if not isinstance(base, float)
                    else f"{base:g}", "allowed": allowed, "used": used,
                    "sobol": spec.name in s.kept, "theory": theory_group(spec.name)})
    return out


def _design_table(s: Study) -> list[dict[str, str]]:
    st, R = s.study, int(s.study["replicates"])
    d, k, n = len(s.bounds), len(s.kept), s.n_max
    per = 2 if not st.get("second_order") else None
    rows = []
    if s.csv("morris.csv") is not None:
        rows.append({"stage": "Morris screening",
                     "design": f"{st['morris_trajectories']} trajectories, {st['morris_levels']} levels, "
                               f"{d} factors plus a dummy",
                     "points": f"{st['morris_trajectories'] * (d + 2):,}"})
    pts = (n + n // 2) * (k + 2) if per else (n + n // 2) * (2 * k + 2)
    rows.append({"stage": "Sobol indices", "design": f"{k} factors, N = {n // 2} and N = {n} base points",
                 "points": f"{pts:,}"})
    if s.csv("sobol_groups.csv") is not None:
        g = s.csv("sobol_groups.csv")["group"].nunique()
        rows.append({"stage": "Sobol by middle-range theory", "design": f"{g} groups of all {d} factors, "
                     f"N = {n // 2}", "points": f"{(n // 2) * (g + 2):,}"})
    rows.append({"stage": "Scenario discovery (PRIM, CART)", "design": f"Latin hypercube over all {d} factors",
                 "points": f"{st['discovery_n']:,}"})
    contexts = [c for c in s.bounds if Params.spec(c).group == "context"] or list(s.bounds)
    rows.append({"stage": "Ablation", "design": f"{st['ablation_contexts']} contexts (Latin hypercube over "
                 f"{len(contexts)} context factors) x {len(RULE_IDS) + len(THEORY_IDS) + 1} variants",
                 "points": f"{st['ablation_contexts'] * (len(RULE_IDS) + len(THEORY_IDS) + 1):,}"})
    rows.append({"stage": "Heatmap", "design": f"{st['heatmap_points']} x {st['heatmap_points']} grid",
                 "points": f"{st['heatmap_points'] ** 2:,}"})
    rows.append({"stage": "Time series", "design": f"base scenario, {st['timeseries_seeds']} seeds",
                 "points": "1"})
    for r in rows[:-1]:
        r["runs"] = f"{int(r['points'].replace(',', '')) * R * 2:,}"
    rows[-1]["runs"] = f"{st['timeseries_seeds'] * 2:,}"
    return rows


def _versions(s: Study) -> list[dict[str, str]]:
    m = s.manifest
    rows = [{"item": "alliance-sim", "value": f"{m.get('version', '?')} (git {m.get('git_commit') or 'unknown'})"},
            {"item": "Python (study run)", "value": str(m.get("machine", {}).get("python", "?"))},
            {"item": "numpy (study run)", "value": str(m.get("machine", {}).get("numpy", "?"))}]
    for package in ("mesa", "SALib", "ema_workbench", "scikit-learn", "pandas", "scipy", "matplotlib", "jinja2",
                    "weasyprint"):
        try:
            rows.append({"item": f"{package} (report)", "value": importlib.metadata.version(package)})
        except importlib.metadata.PackageNotFoundError:
            pass
    machine = m.get("machine", {})
    rows.append({"item": "Machine", "value": f"{machine.get('platform', '?')}, {machine.get('cpus', '?')} CPUs, "
                 f"{m.get('workers', '?')} workers"})
    timings = m.get("timings_seconds", {})
    if "total" in timings:
        rows.append({"item": "Run time", "value": f"{timings['total']:.0f} s in total (" + ", ".join(
            f"{k} {v:.0f} s" for k, v in timings.items() if k != "total") + ")"})
    return rows


def _sobol_groups(s: Study) -> list[dict[str, Any]] | None:
    table = s.csv("sobol_groups.csv")
    if table is None:
        return None
    rows = table[table["outcome"] == s.primary].sort_values("ST", ascending=False)
    return [{"group": g, "label": f"{g}: {THEORY_NAMES.get(g, g)}" if g in THEORY_RULES else THEORY_NAMES.get(g, g),
             "ST": r["ST"], "low": max(0.0, r["ST"] - r["ST_conf"]), "high": min(1.0, r["ST"] + r["ST_conf"]),
             "S1": r["S1"]} for g, r in zip(rows["group"], rows.to_dict("records"), strict=True)]


def _ablation_all(s: Study) -> dict[str, Any]:
    table = s.csv("ablation.csv")
    variants = list(dict.fromkeys(table["disabled"]))
    cells = {}
    for _, r in table.iterrows():
        cells[(r["disabled"], r["outcome"])] = r
    rows = []
    for v in variants:
        row = {"label": variant_label(v), "cells": []}
        for o in s.outcomes:
            r = cells.get((v, o))
            row["cells"].append({"value": "–", "ci": ""} if r is None else
                                {"value": num(r["change"]), "ci": span(r["change_low"], r["change_high"])})
        rows.append(row)
    full = {o: num(float(table[table["outcome"] == o]["effect_full"].iloc[0])) for o in s.outcomes
            if (table["outcome"] == o).any()}
    return {"outcomes": [effect_label(o) for o in s.outcomes], "rows": rows, "full": full}


# ------------------------------------------------------------------------------------------------
# Rendering
# ------------------------------------------------------------------------------------------------
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(num=num, pct=pct, small_pct=small_pct, param_label=param_label, effect_label=effect_label)
    return env


def render_html(folder: str | Path) -> str:
    """The report as one self-contained HTML string."""
    s = Study.open(folder)
    facts = study_facts(s)
    figures = [f for f in (sobol_figure(s, facts), morris_figure(s, facts), heatmap_figure(s, facts),
                           timeseries_figure(s, facts), ablation_figure(s, facts), *study_figures(s, facts))
               if f is not None]
    by_key = {f.key: f for f in figures}
    context = {
        "facts": facts, "fig": by_key, "study": s.study, "base": s.base, "manifest": s.manifest,
        "name": s.config.get("name") or s.folder.name.lstrip(".").split(".tmp-")[0],
        "created": s.manifest.get("created", time.strftime("%Y-%m-%dT%H:%M:%S%z")),
        "parameters": _parameter_table(s), "design": _design_table(s), "versions": _versions(s),
        "convergence": s.csv("convergence.csv").to_dict("records"), "noise": _noise_rows(s),
        "groups": _sobol_groups(s), "ablation_all": _ablation_all(s), "rules": RULE_INFO,
        "theory_names": THEORY_NAMES, "seeds": s.manifest.get("seeds", []),
        "evaluations": s.manifest.get("evaluations"), "kept": [param_label(k) for k in s.kept],
        "effect_labels": {o: effect_label(o) for o in s.outcomes}, "guide": CONVERGENCE_GUIDE,
        "significant_qp": SIGNIFICANT_QP, "n_factors": len(s.bounds),
        "regions": (s.csv("failure_regions.csv").to_dict("records") if s.csv("failure_regions.csv") is not None
                    else []),
        "resilience": (s.csv("resilience.csv").to_dict("records") if s.csv("resilience.csv") is not None else []),
    }
    return _environment().get_template("report.html.j2").render(**context)


def _noise_rows(s: Study) -> list[dict[str, Any]]:
    table = s.csv("noise.csv")
    rows = table[table["N"] == s.n_max]
    return [{"label": effect_label(r["outcome"]), "share": r["noise_share"], "replicates": int(r["replicates"]),
             "mean": r["output_mean"], "sd": r["output_sd"]} for r in rows.to_dict("records")]


def write_report(folder: str | Path) -> tuple[Path, Path]:
    """Write ``report.html`` and ``report.pdf`` into a complete study folder; returns their paths.

    Both are written to temporaries first and renamed together, so a failure leaves neither."""
    import logging

    from sim.sweeps.results import temporary_name

    folder = Path(folder)
    try:
        html = render_html(folder)
    except (ReportError, DamagedResults):
        raise
    except (KeyError, IndexError, ValueError, TypeError, AttributeError) as err:
        raise ReportError(f"{folder}: the study's tables are damaged or incomplete ({first_line(err)}); "
                          "rerun the study") from None
    html_path, pdf_path = folder / "report.html", folder / "report.pdf"
    for noisy in ("weasyprint", "fontTools"):  # font-subsetting notices at import and render: not for users
        logging.getLogger(noisy).setLevel(logging.ERROR)
    from weasyprint import HTML  # imported late: it loads pango, which a caller of summary_facts may lack

    document = HTML(string=html, base_url=str(folder))
    tmp_html, tmp_pdf = temporary_name(html_path), temporary_name(pdf_path)
    try:
        tmp_html.write_text(html, encoding="utf-8")
        # pdf_tags: a tagged PDF, so screen readers get the headings and the images' alt text.
        document.write_pdf(tmp_pdf, pdf_tags=True)
    except BaseException:
        tmp_html.unlink(missing_ok=True)
        tmp_pdf.unlink(missing_ok=True)
        raise
    tmp_pdf.replace(pdf_path)
    tmp_html.replace(html_path)
    _index_report(folder, (html_path, pdf_path))
    return html_path, pdf_path


def _index_report(folder: Path, paths: tuple[Path, ...]) -> None:
    """Add the report's files to the study's manifest (its index and digests)."""
    from sim.runtime.temporaries import write_json
    from sim.sweeps.integrity import file_record

    path = folder / "manifest.json"
    data = json.loads(path.read_text())
    data["files"] = {**data.get("files", {}), **{p.name: file_record(p) for p in paths}}
    write_json(path, data)

