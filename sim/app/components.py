"""Figures and Solara components of the teaching app (:mod:`sim.app.teaching`).

Each view is a plain function ``model -> matplotlib Figure`` (testable without a browser) wrapped in a
small Solara component. Only matplotlib is used: Mesa's Altair views fetch vega from a CDN, which a
classroom without internet does not have. Figures are built with :class:`matplotlib.figure.Figure`,
not pyplot, so nothing is kept in a global figure registry between steps, and with fixed margins
rather than a layout engine (constrained layout more than doubles the drawing time of every step).
"""

from __future__ import annotations

import functools
import html
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import solara
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from sim.analysis.journeys import Journey, WalkInputs, pick_episode, replay
from sim.model import pathways
from sim.model.outcomes import OUTCOME_REGISTRY
from sim.model.outcomes import outcome as outcome_spec
from sim.model.world import SECTORS
from sim.params.events import parse_event

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


def reads_runs(view: Callable[..., Any]) -> Callable[..., Any]:
    """Run a view of the twin model under the model's lock: playback steps the runs in another thread, and a
    view drawn in the middle of a step would mix two months (or meet data columns of unequal length)."""
    @functools.wraps(view)
    def locked(model: TwinModel, *args: Any, **kwargs: Any) -> Any:
        with model.lock:
            return view(model, *args, **kwargs)
    return locked


# --- figures ---------------------------------------------------------------------------------------
@reads_runs
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
    for month, kind in event_marks(model):
        ax.axvline(month, color="0.35", ls=":", lw=1.2, zorder=0)
        ax.annotate(kind.replace("_", " "), (month, 1.0), xycoords=("data", "axes fraction"), rotation=90,
                    va="top", ha="right", fontsize=8, color="0.3")
    ax.set_xlim(0, max(12, model.alliance.month))
    ax.set_ylim(0, max(1.0, ax.get_ylim()[1]))  # value can exceed 1; every other outcome is a 0-1 share
    ax.set_xlabel("month")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    spec = outcome_spec(outcome)
    ax.set_title(f"{spec.label[0].upper() + spec.label[1:]} ({spec.direction})", fontsize=11)
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=9, frameon=False)
    return fig


@reads_runs
def event_marks(model: TwinModel) -> list[tuple[int, str]]:
    """(month, kind) of the runs' events up to the month shown: the shocks and a preset's scenario."""
    marks = [(e.month, e.kind) for e in (parse_event(t, 10**9) for t in model.params.events)]
    return sorted(m for m in marks if m[0] <= model.alliance.month)


def circle_layout(sectors: list[str]) -> np.ndarray:
    """Providers on a circle, grouped by sector, so positions stay fixed from step to step."""
    order = sorted(range(len(sectors)), key=lambda i: (SECTORS.index(sectors[i]), i))
    angles = np.empty(len(sectors))
    angles[order] = np.linspace(0, 2 * np.pi, len(sectors), endpoint=False) + np.pi / 2
    return np.column_stack([np.cos(angles), np.sin(angles)])


@reads_runs
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


@reads_runs
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
# The page hands each component the twin model (stepped in place) and a version number that it bumps when
# the runs have moved on; a figure is drawn once per (model, version, choice), never on unrelated re-renders.
def _show(make: Callable[[], Figure], dependencies: list[Any]) -> None:
    fig = solara.use_memo(make, dependencies)
    solara.FigureMatplotlib(fig, dependencies=dependencies, format="png")


@solara.component
def TimeSeriesChart(model: TwinModel, version: int, outcome: str) -> None:
    with solara.Column(gap="0px", classes=[f"chart-{outcome}", "chart"]):
        _show(lambda: outcome_figure(model, outcome), [model, version, outcome])


@solara.component
def OutcomeChart(model: TwinModel, version: int) -> None:
    """Any recorded outcome, chosen by its plain label (trust, commitment, shared goals, systemic change...)."""
    outcome, set_outcome = solara.use_state("mean_trust")
    labels = {o.label: o.name for o in OUTCOME_REGISTRY}
    with solara.Column(gap="0px", classes=["chart-chosen", "chart"], style={"width": "460px"}):
        solara.Select("outcome", value=outcome_spec(outcome).label, values=list(labels),
                      on_value=lambda label: set_outcome(labels[label]), dense=True)
        solara.Text(outcome_spec(outcome).meaning, style={"font-size": "12px"})
        _show(lambda: outcome_figure(model, outcome), [model, version, outcome])


@solara.component
def ProviderNetwork(model: TwinModel, version: int) -> None:
    colour_by, set_colour_by = solara.use_state("sector")
    with solara.Column(gap="0px", classes=["chart-network", "chart"]):
        solara.ToggleButtonsSingle(value=colour_by, values=list(COLOUR_BY), on_value=set_colour_by, dense=True)
        _show(lambda: network_figure(model, colour_by), [model, version, colour_by])


@solara.component
def LocalityView(model: TwinModel, version: int) -> None:
    with solara.Column(gap="0px", classes=["chart-localities", "chart"]):
        _show(lambda: locality_figure(model), [model, version])


