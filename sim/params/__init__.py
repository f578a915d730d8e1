"""The one parameter schema of the alliance model.

Every context, lever, mechanism and scale parameter is declared here once, with its type, default,
allowed range, unit or meaning and group. Hydra configs, sensitivity bounds, the teaching app's
sliders and the parameter table in ``docs/`` are all derived from :meth:`Params.schema`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

from sim.params.constants import CONSTANTS, Constant, check_constants, constant

__all__ = ["Params", "FieldSpec", "Constant", "RULE_IDS", "THEORY_IDS", "THEORY_RULES", "GROUPS"]

#: Programme theory ids (Redgate et al. 2023, figures 2-4) and their middle-range theories.
THEORY_RULES: dict[str, tuple[str, ...]] = {
    "A": ("IPT1", "IPT2"),  # system level
    "B": ("IPT3", "IPT4"),  # local focus
    "C": ("IPT5", "IPT6", "IPT7"),  # culture
}
RULE_IDS: tuple[str, ...] = tuple(r for rules in THEORY_RULES.values() for r in rules)
THEORY_IDS: tuple[str, ...] = tuple(THEORY_RULES)
GROUPS: tuple[str, ...] = ("context", "lever", "mechanism", "scale", "events", "ablation", "constants")
COMMISSIONING_MODES: tuple[str, ...] = ("alliance", "traditional")


@dataclass(frozen=True)
class FieldSpec:
    """One parameter's declaration: what it is, what it may be and what it means.

    ``group`` is the parameter's role: a *context* describes the situation (Redgate et al.'s C), a
    *lever* is what a commissioner chooses, a *mechanism* parameter expresses structural uncertainty
    about how people and organisations respond (varied in the sensitivity study), a *scale* sets sizes,
    ``events`` and ``ablation`` shape a scenario. ``direction`` is the seed's expected sign of the
    parameter's effect on the alliance's fragmentation advantage: ``+``, ``-`` or empty (none stated).
    ``rule`` is the programme theory (``"IPT4"``) a new parameter belongs to when it is neither the rule's context
    nor its strength (:attr:`sim.model.theories.Rule.parameters` then lists it; no field needs it today).
    """

    name: str
    type: type
    default: Any
    low: float | None
    high: float | None
    group: str
    meaning: str
    unit: str = ""
    choices: tuple[Any, ...] | None = None
    label: str = ""
    direction: str = ""
    source: str = ""
    rule: str = ""

    def describe_allowed(self) -> str:
        if self.name == "events":
            return "a tuple of 'kind@month=value' strings (see sim.params.events)"
        if self.name == "constants":
            return "a mapping of model constant names to numbers in their ranges (Params.constants_schema())"
        if self.choices is not None:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        kind = "an integer" if self.type is int else "a number"
        return f"{kind} in [{self.low:g}, {self.high:g}]"


def _p(default: Any, low: float | None, high: float | None, group: str, meaning: str, unit: str = "",
       choices: tuple[Any, ...] | None = None, *, label: str, direction: str = "", source: str = "",
       rule: str = "") -> Any:
    return field(default=default, metadata={"low": low, "high": high, "group": group, "meaning": meaning,
                                            "unit": unit, "choices": choices, "label": label,
                                            "direction": direction, "source": source, "rule": rule})


def _strength(ipt: str, what: str, default: float = 1.0) -> Any:
    return _p(default, 0.2, 2.0, "mechanism", f"strength of {ipt} ({what}): how strongly the mechanism responds "
              "once its context is present; 1 is the reference", "multiplier", label=f"{ipt} strength",
              source="assumed; varied in the sensitivity study")


@dataclass(frozen=True, kw_only=True)
class Params:
    """All inputs of one scenario. Frozen and validated on construction.

    Build with keywords, e.g. ``Params(initial_trust=0.3, commissioning="traditional")``; a bad value
    raises ``ValueError`` and a wrong type or unknown name raises ``TypeError``, each naming the field,
    the value and what is allowed.
    """

    # --- context: the situation the commissioning happens in ---------------------------------------
    need_complexity: float = _p(0.6, 0.0, 1.0, "context",
                                "share of need episodes that span several need domains (complex needs; IPT1)",
                                "share", label="Complexity of need", direction="+")
    austerity: float = _p(0.3, 0.0, 1.0, "context",
                          "budget pressure: 1 cuts the real budget by 20% a year and sharpens self-interest",
                          "index", label="Austerity")
    place_based: float = _p(0.5, 0.0, 1.0, "context",
                            "national shift to locality working: how far services are organised around "
                            "localities, which lets an alliance tailor them to local need (IPT3)", "index",
                            label="Locality (place-based) working", direction="+")
    culture_readiness: float = _p(0.5, 0.0, 1.0, "context",
                                  "how receptive organisations' cultures are to change and innovation (IPT5, IPT7)",
                                  "index", label="Culture ready for change", direction="+")
    initial_trust: float = _p(0.5, 0.0, 1.0, "context",
                              "trust between providers, and between commissioner and providers, at the start "
                              "(a prehistory of cooperation; IPT4)", "probability-like",
                              label="Trust at the start", direction="+")
    community_confidence: float = _p(0.5, 0.0, 1.0, "context",
                                     "local community confidence: willingness to take part in co-production (IPT3)",
                                     "index", label="Community confidence", direction="+")
    community_capacity: float = _p(0.5, 0.0, 1.0, "context",
                                   "local community capacity to act, support people and shape local services (IPT3)",
                                   "index", label="Community capacity", direction="+")
    community_connectedness: float = _p(0.5, 0.0, 1.0, "context",
                                        "local community connectedness: networks that carry people between services "
                                        "(IPT3)", "index", label="Community connectedness", direction="+")
    sector_mix: float = _p(0.3, 0.0, 1.0, "context",
                           "share of providers from the voluntary/community and private sectors (the rest are NHS "
                           "and council social care); cross-sector boundaries are what a whole-system approach "
                           "joins up (IPT2)", "share", label="Cross-sector mix of providers", direction="+")
    senior_commitment: float = _p(0.7, 0.0, 1.0, "context",
                                  "buy-in of senior leaders across the partner organisations (IPT6); events can "
                                  "change it during a run", "index", label="Senior leaders' commitment", direction="+")
    capacity_ratio: float = _p(0.95, 0.5, 1.5, "context",
                               "funded service capacity relative to expected need at the start", "ratio",
                               label="Funded capacity relative to need")

    # --- lever: what the commissioner chooses ----------------------------------------------------------
    commissioning: str = _p("alliance", None, None, "lever",
                            "alliance (shared risk, reward and ownership) or traditional (separate contracts, "
                            "each provider paid on its own outputs)", choices=COMMISSIONING_MODES,
                            label="Commissioning model")
    pooled_share: float = _p(0.6, 0.0, 1.0, "lever",
                             "share of each provider's payment drawn from the pooled alliance budget and tied to "
                             "whole-system outcomes (IPT2; ignored under traditional commissioning)", "share",
                             label="Pooled (shared) budget", direction="+")
    monitoring: float = _p(0.5, 0.0, 1.0, "lever",
                           "intensity of the commissioner's monitoring and evaluation, in either mode: KPI "
                           "performance management of each contract, or evaluation of joint work", "index",
                           label="Monitoring and evaluation", direction="+")
    contract_length: int = _p(72, 12, 120, "lever",
                              "months between contract reviews (renew, re-tender, or change the pooled share); "
                              "5-7 years is usual for alliance contracts", "months", label="Contract length",
                              source="Lambeth and Plymouth alliances: 7- and 5-year terms")

    # --- mechanism: how people and organisations respond -----------------------------------------------
    ipt1_strength: float = _strength("IPT1", "complex interventions for local needs", 0.74)
    ipt2_strength: float = _strength("IPT2", "whole-system approach", 1.28)
    ipt3_strength: float = _strength("IPT3", "local approach to change", 0.92)
    ipt4_strength: float = _strength("IPT4", "alignment and shared focus", 0.58)
    ipt5_strength: float = _strength("IPT5", "innovation leading system change", 0.52)
    ipt6_strength: float = _strength("IPT6", "senior commitment to collaborative arrangements", 1.42)
    ipt7_strength: float = _strength("IPT7", "drive for systemic change", 1)
    trust_learning_rate: float = _p(0.215, 0.02, 0.3, "mechanism",
                                    "share of the gap between trust and observed cooperation closed per month "
                                    "after a good experience", "per month", label="Speed of trust learning",
                                    source="assumed (Kim 2009 uses 0.05-0.2); varied")
    negativity_bias: float = _p(4.2, 1.0, 5.0, "mechanism",
                                "how much faster trust is lost than gained", "ratio",
                                label="Trust lost faster than gained",
                                source="Slovic 1993; about 3:1 in Pant & Yu 2025")
    free_riding_temptation: float = _p(0.1, 0.0, 1.0, "mechanism",
                                       "pull to let partners carry joint work when reward is pooled "
                                       "(public-goods dilemma)", "index", label="Temptation to free-ride",
                                       source="Hauert et al. 2002; size assumed, varied")
    effort_noise: float = _p(1.94, 0.1, 2.0, "mechanism",
                             "month-to-month randomness in each provider's effort on joint work", "logit sd",
                             label="Randomness of effort", source="assumed; varied")
    coordination_cost: float = _p(0.17, 0.0, 0.4, "mechanism",
                                  "share of an alliance's capacity that boards, shared decisions and joint planning "
                                  "take at half_cost_pairs partner pairs, no trust and no senior-backed arrangements; "
                                  "grows with the number of partner pairs and "
                                  "falls as trust grows", "share", label="Cost of coordination",
                                  source="Huxham & Vangen 2005; Provan & Kenis 2008; size assumed, varied")
    specialisation_gain: float = _p(0.08, 0.0, 0.2, "mechanism",
                                    "productivity gain of staff who keep to their own specialist role (lost as "
                                    "roles become fluid)", "share", label="Gain from specialisation",
                                    source="assumed; varied")
    own_priorities: float = _p(0.57, 0.0, 1.0, "mechanism",
                               "pull of each organisation's own priorities away from joint work: KPIs under separate "
                               "contracts (at full monitoring), its own agenda in an alliance until the provider "
                               "aligns with the common aim (IPT4, which needs trust)", "index",
                               label="Pull of own-organisation priorities",
                               source="assumed; varied")
    handoff_loss: float = _p(0.135, 0.05, 0.5, "mechanism",
                             "chance that a handoff between two providers with no coordination at all loses the "
                             "person (no one takes responsibility)", "probability", label="Loss at handoffs",
                             source="assumed; varied")
    reassessment: float = _p(0.73, 0.1, 0.9, "mechanism",
                             "chance that a provider paid per activity, with no shared information, repeats an "
                             "assessment after a handoff", "probability", label="Repeated assessment",
                             source="assumed; varied")

    # --- scale -----------------------------------------------------------------------------------------
    n_providers: int = _p(10, 2, 100, "scale", "number of provider organisations (about 10 in Canterbury "
                          "and Plymouth)", "count", label="Providers")
    n_localities: int = _p(5, 1, 50, "scale", "number of localities (communities) served", "count",
                           label="Localities")
    n_domains: int = _p(4, 2, 8, "scale", "number of need domains (e.g. health, care, housing, substance use)",
                        "count", label="Need domains")
    waiting_window: int = _p(3, 1, 12, "scale", "months a need can wait before it counts as missed", "months",
                             label="Waiting window")
    horizon: int = _p(60, 1, 600, "scale", "number of monthly steps (60 = a five-year contract)", "months",
                      label="Months simulated")

    # --- scenario shape --------------------------------------------------------------------------------
    events: tuple[str, ...] = _p((), None, None, "events",
                                 "time-varying scenario: 'kind@month=value' strings, kinds budget_cut (share cut, "
                                 "0-1), leadership_change (new senior commitment, 0-1), provider_exit (no value), "
                                 "demand_surge (share more need, 0-2)", label="Events")
    disabled: tuple[str, ...] = _p((), None, None, "ablation",
                                   "programme theories switched off: IPT1..IPT7, or A, B, C for a whole "
                                   "middle-range theory", choices=RULE_IDS + THEORY_IDS,
                                   label="Programme theories switched off")
    constants: tuple[tuple[str, float], ...] = _p((), None, None, "constants",
                                                  "model constants changed from the registry's values, "
                                                  "{name: value} (Params.constants_schema(): every constant with "
                                                  "its plausible range, unit, meaning and source)",
                                                  label="Model constants changed")

    _SPECS: ClassVar[tuple[FieldSpec, ...]]

    # ------------------------------------------------------------------------------------------
    @classmethod
    def schema(cls) -> tuple[FieldSpec, ...]:
        """Every parameter's declaration, in declaration order."""
        return cls._SPECS

    @classmethod
    def constants_schema(cls) -> tuple[Constant, ...]:
        """Every model constant's declaration (value, plausible range, unit, meaning, source, users), in the
        order of a scenario's constants row. Override any per scenario with ``Params(constants={name: value})``."""
        return CONSTANTS

    def constant(self, name: str) -> float:
        """This scenario's value of model constant ``name`` (its override, or the registry's value)."""
        return dict(self.constants).get(name, constant(name).value)

    @classmethod
    def spec(cls, name: str) -> FieldSpec:
        for s in cls._SPECS:
            if s.name == name:
                return s
        raise KeyError(f"unknown parameter {name!r}; known: {', '.join(cls.names())}")

    @classmethod
    def names(cls, group: str | None = None) -> tuple[str, ...]:
        return tuple(s.name for s in cls._SPECS if group is None or s.group == group)

    @classmethod
    def numeric_names(cls) -> tuple[str, ...]:
        """Parameters that take a number (what a sweep or sensitivity study can vary)."""
        return tuple(s.name for s in cls._SPECS if s.type in (int, float))

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Params:
        """Build from a mapping (e.g. a Hydra config); lists for ``disabled`` and ``events`` are accepted."""
        values = dict(values)
        for key in ("disabled", "events"):  # (constants: a mapping or pairs, normalised by the check)
            if key in values and not isinstance(values[key], tuple):
                d = values[key]
                values[key] = tuple(d) if isinstance(d, list | tuple) else d
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return {s.name: getattr(self, s.name) for s in self._SPECS}

    def replace(self, **changes: Any) -> Params:
        return self.from_dict({**self.to_dict(), **changes})

    # ------------------------------------------------------------------------------------------
    @property
    def alliance(self) -> bool:
        return self.commissioning == "alliance"

    def disabled_rules(self) -> frozenset[str]:
        """Rule ids switched off, with middle-range theory ids expanded to their rules."""
        out: set[str] = set()
        for d in self.disabled:
            out.update(THEORY_RULES.get(d, (d,)))
        return frozenset(out)

    def strength(self, rule: str) -> float:
        """Effective strength of a programme-theory rule: its strength parameter, or 0 if switched off."""
        if rule not in RULE_IDS:
            raise ValueError(f"unknown rule {rule!r}; allowed: {', '.join(RULE_IDS)}")
        return 0.0 if rule in self.disabled_rules() else float(getattr(self, f"{rule.lower()}_strength"))

    # ------------------------------------------------------------------------------------------
    def __post_init__(self) -> None:
        for s in self._SPECS:
            value = getattr(self, s.name)
            object.__setattr__(self, s.name, _check(s, value))
        from sim.params.events import check_events  # events are checked against the horizon, once it is valid

        object.__setattr__(self, "events", check_events(self.events, self.horizon))


