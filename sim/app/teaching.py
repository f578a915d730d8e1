"""Teaching app: alliance and traditional commissioning side by side, in the browser (Mesa SolaraViz).

Run it with ``scripts/app.sh`` (fills the offline asset cache, then ``solara run sim/app/teaching.py``).

Two :class:`~sim.model.alliance.AllianceModel` runs share the seed and every parameter except ``commissioning``,
so any difference on screen is the commissioning mode's doing. The sliders and switches are derived
from :meth:`Params.schema` (never retyped here); the presets are the shipped ``sim/conf/scenario/*.yaml``.
The figures live in :mod:`sim.app.components`.
"""

from __future__ import annotations

import html
import logging
import math
import re
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import mesa
import solara
import yaml
from mesa.visualization import SolaraViz

from sim import conf
from sim.app.components import AccessChart, FragmentationChart, LocalityView, OutcomeChart, ProviderNetwork
from sim.model.alliance import AllianceModel
from sim.params import RULE_IDS, THEORY_RULES, FieldSpec, Params
from sim.params.events import parse_event

logger = logging.getLogger(__name__)

__all__ = ["SLIDER_GROUPS", "Preset", "TwinModel", "changed_settings", "control_specs", "load_presets",
           "preset_settings", "settings_to_params", "Page"]

#: Schema groups shown as sliders (ablation becomes switches; commissioning is the comparison itself).
SLIDER_GROUPS: tuple[str, ...] = ("context", "lever", "mechanism", "scale")
SCENARIO_DIR = conf.directory() / "scenario"  # package data: found from a checkout or an installed package
DEFAULT_SEED = 7
SEED_RANGE = (0, 99)
RULE_KEY = "rule_"  # switch keys are rule_IPT1 .. rule_IPT7 (True = the rule is on)


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


def slider_fields() -> tuple[FieldSpec, ...]:
    return tuple(s for s in Params.schema() if s.group in SLIDER_GROUPS and s.type in (int, float))


