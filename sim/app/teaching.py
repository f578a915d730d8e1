"""Teaching app: alliance and traditional commissioning side by side, in the browser (Solara).

Run it with ``scripts/app.sh`` (fills the offline asset cache, then ``solara run sim.app.teaching``).

Two :class:`~sim.model.alliance.AllianceModel` runs share the seed and every parameter except ``commissioning``,
so any difference on screen is the commissioning mode's doing. Controls, labels, units and help come from
:meth:`Params.schema` (grouped by the schema's roles), outcome labels and directions from the outcome registry,
presets from ``sim/conf/scenario/*.yaml``: nothing is retyped here.

One rule keeps the screen honest: **the runs on screen are always built from the settings the run panel shows**.
Every control writes to one settings dictionary; a preset replaces it and rebuilds the runs; Reset rebuilds the
runs from it; a control moved since then is flagged "changed — press Reset" until then. The page is written
with Solara directly (not Mesa's SolaraViz, whose parameter panel keeps its own copy of the values: presets did
not reach it), so playback, tabs and controls are the app's own.
"""

from __future__ import annotations

import html
import itertools
import logging
import math
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mesa
import solara
import solara.lab
import yaml

from sim import conf
from sim.analysis.journeys import WalkRecorder
from sim.app.components import (
    MODE_COLOURS,
    FiguresTable,
    JourneyView,
    LocalityView,
    OutcomeChart,
    ProviderNetwork,
    TimeSeriesChart,
)
from sim.model.alliance import AllianceModel
from sim.params import RULE_IDS, THEORY_RULES, FieldSpec, Params
from sim.params.events import EVENT_KINDS, parse_event

logger = logging.getLogger(__name__)

__all__ = ["SLIDER_GROUPS", "GROUP_TITLES", "Preset", "TwinModel", "changed_settings", "control_specs",
           "load_presets", "preset_settings", "settings_to_params", "params_settings", "run_overrides",
           "SHOCKS", "Page"]

#: Schema groups shown as sliders (ablation becomes switches; commissioning is the comparison itself), and
#: their headings in plain words. Only context and lever are open when the page loads.
SLIDER_GROUPS: tuple[str, ...] = ("context", "lever", "mechanism", "scale")
GROUP_TITLES: dict[str, str] = {"context": "Your local context", "lever": "Choices you control",
                                "mechanism": "Model assumptions", "scale": "Scale"}
OPEN_GROUPS: tuple[str, ...] = ("context", "lever")
SCENARIO_DIR = conf.directory() / "scenario"  # package data: found from a checkout or an installed package
DEFAULT_SEED = 7
SEED_RANGE = (0, 99)
RULE_KEY = "rule_"  # switch keys are rule_IPT1 .. rule_IPT7 (True = the rule is on)
#: Playback pace (months per second of wall time): 60 months in 4 s. Rendering is throttled to it: the loop
#: steps every month that is due, then draws once, so slow drawing costs frames, never time.
PLAY_PACE = 15.0


# --- controls derived from the schema ----------------------------------------------------------------
def slider_step(spec: FieldSpec) -> float | int:
    """About a hundred notches: the smallest of 1, 2 or 5 x 10^k at least 1/100 of the schema's range
    (whole numbers for integers). Round steps matter: Vuetify snaps a slider's value to its grid as soon
    as it is shown, so a default off the grid (0.5 with a step of 0.009) would silently become 0.504."""
    if spec.type is int:
        return 1
    target = (spec.high - spec.low) / 100
    exponent = math.floor(math.log10(target))
    return next(float(f"{m * 10.0**e:.10g}") for e in (exponent, exponent + 1) for m in (1, 2, 5)
                if m * 10.0**e >= target * (1 - 1e-9))


def rule_label(rule: str) -> str:
    """Switch label, e.g. ``IPT6 senior commitment to collaborative arrangements (C)``, taken from the
    meaning of the rule's strength parameter so the wording lives in one place."""
    theory = next(t for t, rules in THEORY_RULES.items() if rule in rules)
    found = re.search(r"\(([^)]*)\)", Params.spec(f"{rule.lower()}_strength").meaning)
    return f"{rule} {found.group(1) if found else ''} ({theory})".replace("  ", " ")