@reads_runs
def figures_html(model: TwinModel) -> str:
    """Every outcome this month in both runs, labels and directions from the registry. Each cell carries its
    value at full precision (``data-value``), so a browser test compares the app's figures with a model run."""
    rows = []
    for o in OUTCOME_REGISTRY:
        cells = "".join(
            f"<td class='fig-{o.name}-{mode}' data-value='{m.outcomes[o.name]!r}' style='color:{MODE_COLOURS[mode]}'>"
            f"{m.outcomes[o.name]:.2f}</td>" for mode, m in _twins(model).items())
        rows.append(f"<tr title='{html.escape(o.meaning)}'><td>{html.escape(o.label)}</td>{cells}"
                    f"<td>{html.escape(o.direction)}</td></tr>")
    return (f"<table class='figures-table' data-month='{model.alliance.month}' data-run='{model.run_id}'><tr><th>month "
            f"{model.alliance.month}</th><th>alliance</th><th>traditional</th><th></th></tr>{''.join(rows)}</table>")


@solara.component
def FiguresTable(model: TwinModel, version: int) -> None:
    solara.HTML(tag="div", unsafe_innerHTML=figures_html(model), classes=["figures"])


# --- a person's journey ------------------------------------------------------------------------------
def journey_html(journey: Journey, inputs: WalkInputs, mode: str) -> str:
    """One person's pathway as a row of contacts, each step saying what happened at the handoff."""
    steps = []
    for k, c in enumerate(journey.contacts):
        if k > 0:
            if c.kept:
                what, colour = "kept by the same provider", "#2e7d32"
            elif not c.handoff:
                what, colour = "same provider again", "#2e7d32"
            elif c.lost:
                what, colour = "handed on — <b>lost</b>: no one took responsibility (a gap)", "#c62828"
            elif c.repeated:
                what, colour = "handed on — <b>assessed again</b> (duplication)", "#ef6c00"
            else:
                what, colour = "handed on", "#555"
            steps.append(f"<div class='journey-step' style='color:{colour}'>→ {what}</div>")
        steps.append(f"<div class='journey-contact' style='border:2px solid {MODE_COLOURS[mode]}; border-radius:6px;"
                     f" padding:4px 8px; margin:2px 0'>need {c.domain + 1}: provider {c.provider + 1} "
                     f"({html.escape(c.sector)})</div>")
    waited = (f"In locality {inputs.locality + 1} this month {inputs.access:.0%} of need leaving the queue was "
              f"served within the {inputs.waiting_window}-month waiting window; the rest waited too long "
              f"({outcome_spec('access').label}).")
    counts = (f"<b>{journey.providers}</b> providers met, <b>{journey.handoffs}</b> "
              f"{outcome_spec('handoffs').label}, <b>{journey.lost}</b> {outcome_spec('gaps').label}, "
              f"<b>{journey.repeated}</b> repeated assessments ({outcome_spec('duplication').label}), "
              f"<b>{journey.kept}</b> parts kept by the provider that had the person")
    return (f"<div class='journey-{mode}' data-handoffs='{journey.handoffs}' data-lost='{journey.lost}' "
            f"data-repeated='{journey.repeated}' data-providers='{journey.providers}'>"
            f"<h4 style='color:{MODE_COLOURS[mode]}'>{mode}</h4><p>{counts}.</p>{''.join(steps)}"
            f"<p style='font-size:12px'>{waited}</p></div>")


@solara.component
def JourneyView(model: TwinModel, version: int) -> None:
    """The same person (same locality, same need, same draws) through both systems this month."""
    locality, set_locality = solara.use_state(0)
    person, set_person = solara.use_state(0)
    n = model.params.n_localities
    locality = min(locality, n - 1)
    with model.lock:  # both runs' walks of the same month
        inputs = {mode: model.recorders[mode].inputs.get(locality) for mode in _twins(model)}
    with solara.Column(classes=["journey"]):
        solara.HTML(tag="p", unsafe_innerHTML=(
            "One service user with needs in several domains, sampled from this month's care episodes, followed "
            "through each system. Same person, same need, same random draws in both: what differs is how the "
            "providers work together. Each box is a part of the person's care; arrows say what happened between."))
        with solara.Row(style={"align-items": "center"}):
            with solara.Column(style={"width": "160px"}):
                solara.Select("locality", value=str(locality + 1), values=[str(k + 1) for k in range(n)],
                              on_value=lambda v: set_locality(int(v) - 1), dense=True)
            solara.Button("Another person", on_click=lambda: set_person(person + 1), classes=["another-person"])
        if inputs["alliance"] is None or inputs["traditional"] is None:
            solara.Text("Press Step: the journey is of a month the runs have walked (month 1 on).")
            return
        episode = pick_episode(inputs["alliance"], person)
        solara.Text(f"Month {inputs['alliance'].month}, locality {locality + 1}, person {episode + 1} of "
                    f"{pathways.EPISODES} sampled this month.", classes=["journey-title"])
        with solara.Row(style={"align-items": "flex-start", "gap": "24px"}):
            for mode, walked in inputs.items():
                with solara.Column(style={"width": "45%"}):
                    solara.HTML(tag="div", unsafe_innerHTML=journey_html(replay(walked, episode), walked, mode))
