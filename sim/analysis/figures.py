"""Figures of a sensitivity study (matplotlib, Agg; Okabe-Ito colour-blind-safe palette)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from sim.sweeps.paired import plot_paired  # noqa: E402

#: Okabe & Ito (2008) palette.
PALETTE = {"A": "#0072B2", "B": "#009E73", "C": "#CC79A7", "other": "#999999", "dummy": "#000000",
           "S1": "#56B4E9", "ST": "#0072B2", "highlight": "#D55E00"}
GROUP_LABELS = {"A": "A: system level", "B": "B: local focus", "C": "C: culture", "other": "general mechanism",
                "dummy": "dummy (noise floor)"}


def _label(name: str) -> str:
    return name.replace("_", " ")


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return Path(path)


def morris_plot(table: pd.DataFrame, path: Path, outcome: str) -> Path:
    """Morris mu* against sigma, coloured by middle-range theory, the dummy marking the noise floor."""
    fig, ax = plt.subplots(figsize=(7, 5))
    for group, rows in table.groupby("group"):
        ax.scatter(rows["mu_star"], rows["sigma"], color=PALETTE[group], label=GROUP_LABELS[group],
                   marker="x" if group == "dummy" else "o", s=40, zorder=3)
    for _, r in table.sort_values("mu_star", ascending=False).head(8).iterrows():
        ax.annotate(_label(r["parameter"]), (r["mu_star"], r["sigma"]), fontsize=8, xytext=(4, 3),
                    textcoords="offset points")
    dummy = table[table["parameter"] == "dummy"]
    if len(dummy):
        ax.axvline(float(dummy["mu_star"].iloc[0] + dummy["mu_star_conf"].iloc[0]), color="black", ls=":", lw=1,
                   label="noise floor")
    ax.set_xlabel("μ* (mean absolute elementary effect)")
    ax.set_ylabel("σ (interactions / non-linearity)")
    ax.set_title(f"Morris screening of {_label(outcome)}")
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, fontsize=8)
    return _save(fig, path)


def sobol_plot(table: pd.DataFrame, path: Path, outcome: str) -> Path:
    """Total and first-order Sobol indices, ranked, with 95% bootstrap whiskers."""
    table = table.sort_values("ST", ascending=True)
    y = np.arange(len(table))
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(table) + 1.5))
    ax.barh(y + 0.2, table["ST"], height=0.4, xerr=table["ST_conf"], color=PALETTE["ST"], label="total effect (ST)",
            capsize=3)
    ax.barh(y - 0.2, table["S1"], height=0.4, xerr=table["S1_conf"], color=PALETTE["S1"],
            label="first order (S1)", capsize=3)
    ax.set_yticks(y, [_label(p) for p in table["parameter"]])
    ax.set_xlabel("share of variance")
    ax.set_title(f"Sobol indices of {_label(outcome)}")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(frameon=False, loc="lower right")
    return _save(fig, path)


def prim_tradeoff_plot(trajectories: pd.DataFrame, path: Path, label: str) -> Path:
    """PRIM peeling trajectories: coverage against density, the chosen box marked."""
    fig, ax = plt.subplots(figsize=(6, 4.5))
    colours = [PALETTE["A"], PALETTE["B"], PALETTE["C"], PALETTE["other"]]
    for k, (box, rows) in enumerate(trajectories.groupby("box")):
        ax.plot(rows["coverage"], rows["density"], "-o", ms=3, color=colours[k % 4], label=f"box {box}")
        chosen = rows[rows["chosen"]]
        ax.scatter(chosen["coverage"], chosen["density"], s=120, facecolors="none", edgecolors=PALETTE["highlight"],
                   linewidths=2, zorder=4)
    ax.set_xlabel("coverage (share of all cases in the box)")
    ax.set_ylabel("density (share of the box that are cases)")
    ax.set_title(f"PRIM trade-off for {label}\n(circled: chosen box)")
    ax.grid(alpha=0.3)
    ax.legend(frameon=False)
    return _save(fig, path)


def ablation_plot(table: pd.DataFrame, path: Path, outcome: str) -> Path:
    """Change in the alliance's effect when each programme theory is switched off, with 95% intervals."""
    table = table.iloc[::-1]
    y = np.arange(len(table))
    colours = [PALETTE["highlight"] if lvl == "theory" else PALETTE["A"] for lvl in table["level"]]
    fig, ax = plt.subplots(figsize=(7, 0.4 * len(table) + 1.5))
    ax.barh(y, table["change"], color=colours,
            xerr=[table["change"] - table["change_low"], table["change_high"] - table["change"]], capsize=3)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(y, table["disabled"])
    ax.set_xlabel(f"change in {_label(outcome)} when switched off")
    ax.set_title("Which programme theories carry the effect")
    ax.grid(axis="x", alpha=0.3)
    return _save(fig, path)


def heatmap_plot(table: pd.DataFrame, path: Path, pair: list[str], outcome: str) -> Path:
    """The alliance's effect over a grid of the two most influential contexts (viridis: colour-blind safe)."""
    wide = table.pivot(index=pair[1], columns=pair[0], values=outcome)
    fig, ax = plt.subplots(figsize=(6, 5))
    mesh = ax.pcolormesh(wide.columns, wide.index, wide.to_numpy(), cmap="viridis", shading="nearest")
    fig.colorbar(mesh, ax=ax, label=_label(outcome))
    ax.set_xlabel(_label(pair[0]))
    ax.set_ylabel(_label(pair[1]))
    ax.set_title(f"{_label(outcome)} over the two most influential contexts")
    return _save(fig, path)