def slider_fields(group: str | None = None) -> tuple[FieldSpec, ...]:
    return tuple(s for s in Params.schema() if s.group in SLIDER_GROUPS and s.type in (int, float)
                 and (group is None or s.group == group))


def format_value(spec: FieldSpec, value: float) -> str:
    """A control's value as shown, with its unit (``0.7 index``, ``72 months``)."""
    return f"{value:g} {spec.unit}".strip()


def control_specs(values: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """Every control: a slider per numeric field (schema range, label, unit, meaning, group), a switch per
    programme-theory rule, the seed, and the events (no widget of their own: preset events and shocks).
    ``values`` (app settings, see :func:`preset_settings`) sets the positions; schema defaults otherwise."""
    values = preset_settings(Preset("default", "")) if values is None else values
    controls: dict[str, dict[str, Any]] = {
        "seed": {"type": "SliderInt", "label": "Random seed (which draw of the world)",
                 "value": values.get("seed", DEFAULT_SEED), "min": SEED_RANGE[0], "max": SEED_RANGE[1], "step": 1,
                 "group": "scale", "unit": "", "meaning": "the same seed gives the same world and the same "
                 "random draws in both runs; another seed is another draw"}}
    for s in slider_fields():
        controls[s.name] = {"type": "SliderInt" if s.type is int else "SliderFloat", "label": s.label,
                            "value": values[s.name], "min": s.low, "max": s.high, "step": slider_step(s),
                            "group": s.group, "unit": s.unit, "meaning": s.meaning}
    for rule in RULE_IDS:
        controls[RULE_KEY + rule] = {"type": "Checkbox", "label": rule_label(rule), "value": values[RULE_KEY + rule],
                                     "group": "ablation"}
    controls["events"] = {"type": "Events", "value": tuple(values.get("events", ())), "group": "events",
                          "label": Params.spec("events").label}
    return controls


# --- presets ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Preset:
    """A scenario preset: a name, one line of description and parameter overrides."""

    name: str
    description: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def title(self) -> str:
        """A plain name: the description's words before its colon (``No senior buy-in``), else the file name."""
        head, colon, _ = self.description.partition(":")
        return head.strip() if colon and 0 < len(head) <= 40 else self.name.replace("_", " ").capitalize()

    @property
    def summary(self) -> str:
        head, colon, rest = self.description.partition(":")
        return rest.strip() if colon and 0 < len(head) <= 40 else self.description


def load_presets(folder: Path = SCENARIO_DIR) -> dict[str, Preset]:
    """Every ``*.yaml`` in ``folder`` with a ``params:`` mapping that makes a valid :class:`Params`.

    ``default`` (the schema defaults) always exists and comes first. A preset that does not validate
    is left out with a warning rather than breaking the app in front of a class; so is one that only
    chooses the commissioning mode (the app always shows both).
    """
    presets = {"default": Preset("default", "Default context: the schema's defaults")}
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        try:
            doc = yaml.safe_load(path.read_text()) or {}
            overrides = dict(doc.get("params") or {})
            Params.from_dict({**Params().to_dict(), **overrides})
        except (OSError, yaml.YAMLError, TypeError, ValueError, AttributeError) as err:
            logger.warning("preset %s skipped: %s", path.name, err)
            continue
        if overrides and set(overrides) <= {"commissioning"}:
            continue
        presets[path.stem] = Preset(path.stem, str(doc.get("description", "")).strip(), overrides)
    return presets


def preset_settings(preset: Preset, seed: int = DEFAULT_SEED) -> dict[str, Any]:
    """The app's flat settings (slider values, rule switches, seed, events) for a preset."""
    params = Params.from_dict({**Params().to_dict(), **preset.params})
    return params_settings(params, int(preset.params.get("seed", seed)))


def params_settings(params: Params, seed: int) -> dict[str, Any]:
    """The app's settings that build ``params`` (the inverse of :func:`settings_to_params`)."""
    off = params.disabled_rules()
    settings: dict[str, Any] = {"seed": int(seed)}
    settings.update({s.name: getattr(params, s.name) for s in slider_fields()})
    settings.update({RULE_KEY + rule: rule not in off for rule in RULE_IDS})
    settings["events"] = tuple(params.events)
    return settings


def settings_to_params(settings: dict[str, Any]) -> Params:
    """Params from the app's settings. Slider floats are snapped to their step (a browser slider sends
    e.g. 0.35000000000000003) and clipped to the schema range, so a slider can never be refused."""
    values: dict[str, Any] = {}
    for s in slider_fields():
        if s.name in settings:
            v = min(max(settings[s.name], s.low), s.high)
            values[s.name] = int(round(v)) if s.type is int else round(float(v), 6)
    values["disabled"] = tuple(r for r in RULE_IDS if not settings.get(RULE_KEY + r, True))
    # events after the horizon the slider now shows are kept in the list but not run (the panel says so)
    horizon = values.get("horizon", Params().horizon)
    values["events"] = tuple(e for e in settings.get("events", ()) if parse_event(e, 10**9).month <= horizon)
    unknown = set(settings) - set(values) - {"seed", "commissioning"} - {RULE_KEY + r for r in RULE_IDS}
    if unknown:
        raise TypeError(f"unknown app settings: {', '.join(sorted(unknown))}")
    return Params.from_dict(values)


def normalise(settings: dict[str, Any]) -> dict[str, Any]:
    """Settings as the runs would use them (snapped, events kept as listed): what "changed" compares."""
    params = settings_to_params(settings)
    return {**params_settings(params, int(settings.get("seed", DEFAULT_SEED))),
            "events": tuple(settings.get("events", ()))}


def run_overrides(params: Params, seed: int) -> str:
    """The command line that reruns these settings outside the app (Hydra overrides of ``experiments/run.py``;
    only what differs from the defaults). Both modes run there too (the paired experiment)."""
    default = Params()
    parts = [f"first_seed={seed}", "seeds=1"]
    for s in slider_fields():
        if getattr(params, s.name) != getattr(default, s.name):
            parts.append(f"params.{s.name}={getattr(params, s.name):g}")
    if params.disabled:
        parts.append(f"params.disabled=[{','.join(params.disabled)}]")
    if params.events:
        parts.append(f"params.events=[{','.join(params.events)}]")
    return "python experiments/run.py " + " ".join(parts)


# --- the paired model ------------------------------------------------------------------------------
#: The shock buttons: each event kind, its button label and the value a shock uses (the panel's slider
#: moves it within the kind's range, :data:`sim.params.events.EVENT_KINDS`).
SHOCKS: dict[str, tuple[str, float | None]] = {
    "leadership_change": ("Leadership change", 0.1),
    "budget_cut": ("Budget cut", 0.2),
    "provider_exit": ("Provider exit", None),
    "demand_surge": ("Demand surge", 0.3),
}
assert set(SHOCKS) == set(EVENT_KINDS), "a shock button for each event kind"


def shock_event(kind: str, month: int, value: float | None) -> str:
    """An event string for a shock at ``month``, checked as :class:`Params` would check it."""
    text = f"{kind}@{month}" if EVENT_KINDS[kind] is None else f"{kind}@{month}={value:g}"
    parse_event(text, 10**9)
    return text


_RUN_IDS = itertools.count(1)


class TwinModel(mesa.Model):
    """An alliance and a traditional run with the same seed and parameters, stepped together.

    Keyword arguments are the app's settings (see :func:`control_specs`); ``commissioning`` is ignored,
    since both modes are always shown. The run stops at the horizon. Each run's care pathways are recorded
    month by month (:class:`~sim.analysis.journeys.WalkRecorder`) for the person's-journey view.
    """

    def __init__(self, seed: int = DEFAULT_SEED, **settings: Any) -> None:
        super().__init__(rng=int(seed))
        self.params = settings_to_params(settings)
        self.seed = int(seed)
        self.run_id = next(_RUN_IDS)  # every widget showing a run carries it: a page test waits on it
        self.listed_events = tuple(settings.get("events", ()))  # as listed, those past the horizon included
        self.alliance = AllianceModel(params=self.params.replace(commissioning="alliance"), seed=self.seed)
        self.traditional = AllianceModel(params=self.params.replace(commissioning="traditional"), seed=self.seed)
        self.recorders = {"alliance": WalkRecorder(self.alliance), "traditional": WalkRecorder(self.traditional)}
        self.running = self.params.horizon > 0
        # Held while stepping and while a view reads the runs: a Step click and the playback thread never step
        # at once, and a chart drawn during playback never sees a half-stepped month (one run ahead of the other,
        # or a data collector whose columns are one row apart). Re-entrant, so a view may call another.
        self.lock = threading.RLock()

    @property
    def month(self) -> int:
        return self.alliance.month

    @property
    def settings(self) -> dict[str, Any]:
        """The settings these runs were built from (normalised, events as listed)."""
        return {**params_settings(self.params, self.seed), "events": self.listed_events}

    def step(self) -> None:
        with self.lock:
            if self.alliance.month >= self.params.horizon:
                self.running = False
                return
            self.alliance.step()
            self.traditional.step()
            self.running = self.alliance.month < self.params.horizon

    def with_event(self, event: str) -> TwinModel:
        """The same runs with one more event, replayed to this month: every draw is keyed, so months before the
        event come out exactly as they were, and the result equals a fresh run with that event list."""
        new = TwinModel(**{**self.settings, "events": (*self.listed_events, event)})
        while new.month < self.month:
            new.step()
        return new


# --- page --------------------------------------------------------------------------------------------
PRESETS = load_presets()
DOCS = Path(__file__).resolve().parents[2] / "docs" / "teaching.md"

_CSS = """
.v-btn { text-transform: none !important; letter-spacing: normal !important; }
.alliance-app { padding-bottom: 24px; }
.control-value { font-weight: 600; white-space: nowrap; }
.control-help { font-size: 11px; color: #555; margin-top: -14px; margin-bottom: 6px; line-height: 1.2; }
.changed-flag { background: #fff3cd; border: 1px solid #e0b400; border-radius: 4px; padding: 4px 8px; }
.run-overrides { user-select: all; white-space: pre-wrap; word-break: break-all; font-size: 11px;
                 background: #f4f4f4; padding: 4px; border-radius: 4px; }
.figures-table td, .figures-table th { padding: 1px 8px; font-size: 13px; }
.guide { max-width: 1000px; }
.guide table { border-collapse: collapse; } .guide td, .guide th { border: 1px solid #ccc; padding: 2px 6px; }
"""


@solara.component
def ControlSlider(name: str, settings: solara.Reactive[dict[str, Any]]) -> None:
    """One slider: plain label, its value with unit, the schema's meaning under it."""
    spec = control_specs(settings.value)[name]
    value = settings.value[name]

    def set_value(v: float) -> None:
        settings.value = {**settings.value, name: v}

    shown = f"{value:g} {spec['unit']}".strip()
    with solara.Column(gap="0px", classes=[f"ctl-{name}", "control"]):
        with solara.Row(justify="space-between", style={"margin-bottom": "-10px"}):
            solara.Text(spec["label"])
            solara.Text(shown, classes=[f"value-{name}", "control-value"])
        slider = solara.SliderInt if spec["type"] == "SliderInt" else solara.SliderFloat
        slider("", value=value, min=spec["min"], max=spec["max"], step=spec["step"], on_value=set_value,
               thumb_label=False)
        solara.HTML(tag="div", unsafe_innerHTML=html.escape(spec["meaning"]), classes=["control-help"])


@solara.component
def Controls(settings: solara.Reactive[dict[str, Any]]) -> None:
    """Sliders grouped by the schema's roles, the rule switches and the seed."""
    for group in SLIDER_GROUPS:
        with solara.Details(summary=GROUP_TITLES[group], expand=group in OPEN_GROUPS):
            with solara.Column(gap="2px", classes=[f"group-{group}"]):
                for s in slider_fields(group):
                    ControlSlider(s.name, settings)
                if group == "scale":
                    ControlSlider("seed", settings)
    with solara.Details(summary="Programme theories (switch a rule off)", expand=False):
        with solara.Column(gap="0px", classes=["group-ablation"]):
            for rule in RULE_IDS:
                key = RULE_KEY + rule

                def toggle(v: bool, key: str = key) -> None:
                    settings.value = {**settings.value, key: bool(v)}

                with solara.Row(classes=[f"ctl-{key}"], justify="space-between", style={"align-items": "center"}):
                    solara.Checkbox(label=rule_label(rule), value=settings.value[key], on_value=toggle)
                    solara.Text("on" if settings.value[key] else "off", classes=[f"value-{key}", "control-value"])


def changed_settings(params: Params) -> str:
    """What the current runs use that differs from the schema defaults, e.g. ``Senior leaders' commitment 0``."""
    default = Params()
    parts = [f"{s.label} {format_value(s, getattr(params, s.name))}" for s in slider_fields()
             if getattr(params, s.name) != getattr(default, s.name)]
    parts += [f"{rule} off" for rule in RULE_IDS if rule in params.disabled_rules()]
    parts += [f"event {e}" for e in params.events]
    return ", ".join(parts) or "none (schema defaults)"


def matching_preset(settings: dict[str, Any]) -> str | None:
    """The preset whose settings these are (seed aside), if any: a preset button is highlighted only then."""
    mine = {k: v for k, v in normalise(settings).items() if k != "seed"}
    for name, preset in PRESETS.items():
        if {k: v for k, v in preset_settings(preset).items() if k != "seed"} == mine:
            return name
    return None


@solara.component
def PresetPicker(settings: solara.Reactive[dict[str, Any]], on_choose: Any) -> None:
    """One button per preset, with its plain name; its description under the buttons."""
    current = matching_preset(settings.value)
    with solara.Row(style={"flex-wrap": "wrap", "gap": "4px"}):
        for name, preset in PRESETS.items():
            solara.Button(preset.title, on_click=lambda name=name: on_choose(name), small=True, color="primary",
                          outlined=name != current, classes=[f"preset-{name}"])
    if current is None:
        text = "Settings of your own (no preset matches the controls)."
    else:
        text = f"<b>{html.escape(PRESETS[current].title)}</b>: {html.escape(PRESETS[current].summary)}"
    solara.HTML(tag="div", unsafe_innerHTML=text, classes=["preset-description"])


@solara.component
def RunPanel(model: TwinModel, settings: dict[str, Any], version: int) -> None:
    """What the runs on screen are: month, changes from the defaults, events, the command that reruns them."""
    pending = normalise(settings) != model.settings
    solara.Text(f"Month {model.month} of {model.params.horizon}", classes=["month-counter"],
                style={"font-size": "18px", "font-weight": "600"})
    # always present, so the panel's children never shift (a shifted child list briefly shows two copies of
    # the widgets after it while the browser catches up)
    solara.HTML(tag="div", unsafe_innerHTML="Controls changed — press <b>Reset</b> to run with them."
                if pending else "", classes=["changed-flag" if pending else "unchanged"])
    solara.HTML(tag="div", classes=["run-summary"], unsafe_innerHTML=(
        f"These runs: seed {model.seed}; changed from the defaults: "
        f"{html.escape(changed_settings(model.params))}."))
    events = ", ".join(model.params.events) or "none"
    solara.HTML(tag="div", classes=["run-events"], unsafe_innerHTML=f"Events in these runs: {html.escape(events)}")
    solara.HTML(tag="div", classes=["run-overrides"], unsafe_innerHTML=html.escape(
        run_overrides(model.params, model.seed)), attributes={"data-run": str(model.run_id)})


@solara.component
def ShockPanel(model: TwinModel, version: int, on_shock: Any) -> None:
    """A button per event kind: the shock hits both runs next month (marked on the time-series charts)."""
    values = solara.use_reactive({k: v for k, (_, v) in SHOCKS.items()})
    month = model.month + 1
    with solara.Column(gap="0px", classes=["shocks"]):
        solara.Text(f"Shocks: hit both runs in month {month}" if month <= model.params.horizon
                    else "Shocks: the runs have reached their horizon")
        for kind, (label, _) in SHOCKS.items():
            bounds = EVENT_KINDS[kind]
            value = values.value[kind]
            with solara.Row(style={"align-items": "center", "gap": "6px"}):
                solara.Button(label, small=True, color="warning", outlined=True, classes=[f"shock-{kind}"],
                              disabled=month > model.params.horizon,
                              on_click=lambda kind=kind: on_shock(kind, values.value[kind]))
                if bounds is not None:
                    def set_value(v: float, kind: str = kind) -> None:
                        values.value = {**values.value, kind: round(float(v), 2)}
                    with solara.Column(gap="0px", style={"flex-grow": "1"}):
                        solara.SliderFloat("", value=value, min=bounds[0], max=bounds[1], step=0.05,
                                           on_value=set_value, thumb_label=False)
                    solara.Text(f"{value:g}", classes=[f"shock-value-{kind}"])


def guide_html() -> str:
    """docs/teaching.md as HTML (Python-Markdown, rendered on the server: Solara's Markdown widget would fetch
    mermaid and KaTeX from a CDN)."""
    import markdown

    text = DOCS.read_text() if DOCS.is_file() else "The guide (docs/teaching.md) is not installed here."
    return markdown.markdown(text, extensions=["tables", "fenced_code"])


def parameters_html(settings: dict[str, Any]) -> str:
    """Every control: its group, plain label, current value and unit, default, range, meaning and source."""
    rows = []
    for s in slider_fields():
        rows.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in (
            GROUP_TITLES[s.group], s.label, format_value(s, settings[s.name]), format_value(s, s.default),
            f"{s.low:g}–{s.high:g}", s.meaning, s.source)) + "</tr>")
    presets = "".join(f"<li><b>{html.escape(p.title)}</b> ({html.escape(p.name)}): {html.escape(p.summary)}</li>"
                      for p in PRESETS.values())
    return ("<h3>Controls</h3><table><tr><th>group</th><th>control</th><th>now</th><th>default</th><th>range</th>"
            "<th>meaning</th><th>source</th></tr>" + "".join(rows) + "</table><p>Rule switches turn a programme "
            "theory off (IPT1-2: A system level; IPT3-4: B local focus; IPT5-7: C culture).</p><h3>Presets</h3>"
            f"<ul>{presets}</ul>")