def control_specs(values: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """Mesa ``model_params`` for :class:`TwinModel`: a slider per numeric field (schema range), a switch
    per programme-theory rule, and the seed. ``values`` (app settings, see :func:`preset_settings`)
    sets the starting positions; the schema defaults are used otherwise."""
    values = preset_settings(Preset("default", "")) if values is None else values
    controls: dict[str, dict[str, Any]] = {
        "seed": {"type": "SliderInt", "label": "seed", "value": values.get("seed", DEFAULT_SEED),
                 "min": SEED_RANGE[0], "max": SEED_RANGE[1], "step": 1}}
    for s in slider_fields():
        controls[s.name] = {"type": "SliderInt" if s.type is int else "SliderFloat",
                            "label": s.name.replace("_", " "), "value": values[s.name],
                            "min": s.low, "max": s.high, "step": slider_step(s)}
    for rule in RULE_IDS:
        controls[RULE_KEY + rule] = {"type": "Checkbox", "label": rule_label(rule),
                                     "value": values[RULE_KEY + rule]}
    controls["events"] = tuple(values.get("events", ()))  # fixed (no widget): the preset's events
    return controls


# --- presets ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Preset:
    """A scenario preset: a name, one line of description and parameter overrides."""

    name: str
    description: str
    params: dict[str, Any] = field(default_factory=dict)


def load_presets(folder: Path = SCENARIO_DIR) -> dict[str, Preset]:
    """Every ``*.yaml`` in ``folder`` with a ``params:`` mapping that makes a valid :class:`Params`.

    ``default`` (the schema defaults) always exists and comes first. A preset that does not validate
    is left out with a warning rather than breaking the app in front of a class.
    """
    presets = {"default": Preset("default", "schema defaults")}
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        try:
            doc = yaml.safe_load(path.read_text()) or {}
            overrides = dict(doc.get("params") or {})
            Params.from_dict({**Params().to_dict(), **overrides})
        except (OSError, yaml.YAMLError, TypeError, ValueError, AttributeError) as err:
            logger.warning("preset %s skipped: %s", path.name, err)
            continue
        presets[path.stem] = Preset(path.stem, str(doc.get("description", "")).strip(), overrides)
    return presets


def preset_settings(preset: Preset, seed: int = DEFAULT_SEED) -> dict[str, Any]:
    """The app's flat settings (slider values, rule switches, seed) for a preset."""
    params = Params.from_dict({**Params().to_dict(), **preset.params})
    off = params.disabled_rules()
    settings: dict[str, Any] = {"seed": int(preset.params.get("seed", seed))}
    settings.update({s.name: getattr(params, s.name) for s in slider_fields()})
    settings.update({RULE_KEY + rule: rule not in off for rule in RULE_IDS})
    settings["events"] = tuple(params.events)  # a preset's time-varying scenario rides along, not a slider
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
    # a preset's events, kept to the months the horizon slider still shows (the guide says so)
    horizon = values.get("horizon", Params().horizon)
    values["events"] = tuple(e for e in settings.get("events", ()) if parse_event(e, 10**9).month <= horizon)
    unknown = set(settings) - set(values) - {"seed", "commissioning"} - {RULE_KEY + r for r in RULE_IDS}
    if unknown:
        raise TypeError(f"unknown app settings: {', '.join(sorted(unknown))}")
    return Params.from_dict(values)


# --- the paired model ------------------------------------------------------------------------------
class TwinModel(mesa.Model):
    """An alliance and a traditional run with the same seed and parameters, stepped together.

    Keyword arguments are the app's settings (see :func:`control_specs`); ``commissioning`` is ignored,
    since both modes are always shown. The run stops at the horizon.
    """

    # ``scenario``: Mesa's Reset button passes a mesa Scenario to any model accepting **kwargs; the
    # twins take everything from ``settings``, so it is accepted and not used.
    def __init__(self, seed: int = DEFAULT_SEED, scenario: Any = None, **settings: Any) -> None:
        super().__init__(rng=int(seed))
        self.params = settings_to_params(settings)
        self.alliance = AllianceModel(params=self.params.replace(commissioning="alliance"), seed=int(seed))
        self.traditional = AllianceModel(params=self.params.replace(commissioning="traditional"),
                                         seed=int(seed))
        self.running = self.params.horizon > 0

    def step(self) -> None:
        if self.alliance.month >= self.params.horizon:
            self.running = False
            return
        self.alliance.step()
        self.traditional.step()
        self.running = self.alliance.month < self.params.horizon


# --- page --------------------------------------------------------------------------------------------
PRESETS = load_presets()
COMPONENTS = [FragmentationChart, AccessChart, ProviderNetwork, LocalityView, OutcomeChart]


def parameter_guide(model: TwinModel) -> solara.HTML:
    """Page 1: what every control means, straight from the schema, and the presets.

    Plain HTML, not ``solara.Markdown``: Solara's Markdown widget fetches mermaid and KaTeX from the CDN.
    """
    def row(*cells: str) -> str:
        return "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>"

    rows = [row(f"{s.label} ({s.name.replace("_", " ")})", s.group, s.meaning, s.describe_allowed())
            for s in slider_fields()]
    presets = [f"<li><b>{html.escape(p.name)}</b>: {html.escape(p.description)}</li>"
               for p in PRESETS.values()]
    return solara.HTML(tag="div", unsafe_innerHTML="".join([
        "<h3>Controls</h3><table><tr><th>control</th><th>group</th><th>meaning</th><th>range</th></tr>",
        *rows, "</table><p>Rule switches turn a programme theory off (IPT1-2: A system level; IPT3-4: "
        "B local focus; IPT5-7: C culture).</p><h3>Presets</h3><ul>", *presets, "</ul>"]))


def changed_settings(params: Params) -> str:
    """What the current runs use that differs from the schema defaults, e.g. ``senior commitment 0``."""
    default = Params()
    parts = [f"{s.name.replace('_', ' ')} {getattr(params, s.name):g}" for s in slider_fields()
             if getattr(params, s.name) != getattr(default, s.name)]
    parts += [f"{rule} off" for rule in RULE_IDS if rule in params.disabled_rules()]
    return ", ".join(parts) or "none (schema defaults)"


@solara.component
def RunSummary(model: solara.Reactive[TwinModel]) -> None:
    """The settings the two runs were built with (Vuetify sliders do not show their values)."""
    solara.HTML(tag="div", unsafe_innerHTML=(
        f"Changed from the defaults in these runs: {html.escape(changed_settings(model.value.params))}. "
        f"Seed {model.value.alliance.scenario_seed}. Move sliders or switches, then press <b>Reset</b>."))


@solara.component
def PresetPicker(current: str, on_choose: Any, model: solara.Reactive[TwinModel]) -> None:
    """One button per preset; choosing one moves every control to the preset and resets both runs."""
    with solara.Card("Scenario presets", margin=0):
        with solara.Row(style={"flex-wrap": "wrap", "gap": "4px"}):
            for name in PRESETS:
                solara.Button(name, on_click=partial(on_choose, name), small=True, color="primary",
                              outlined=name != current, classes=[f"preset-{name}"])
        solara.HTML(tag="div", unsafe_innerHTML=(
            f"<b>{html.escape(current)}</b>: {html.escape(PRESETS[current].description)}<br>"
            "Blue: alliance commissioning; orange: traditional (separate contracts). "
            "Same seed and parameters otherwise."))
        RunSummary(model)


@solara.component
def Page() -> None:
    first = next(iter(PRESETS))
    # The model is made per browser session (not at import), so one visitor never sees another's run.
    initial = solara.use_memo(lambda: TwinModel(**preset_settings(PRESETS[first])), [])
    model = solara.use_reactive(initial)
    choice = solara.use_reactive((first, 0))  # (preset, clicks): a click always remounts the controls

    def choose(name: str) -> None:
        model.value = TwinModel(**preset_settings(PRESETS[name]))
        choice.value = (name, choice.value[1] + 1)

    name, clicks = choice.value
    PresetPicker(name, choose, model)
    # Mesa's ModelCreator reads slider start values once, when mounted: a new key remounts it so the
    # sliders jump to the preset (and its Reset rebuilds from them).
    SolaraViz(model, components=[*COMPONENTS, (parameter_guide, 1)],
              model_params=control_specs(preset_settings(PRESETS[name])),
              name="Alliance dynamics: alliance vs traditional commissioning",
              play_interval=150).key(f"viz-{name}-{clicks}")


page = Page