def _check(s: FieldSpec, value: Any) -> Any:
    """Validate (and normalise the type of) one value against its declaration."""
    where = f"Params.{s.name}={value!r}"
    if s.name == "constants":
        return check_constants(value)
    if s.name == "events":
        if isinstance(value, str) or not isinstance(value, tuple | list):
            raise TypeError(f"{where}: must be {s.describe_allowed()}, e.g. ('budget_cut@24=0.2',)")
        return tuple(value)
    if s.name == "disabled":
        if isinstance(value, str) or not isinstance(value, tuple | list):
            raise TypeError(f"{where}: must be a tuple of rule ids, each {s.describe_allowed()}")
        bad = [v for v in value if v not in s.choices]
        if bad:
            raise ValueError(f"{where}: unknown id {bad[0]!r}; allowed: {s.describe_allowed()}")
        return tuple(dict.fromkeys(value))  # keep order, drop repeats
    if s.choices is not None:
        if not isinstance(value, str):
            raise TypeError(f"{where}: must be a string, {s.describe_allowed()}")
        if value not in s.choices:
            raise ValueError(f"{where}: not allowed; must be {s.describe_allowed()}")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float) and not _is_numpy_number(value):
        raise TypeError(f"{where}: wrong type {type(value).__name__}; must be {s.describe_allowed()}")
    if s.type is int:
        if isinstance(value, float) or _is_numpy_float(value):
            if not (math.isfinite(value) and float(value).is_integer()):
                raise TypeError(f"{where}: must be {s.describe_allowed()}")
        value = int(value)
    else:
        try:
            value = float(value)
        except OverflowError:  # e.g. 10**400: too large for a float, so certainly out of range
            raise ValueError(f"{_short(s.name, value)}: out of range; must be {s.describe_allowed()}") from None
        if math.isnan(value):
            raise ValueError(f"{where}: NaN is not allowed; must be {s.describe_allowed()}")
    if not (s.low <= value <= s.high):
        shown = where if len(where) <= 80 else _short(s.name, value)
        raise ValueError(f"{shown}: out of range; must be {s.describe_allowed()}")
    return value