TABS = ("Compare", "A person's journey", "Guide", "Parameters")


@solara.component
def Page() -> None:
    # The state is made per browser session (not at import), so one visitor never sees another's run.
    first = next(iter(PRESETS))
    settings = solara.use_reactive(solara.use_memo(lambda: preset_settings(PRESETS[first]), []))
    model = solara.use_reactive(solara.use_memo(lambda: TwinModel(**preset_settings(PRESETS[first])), []))
    version = solara.use_reactive(0)  # bumped when the runs have moved on: the charts redraw
    playing = solara.use_reactive(False)  # asked to play
    looping = solara.use_reactive(False)  # the playback loop is still running (it ends after its last redraw)
    stop_at = solara.use_reactive(0)  # "Run to month": the month playback stops at (0: the horizon)
    run_to = solara.use_reactive(24)
    tab = solara.use_reactive(0)

    def rebuild(new_settings: dict[str, Any]) -> None:
        playing.value = False
        model.value = TwinModel(**new_settings)
        version.value += 1

    def choose(name: str) -> None:
        new = preset_settings(PRESETS[name], seed=settings.value.get("seed", DEFAULT_SEED))
        settings.value = new
        rebuild(new)

    def step() -> None:
        model.value.step()
        version.value += 1

    def shock(kind: str, value: float | None) -> None:
        current = model.value
        event = shock_event(kind, current.month + 1, value)
        new = current.with_event(event)
        # the controls' list first, then the runs: never a render with the runs ahead of the controls
        settings.value = {**settings.value, "events": (*settings.value.get("events", ()), event)}
        model.value = new
        version.value += 1

    def clear_events() -> None:
        settings.value = {**settings.value, "events": ()}

    def play_loop() -> None:
        if not playing.value:
            return
        looping.value = True
        try:
            start, start_month = time.perf_counter(), model.value.month
            while playing.value:
                m = model.value  # a shock replaces the runs while they play: go on with the new ones
                due = start_month + 1 + int((time.perf_counter() - start) * PLAY_PACE)
                limit = stop_at.value or m.params.horizon
                while m.running and m.month < min(due, limit) and playing.value:
                    m.step()
                version.value += 1  # one redraw for every month that was due
                if not m.running or m.month >= limit:
                    break
                wait = (m.month + 1 - start_month) / PLAY_PACE - (time.perf_counter() - start)
                if wait > 0:
                    time.sleep(wait)
        finally:
            playing.value = False
            stop_at.value = 0
            looping.value = False

    solara.lab.use_task(play_loop, dependencies=[playing.value], prefer_threaded=True)

    m = model.value
    solara.Style(_CSS)
    solara.Title("Alliance dynamics: alliance vs traditional commissioning")
    with solara.Row(classes=["alliance-app"], style={"align-items": "flex-start", "gap": "16px",
                                                     "flex-wrap": "nowrap"}):
        with solara.Column(style={"width": "400px", "min-width": "400px"}, gap="6px"):
            solara.HTML(tag="h3", unsafe_innerHTML=(
                f"Alliance (<span style='color:{MODE_COLOURS['alliance']}'>blue</span>) vs traditional "
                f"commissioning (<span style='color:{MODE_COLOURS['traditional']}'>orange</span>)"))
            with solara.Card("Scenario presets", margin=0):
                PresetPicker(settings, choose)
            with solara.Card(margin=0):
                with solara.Row(gap="6px"):
                    solara.Button("Reset", color="primary", on_click=lambda: rebuild(settings.value),
                                  classes=["reset"])
                    busy = playing.value or looping.value
                    solara.Button("❚❚ Pause" if busy else "▶ Play", color="primary", classes=["play"],
                                  disabled=not m.running and not busy, on_click=lambda: playing.set(not busy))
                    solara.Button("Step", color="primary", classes=["step"], on_click=step,
                                  disabled=busy or not m.running)
                with solara.Row(gap="6px", style={"align-items": "center"}):
                    solara.Button("Run to month", color="primary", outlined=True, classes=["run-to"],
                                  disabled=busy or run_to.value <= m.month or not m.running,
                                  on_click=lambda: (stop_at.set(run_to.value), playing.set(True)))
                    with solara.Column(style={"width": "90px"}):
                        solara.InputInt("month", value=run_to.value, classes=["run-to-month"], dense=True,
                                        on_value=lambda v: run_to.set(min(max(int(v), 1), m.params.horizon)))
                RunPanel(m, settings.value, version.value)
            with solara.Card(margin=0):
                ShockPanel(m, version.value, shock)
                listed = ", ".join(settings.value.get("events", ())) or "none"
                solara.HTML(tag="div", classes=["control-events"],
                            unsafe_innerHTML=f"Event list of the controls (used at Reset): {html.escape(listed)}")
                solara.Button("Clear events from the controls", small=True, text=True, on_click=clear_events,
                              classes=["clear-events"], disabled=not settings.value.get("events"))
            Controls(settings)
        with solara.Column(style={"flex-grow": "1", "min-width": "0"}):
            with solara.lab.Tabs(value=tab.value, on_value=tab.set):
                for title in TABS:
                    solara.lab.Tab(title, classes=[f"tab-{title.split()[-1].lower()}"])
            if tab.value == 0:
                with solara.Row(style={"flex-wrap": "wrap"}):
                    TimeSeriesChart(m, version.value, "fragmentation")
                    TimeSeriesChart(m, version.value, "access")
                with solara.Row(style={"flex-wrap": "wrap"}):
                    ProviderNetwork(m, version.value)
                    LocalityView(m, version.value)
                with solara.Row(style={"flex-wrap": "wrap", "align-items": "flex-start"}):
                    OutcomeChart(m, version.value)
                    FiguresTable(m, version.value)
            elif tab.value == 1:
                JourneyView(m, version.value)
            elif tab.value == 2:
                solara.HTML(tag="div", unsafe_innerHTML=guide_html(), classes=["guide"])
            else:
                solara.HTML(tag="div", unsafe_innerHTML=parameters_html(settings.value),
                            classes=["guide", "parameters"])


page = Page
