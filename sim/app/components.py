"""Figures and Solara components of the teaching app (:mod:`sim.app.teaching`).

Each view is a plain function ``model -> matplotlib Figure`` (testable without a browser) wrapped in a
small Solara component. Only matplotlib is used: Mesa's Altair views fetch vega from a CDN, which a
classroom without internet does not have. Figures are built with :class:`matplotlib.figure.Figure`,
not pyplot, so nothing is kept in a global figure registry between steps, and with fixed margins
rather than a layout engine (constrained layout more than doubles the drawing time of every step).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import solara
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from mesa.visualization.utils import update_counter

from sim.model.outcomes import OUTCOMES
from sim.model.outcomes import outcome as outcome_spec
from sim.model.world import SECTORS

if TYPE_CHECKING:
    from sim.app.teaching import TwinModel
    from sim.model.alliance import AllianceModel

#: Colours of the two commissioning modes in every chart (colour-blind safe pair).
MODE_COLOURS = {"alliance": "#0072B2", "traditional": "#D55E00"}
SECTOR_COLOURS = dict(zip(SECTORS, ("#0072B2", "#009E73", "#E69F00", "#CC79A7"), strict=True))
COLOUR_BY = ("sector", "commitment")
_DPI = 80


def _twins(model: TwinModel) -> dict[str, AllianceModel]:
    return {"alliance": model.alliance, "traditional": model.traditional}


# --- figures ---------------------------------------------------------------------------------------
def outcome_figure(model: TwinModel, outcome: str) -> Figure:
    """One outcome over the months so far, alliance and traditional on the same axes."""
    fig = Figure(figsize=(5.6, 3.4), dpi=_DPI)
    fig.subplots_adjust(left=0.09, right=0.96, bottom=0.14, top=0.9)
    ax = fig.subplots()
    for mode, m in _twins(model).items():
        series = m.datacollector.get_model_vars_dataframe()[outcome]
        ax.plot(series.index, series.to_numpy(), color=MODE_COLOURS[mode], lw=2,
                label=f"{mode} ({series.iloc[-1]:.2f})")
        # a dot at the latest month, so a run is visible from month 0
        ax.plot(series.index[-1:], series.to_numpy()[-1:], "o", color=MODE_COLOURS[mode], ms=4)
    ax.set_xlim(0, max(12, model.alliance.month))
    ax.set_ylim(0, max(1.0, ax.get_ylim()[1]))  # value can exceed 1; every other outcome is a 0-1 share
    ax.set_xlabel("month")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    spec = outcome_spec(outcome)
    ax.set_title(f"{spec.label[0].upper() + spec.label[1:]} ({spec.direction})", fontsize=11)
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=9, frameon=False)
    return fig


def circle_layout(sectors: list[str]) -> np.ndarray:
    """Providers on a circle, grouped by sector, so positions stay fixed from step to step."""
    order = sorted(range(len(sectors)), key=lambda i: (SECTORS.index(sectors[i]), i))
    angles = np.empty(len(sectors))
    angles[order] = np.linspace(0, 2 * np.pi, len(sectors), endpoint=False) + np.pi / 2
    return np.column_stack([np.cos(angles), np.sin(angles)])


def network_figure(model: TwinModel, colour_by: str = "sector") -> Figure:
    """Provider networks side by side: edge width and darkness = mutual trust; node colour = sector or
    commitment; node size = this month's effort on joint work."""
    fig = Figure(figsize=(8.0, 4.2), dpi=_DPI)
    fig.subplots_adjust(left=0.01, right=0.88 if colour_by == "commitment" else 0.99, bottom=0.1, top=0.92,
                        wspace=0.05)
    axes = fig.subplots(1, 2)
    norm = Normalize(0, 1)
    points = None
    for ax, (mode, m) in zip(axes, _twins(model).items(), strict=True):
        providers = sorted(m.providers, key=lambda p: p.index)
        sectors = [p.sector for p in providers]
        xy = circle_layout(sectors)
        trust = np.stack([p.trust for p in providers])
        mutual = (trust + trust.T) / 2  # trust is directed; an edge shows the pair's mean
        i, j = np.triu_indices(len(providers), k=1)
        w = np.clip(mutual[i, j], 0, 1)
        keep = w > 0.05  # near-zero trust is no tie at all
        segments = np.stack([xy[i[keep]], xy[j[keep]]], axis=1)
        colours = np.zeros((keep.sum(), 4))
        colours[:, 3] = 0.15 + 0.75 * w[keep]
        ax.add_collection(LineCollection(segments, linewidths=0.3 + 4.0 * w[keep], colors=colours, zorder=1))
        size = 120 + 380 * np.array([p.effort for p in providers])
        if colour_by == "commitment":
            points = ax.scatter(xy[:, 0], xy[:, 1], s=size, c=[p.commitment for p in providers],
                                cmap="viridis", norm=norm, edgecolors="black", zorder=2)
        else:
            ax.scatter(xy[:, 0], xy[:, 1], s=size, c=[SECTOR_COLOURS[s] for s in sectors],
                       edgecolors="black", zorder=2)
        ax.set_title(f"{mode}: mean trust {m.outcomes['mean_trust']:.2f}", fontsize=11,
                     color=MODE_COLOURS[mode])
        ax.set_xlim(-1.25, 1.25)
        ax.set_ylim(-1.25, 1.25)
        ax.set_aspect("equal")
        ax.axis("off")
    if colour_by == "commitment" and points is not None:
        fig.colorbar(points, cax=fig.add_axes((0.9, 0.2, 0.025, 0.6)), label="commitment")
    else:
        present = {p.sector for p in model.alliance.providers}
        handles = [axes[0].scatter([], [], s=80, c=c, edgecolors="black", label=s)
                   for s, c in SECTOR_COLOURS.items() if s in present]
        fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=9, frameon=False)
    return fig