def timeseries_plot(frame: pd.DataFrame, path: Path) -> Path:
    """Alliance against traditional commissioning over time, with 95% bands."""
    return plot_paired(frame, path, title="Default scenario: alliance vs traditional (mean, 95% band over seeds)")


MODE_COLOURS = {"alliance": "#0072B2", "traditional": "#E69F00"}


def failure_regions_plot(sample: pd.DataFrame, regions: pd.DataFrame, path: Path, primary: str,
                         margin: float, names: list[str]) -> Path:
    """The sampled contexts on the two factors that bound the first failure region most, marked by whether the
    alliance did worse, with that region's box drawn."""
    worse = regions[(regions["question"].str.startswith("worse")) & (regions["box"] == 1)]
    params: list[str] = []
    limits: dict[str, tuple[float, float]] = {}
    if len(worse):
        for part in str(worse.iloc[0]["restricted"]).split("; "):
            if " in [" in part:
                name, rng = part.split(" in [")
                low, high = (float(v) for v in rng.rstrip("]").split(", "))
                params.append(name)
                limits[name] = (low, high)
    params = (params + [c for c in names if c not in params])[:2]
    fig, ax = plt.subplots(figsize=(6.5, 5))
    did_worse = sample[primary] < -margin
    ax.scatter(sample.loc[~did_worse, params[0]], sample.loc[~did_worse, params[1]], s=10, color="#999999",
               alpha=0.5, label="alliance as good or better")
    ax.scatter(sample.loc[did_worse, params[0]], sample.loc[did_worse, params[1]], s=16, color=PALETTE["highlight"],
               marker="x", label=f"alliance worse by more than {margin:g}")
    if all(p in limits for p in params):
        (x0, x1), (y0, y1) = limits[params[0]], limits[params[1]]
        ax.add_patch(plt.Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, lw=2, ls="--", color="black",
                                   label="where it did worse most often"))
    ax.set_xlabel(_label(params[0]))
    ax.set_ylabel(_label(params[1]))
    ax.set_title("Where the alliance did worse than traditional commissioning")
    ax.legend(frameon=False, fontsize=8, loc="best")
    return _save(fig, path)


def resilience_plot(curves: pd.DataFrame, table: pd.DataFrame, path: Path) -> Path:
    """The rise of fragmentation each shock causes, month by month, under each commissioning mode."""
    presets = list(dict.fromkeys(curves["preset"]))
    fig, axes = plt.subplots(1, len(presets), figsize=(4.2 * len(presets), 3.6), squeeze=False, sharey=True)
    for ax, name in zip(axes[0], presets, strict=True):
        for mode, rows in curves[curves["preset"] == name].groupby("commissioning"):
            ax.plot(rows["step"], rows["rise"], color=MODE_COLOURS.get(mode, "#000000"), lw=2, label=mode)
        first = int(table.loc[table["preset"] == name, "first_event_month"].iloc[0])
        ax.axvline(first, color="black", ls=":", lw=1)
        ax.axhline(0, color="#999999", lw=0.8)
        ax.set_title(_label(name))
        ax.set_xlabel("month")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("rise in fragmentation from the shock")
    axes[0][0].legend(frameon=False, fontsize=8)
    return _save(fig, path)


def journeys_plot(table: pd.DataFrame, path: Path) -> Path:
    """A few service users' care pathways under each mode: each contact a provider (a circle), each handoff a
    line; a cross where a handoff lost the person, a ring where the next provider assessed them again."""
    people = sorted(table["person"].unique())
    fig, axes = plt.subplots(len(people), 1, figsize=(7.5, 1.5 * len(people) + 0.8), squeeze=False)
    for ax, person in zip(axes[:, 0], people, strict=True):
        for lane, mode in enumerate(("alliance", "traditional")):
            rows = table[(table["person"] == person) & (table["commissioning"] == mode)].sort_values("contact")
            y = 1 - lane
            colour = MODE_COLOURS[mode]
            ax.plot(rows["contact"], [y] * len(rows), color=colour, lw=1.5, zorder=1)
            ax.scatter(rows["contact"], [y] * len(rows), s=260, color="white", edgecolor=colour, lw=2, zorder=2)
            for _, c in rows.iterrows():
                ax.annotate(f"P{int(c['provider'])}", (c["contact"], y), ha="center", va="center", fontsize=7,
                            zorder=3)
                if c["lost"]:
                    ax.scatter([c["contact"] - 0.5], [y], marker="x", s=90, color=PALETTE["highlight"], zorder=3)
                if c["repeated"]:
                    ax.scatter([c["contact"]], [y], s=520, facecolor="none", edgecolor="#CC79A7", lw=1.5, zorder=2)
        ax.set_yticks([1, 0], ["alliance", "traditional"])
        ax.set_ylim(-0.6, 1.6)
        ax.set_xlim(-0.6, max(table["contact"].max(), 1) + 0.6)
        ax.set_xticks(range(int(table["contact"].max()) + 1))
        ax.set_title(f"Person {person}", fontsize=9, loc="left")
        ax.spines[["top", "right"]].set_visible(False)
    axes[-1, 0].set_xlabel("part of the person's care, in order (P = provider; × = lost at the handoff; "
                           "ring = assessed again)")
    return _save(fig, path)