def _short(name: str, value: Any) -> str:
    """``Params.name=value`` on one readable line even for a value such as 10**400."""
    shown = repr(value)
    return f"Params.{name}={shown if len(shown) <= 40 else f'{shown[:12]}...({len(shown)} digits)'}"


def _is_numpy_number(value: Any) -> bool:
    return type(value).__module__ == "numpy" and hasattr(value, "dtype") and value.dtype.kind in "iuf"


def _is_numpy_float(value: Any) -> bool:
    return type(value).__module__ == "numpy" and hasattr(value, "dtype") and value.dtype.kind == "f"


def _build_specs() -> tuple[FieldSpec, ...]:
    specs = []
    for f in dataclasses.fields(Params):
        m = f.metadata
        ftype = {"float": float, "int": int, "str": str}.get(str(f.type), tuple)
        specs.append(FieldSpec(name=f.name, type=ftype, default=f.default, low=m["low"], high=m["high"],
                               group=m["group"], meaning=m["meaning"], unit=m["unit"], choices=m["choices"],
                               label=m["label"], direction=m["direction"], source=m["source"], rule=m["rule"]))
    return tuple(specs)


Params._SPECS = _build_specs()

_generated_init = Params.__init__


def _init(self: Params, *args: Any, **kwargs: Any) -> None:
    if args:
        raise TypeError("Params takes keyword arguments only, e.g. Params(initial_trust=0.3)")
    known = set(Params.names())
    for name, value in kwargs.items():
        if name not in known:
            raise TypeError(f"unknown parameter Params.{name}={value!r}; allowed names: {', '.join(sorted(known))}")
    _generated_init(self, **kwargs)


Params.__init__ = _init  # type: ignore[method-assign]