def locality_figure(model: TwinModel) -> Figure:
    """Each locality this month: share of demand served and resolved, and service-user experience."""
    fig = Figure(figsize=(8.0, 3.4), dpi=_DPI)
    fig.subplots_adjust(left=0.06, right=0.99, bottom=0.14, top=0.9, wspace=0.08)
    axes = fig.subplots(1, 2, sharey=True)
    width = 0.38
    for offset, (mode, m) in zip((-width / 2, width / 2), _twins(model).items(), strict=True):
        communities = sorted(m.communities, key=lambda c: c.index)
        x = np.arange(len(communities))
        met = [c.results["resolved"] / c.results["demand"] if c.results["demand"] > 0 else 0.0
               for c in communities]
        axes[0].bar(x + offset, met, width, color=MODE_COLOURS[mode], label=mode)
        axes[1].bar(x + offset, [c.experience for c in communities], width, color=MODE_COLOURS[mode])
    for ax, title in zip(axes, ("Needs met (resolved / demand)", "Experience"), strict=True):
        n = model.alliance.params.n_localities
        ax.set_xticks(np.arange(n), [str(k + 1) for k in range(n)] if n <= 20 else [""] * n)
        ax.set_xlabel("locality")
        ax.set_ylim(0, 1)
        ax.set_title(title, fontsize=11)
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend(fontsize=9, frameon=False)
    return fig


# --- Solara components -------------------------------------------------------------------------------
# Mesa hands each component the model object, which it mutates in place on every step; reading
# ``update_counter`` subscribes the component to Mesa's "model stepped" signal so it re-renders.
def _show(fig: Figure) -> None:
    solara.FigureMatplotlib(fig, format="png")


@solara.component
def FragmentationChart(model: TwinModel) -> None:
    update_counter.get()
    _show(outcome_figure(model, "fragmentation"))


@solara.component
def AccessChart(model: TwinModel) -> None:
    update_counter.get()
    _show(outcome_figure(model, "access"))


@solara.component
def OutcomeChart(model: TwinModel) -> None:
    """Any recorded outcome, chosen from a list (trust, commitment, alignment, systemic change...)."""
    update_counter.get()
    outcome, set_outcome = solara.use_state("mean_trust")
    with solara.Column(gap="0px"):
        solara.Select("outcome", value=outcome, values=list(OUTCOMES), on_value=set_outcome, dense=True)
        solara.Text(OUTCOMES[outcome], style={"font-size": "12px"})
        _show(outcome_figure(model, outcome))


@solara.component
def ProviderNetwork(model: TwinModel) -> None:
    update_counter.get()
    colour_by, set_colour_by = solara.use_state("sector")
    with solara.Column(gap="0px"):
        solara.ToggleButtonsSingle(value=colour_by, values=list(COLOUR_BY), on_value=set_colour_by,
                                   dense=True)
        _show(network_figure(model, colour_by))


@solara.component
def LocalityView(model: TwinModel) -> None:
    update_counter.get()
    _show(locality_figure(model))
