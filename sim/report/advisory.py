"""The advisory-group report of a sensitivity study: plain language, in HTML and PDF.

``write_report(folder)`` reads a complete study folder (``sim.analysis.study.run_study`` plus ``config.yaml`` and
``manifest.json``) and writes ``report.html`` (self-contained: inline CSS, base64 images, no external
requests) and ``report.pdf`` (WeasyPrint, A4) from the Jinja2 templates in ``sim/report/templates/``.

Every number the summary quotes comes from :func:`summary_facts`, which returns the raw values, the
text shown and the table each came from, so tests can hold the prose to the CSVs. Figures are redrawn
here from the tables (plain-word labels, Okabe-Ito colours, viridis for the heatmap) and each gets alt
text generated from the same numbers.
"""

from __future__ import annotations

import base64
import importlib.metadata
import io
import json
import math
import re
import textwrap
import time
from dataclasses import dataclass, field
from functools import cached_property
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
import yaml  # noqa: E402
from scipy import stats  # noqa: E402

from sim.analysis.sensitivity import DEFAULT_ROLES, parse_effect, study_bounds, theory_group  # noqa: E402
from sim.analysis.study_run import REPORT_FILES  # noqa: E402
from sim.model.outcomes import OUTCOMES  # noqa: E402
from sim.model.outcomes import outcome as outcome_spec  # noqa: E402
from sim.model.theories import RULE_INFO  # noqa: E402
from sim.params import RULE_IDS, THEORY_IDS, THEORY_RULES, Params  # noqa: E402
from sim.runtime.errors import DamagedResults, ReportError  # noqa: E402
from sim.sweeps.integrity import verify  # noqa: E402
from sim.sweeps.paired import interval  # noqa: E402

__all__ = ["ReportError", "summary_facts", "render_html", "write_report", "param_label", "effect_label"]

TEMPLATES = Path(__file__).resolve().parent / "templates"
REQUIRED = ("config.yaml", "manifest.json", "sobol.csv", "convergence.csv", "noise.csv", "prim_stats.csv",
            "prim_boxes.csv", "ablation.csv", "heatmap.csv", "timeseries.parquet")

#: Okabe & Ito (2008): distinguishable with every common colour-vision deficiency.
OKABE_ITO = {"blue": "#0072B2", "sky": "#56B4E9", "orange": "#E69F00", "vermillion": "#D55E00",
             "green": "#009E73", "purple": "#CC79A7", "yellow": "#F0E442", "grey": "#999999", "black": "#000000"}
GROUP_STYLE = {"A": (OKABE_ITO["blue"], "o"), "B": (OKABE_ITO["green"], "s"), "C": (OKABE_ITO["purple"], "D"),
               "other": (OKABE_ITO["grey"], "^"), "dummy": (OKABE_ITO["black"], "x")}
THEORY_NAMES = {"A": "system level", "B": "local focus", "C": "culture", "other": "general mechanism",
                "dummy": "dummy (noise floor)"}
KIND_NAMES = {"context": "local context", "lever": "commissioning lever", "mechanism": "model assumption",
              "scale": "size and timing", "events": "events", "ablation": "switch", "constants": "model constants"}
DUMMY_LABEL = "dummy (does nothing; noise floor)"

RULE_TITLES = {r.id: r.title for r in RULE_INFO}
CONVERGENCE_GUIDE = 0.02  # sim/conf/study/full.yaml: ST should move < 0.02 between N/2 and N
SIGNIFICANT_QP = 0.05  # PRIM restriction counts as a main condition below this quasi-p value




# ------------------------------------------------------------------------------------------------
# Plain words and numbers
# ------------------------------------------------------------------------------------------------
def param_label(name: str) -> str:
    """A parameter's short plain-word name from the schema (IPT strengths named after their programme theory)."""
    m = re.fullmatch(r"ipt(\d)_strength", name)
    if m:
        return f"strength of IPT {m.group(1)} ({RULE_TITLES[f'IPT{m.group(1)}'].lower()})"
    if name == "dummy":
        return DUMMY_LABEL
    label = Params.spec(name).label  # the schema's plain-language label, in running text
    return label[0].lower() + label[1:] if label[1:2].islower() else label


def outcome_label(outcome: str) -> str:
    return outcome_spec(outcome).label if outcome in OUTCOMES else outcome.replace("_", " ")


def effect_label(effect: str) -> str:
    """``fragmentation_reduction`` -> ``reduction in fragmentation``."""
    outcome, sign = parse_effect(effect)
    return f"{'reduction' if sign < 0 else 'gain'} in {outcome_label(outcome)}"


def variant_label(variant: str) -> str:
    """An ablation variant: ``IPT6`` -> ``IPT 6 senior commitment ...``, ``C`` -> ``all of C (culture)``."""
    if variant in THEORY_RULES:
        return f"all of {variant} ({THEORY_NAMES[variant]}: IPT {', '.join(r[3:] for r in THEORY_RULES[variant])})"
    return f"IPT {variant[3:]} ({RULE_TITLES.get(variant, variant).lower()})"


def num(x: float, digits: int = 2) -> str:
    """Fixed decimals, never ``-0.00``; a dash for a missing value."""
    if x is None or not np.isfinite(x):
        return "–"
    text = f"{x:.{digits}f}"
    return text[1:] if re.fullmatch(r"-0\.?0*", text) else text


def pct(x: float) -> str:
    """A share as a whole percentage; tiny shares as '< 1%' rather than a misleading 0%."""
    if x is None or not np.isfinite(x):
        return "–"
    if 0 < x < 0.005:
        return "less than 1%"
    return f"{100 * x:.0f}%"


def small_pct(x: float) -> str:
    """A small share with one significant figure (e.g. noise shares of 0.05%)."""
    if not np.isfinite(x):
        return "–"
    p = 100 * x
    if p >= 1:
        return f"{p:.0f}%"
    if p < 0.01:
        return "less than 0.01%"
    return f"{p:.{max(0, -math.floor(math.log10(p)))}f}%"


def span(low: float, high: float, digits: int = 2) -> str:
    return f"{num(low, digits)} to {num(high, digits)}"


# ------------------------------------------------------------------------------------------------
# The study folder
# ------------------------------------------------------------------------------------------------
@dataclass
class Study:
    """A complete study folder and what the report needs from it, read lazily."""

    folder: Path
    config: dict[str, Any]
    manifest: dict[str, Any]
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def open(cls, folder: str | Path) -> Study:
        folder = Path(folder)
        if not folder.is_dir():
            raise ReportError(f"{folder}: not a folder; give a study folder such as results/sensitivity/<name>")
        missing = [name for name in REQUIRED if not (folder / name).is_file()]
        if missing:
            raise ReportError(f"{folder}: not a complete sensitivity study (missing {', '.join(missing)}); "
                              "run `python experiments/sensitivity.py` to make one")
        try:
            config = yaml.safe_load((folder / "config.yaml").read_text()) or {}
            manifest = json.loads((folder / "manifest.json").read_text())
        except (OSError, ValueError, yaml.YAMLError) as err:
            raise ReportError(f"{folder}: config.yaml or manifest.json cannot be read ({_first_line(err)}); "
                              "the study folder is damaged; rerun the study") from None
        if not isinstance(config, dict) or "study" not in config or "params" not in config:
            raise ReportError(f"{folder / 'config.yaml'}: has no study/params section; not a sensitivity study")
        manifest = manifest if isinstance(manifest, dict) else {}
        remake = (f"remake the study with: {manifest['command']} force=true" if manifest.get("command") else
                  "remake the study (its command with force=true)")
        files = manifest.get("files") or {}
        # the report is what we rewrite; an optional table that is gone only leaves its section out
        absent = [name for name in files if not (folder / name).exists()]
        verify(folder, files, remake, skip=[*REPORT_FILES, *absent])
        return cls(folder, config, manifest)

    def _read(self, name: str, reader) -> pd.DataFrame | None:
        if name not in self._cache:
            path = self.folder / name
            try:
                self._cache[name] = reader(path) if path.is_file() else None
            except Exception as err:  # noqa: BLE001 - pandas/pyarrow raise many types for a damaged file
                raise ReportError(f"{path}: cannot be read ({_first_line(err)}); the study folder is damaged; "
                                  "rerun the study") from None
        return self._cache[name]

    def csv(self, name: str) -> pd.DataFrame | None:
        return self._read(name, pd.read_csv)

    def parquet(self, name: str) -> pd.DataFrame | None:
        return self._read(name, pd.read_parquet)

    @property
    def study(self) -> dict[str, Any]:
        return self.config["study"]

    @property
    def outcomes(self) -> list[str]:
        return list(self.study["outcomes"])

    @property
    def primary(self) -> str:
        return self.outcomes[0]

    @property
    def base(self) -> dict[str, Any]:
        return self.config["params"]

    @cached_property
    def bounds(self) -> dict[str, tuple[float, float]]:
        """The ranges the study actually sampled (the schema's, narrowed by the config)."""
        return study_bounds(list(self.study.get("parameters") or []), dict(self.study.get("narrow") or {}),
                            list(self.study.get("roles") or DEFAULT_ROLES))

    @cached_property
    def n_max(self) -> int:
        return int(self.csv("sobol.csv")["N"].max())

    @cached_property
    def kept(self) -> list[str]:
        table = self.csv("sobol.csv")
        return list(dict.fromkeys(table["parameter"]))

    def sobol(self, outcome: str, n: int | None = None) -> pd.DataFrame:
        """Sobol indices of ``outcome`` at ``n`` (default the largest N), ranked by ST, with clipped intervals."""
        table = self.csv("sobol.csv")
        n = self.n_max if n is None else n
        rows = table[(table["outcome"] == outcome) & (table["N"] == n)].sort_values("ST", ascending=False)
        rows = rows.reset_index(drop=True).copy()
        # Indices are shares of variance: show their intervals inside [0, 1].
        rows["ST_low"] = (rows["ST"] - rows["ST_conf"]).clip(0, 1)
        rows["ST_high"] = (rows["ST"] + rows["ST_conf"]).clip(0, 1)
        rows["S1_low"] = (rows["S1"] - rows["S1_conf"]).clip(0, 1)
        rows["S1_high"] = (rows["S1"] + rows["S1_conf"]).clip(0, 1)
        return rows


def _kind(name: str) -> str:
    return "dummy" if name == "dummy" else Params.spec(name).group


def _record(name: str, row: pd.Series | dict) -> dict[str, Any]:
    r = dict(row)
    r.update(parameter=name, label=param_label(name), kind=_kind(name), kind_label=KIND_NAMES.get(_kind(name), ""),
             theory=theory_group(name), theory_label=THEORY_NAMES[theory_group(name)])
    return r


# ------------------------------------------------------------------------------------------------
# Facts: every number the summary quotes
# ------------------------------------------------------------------------------------------------
class _Quotes:
    """Collects quoted numbers: raw value, the text shown, and where it came from."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def __call__(self, key: str, value: float, shown: str, source: str) -> str:
        self.items.append({"key": key, "value": float(value), "shown": shown, "source": source})
        return shown


def summary_facts(folder: str | Path) -> dict[str, Any]:
    """Everything the plain-language summary says, as numbers and sentences.

    Keys include ``primary`` (the primary effect), ``ranking`` (Sobol rows of the primary effect at the
    largest N, by total index), ``most_influential`` (its first row), ``best_box`` (the first PRIM box in
    plain words), ``contrasts`` (the effect in the low and high quarter of the leading factors' ranges),
    ``ablation`` (per switched-off rule or theory), ``ipt6``, ``default_run``, ``convergence``,
    ``noise_share``, ``sentences`` (the summary's paragraphs) and ``quoted`` (each number quoted:
    ``key``, ``value``, ``shown``, ``source``).
    """
    return _facts(Study.open(folder))


def _facts(s: Study) -> dict[str, Any]:
    q = _Quotes()
    primary, n = s.primary, s.n_max
    outcome, sign = parse_effect(primary)
    effect = effect_label(primary)
    verb = "cut" if sign < 0 else "raised"
    facts: dict[str, Any] = {"primary": primary, "primary_label": effect, "outcome": outcome,
                             "outcome_label": outcome_label(outcome), "N": n,
                             "replicates": int(s.study["replicates"]), "threshold": float(s.study["prim_threshold"])}
    src_sobol = f"sobol.csv ({primary}, N={n})"

    # 1. What mattered most: the total-effect ranking of the primary effect at the largest N
    ranking = [_record(r["parameter"], r) for _, r in s.sobol(primary).iterrows()]
    facts["ranking"] = ranking
    top = ranking[0]
    facts["most_influential"] = top
    second = ranking[1] if len(ranking) > 1 else None
    facts["top_clear"] = bool(second is None or top["ST_low"] > second["ST_high"])
    st = q("top_ST", top["ST"], num(top["ST"]), f"{src_sobol}: ST of {top['parameter']}")
    lead = (f"The factor that mattered most for the {effect} was {top['label']} ({top['kind_label']}): alone "
            f"and through its interactions it accounted for {st} of the variation in the effect (total-effect "
            f"index, 95% interval {span(top['ST_low'], top['ST_high'])}).")
    if second is not None:
        others = [r for r in ranking[1:4] if r["ST_low"] > 0.05]
        if others:
            names = _join([f"{r['label']} ({num(r['ST'])})" for r in others])
        else:  # quoted only when shown
            st2 = q("second_ST", second["ST"], num(second["ST"]), f"{src_sobol}: ST of {second['parameter']}")
            names = f"{second['label']} ({st2})"
        lead += f" Next came {names}."
        if not facts["top_clear"]:
            lead += (f" The intervals of {top['label']} and {second['label']} overlap, so their order is not "
                     "certain.")
    weak = [r["label"] for r in ranking if r["ST_high"] < 0.05]
    facts["weak"] = weak
    if weak:
        lead += f" {_upper_first(_join(weak))} made little difference (index below 0.05)."
    screened = s.csv("morris.csv")
    if screened is not None:
        total = screened[(screened["outcome"] == primary) & (screened["parameter"] != "dummy")]
        facts["screened"] = int(len(total))
        lead = f"Of {len(total)} factors screened, {len(ranking)} stood out from the noise. " + lead

    # 2. When alliances did best: the first PRIM box in plain words
    facts["boxes"] = _prim_boxes(s)
    box = facts["boxes"][0] if facts["boxes"] else None
    facts["best_box"] = box
    threshold = num(facts["threshold"])
    if box is None:
        best = (f"No clear region of contexts stood out in which alliances {verb} {outcome_label(outcome)} "
                f"by at least {threshold}.")
    else:
        cov = q("box1_coverage", box["coverage"], pct(box["coverage"]), "prim_stats.csv: coverage of box 1")
        dens = q("box1_density", box["density"], pct(box["density"]), "prim_stats.csv: density of box 1")
        base = q("base_rate", box["base_rate"], pct(box["base_rate"]), "prim_stats.csv: base_rate")
        best = (f"Alliances {verb} {outcome_label(outcome)} by at least {threshold} in {base} of the contexts "
                f"sampled. They did best when {box['clause']}: there {dens} of runs reached this bar, and this "
                f"region held {cov} of all the runs that did.")
    facts["quoted_threshold"] = threshold

    # 3. When they did little: the effect in the low and high quarter of the leading factors' ranges
    facts["contrasts"] = _contrasts(s, [r["parameter"] for r in ranking[:2]])
    parts = []
    for c in facts["contrasts"]:
        weak_end, strong_end = (c["low"], c["high"]) if c["low"]["mean"] <= c["high"]["mean"] else \
            (c["high"], c["low"])
        m = q(f"little_{c['parameter']}", weak_end["mean"], num(weak_end["mean"]),
              f"discovery_samples.parquet: mean {primary} with {c['parameter']} in its {weak_end['which']} quarter")
        parts.append(f"{c['label']} was {weak_end['which']} ({weak_end['range']}: average {m}, 95% interval "
                     f"{span(weak_end['ci_low'], weak_end['ci_high'])}, against {num(strong_end['mean'])} when "
                     f"{strong_end['which']})")
    little = (f"The {effect} was small when " + "; and when ".join(parts) + ".") if parts else ""

    # 4. Which programme theories carried the effect: ablation
    ab = s.csv("ablation.csv")
    ab = ab[ab["outcome"] == primary].copy()
    rows = []
    for _, r in ab.iterrows():
        full = float(r["effect_full"])
        rows.append({**r.to_dict(), "label": variant_label(r["disabled"]),
                     "share": float(-r["change"] / full) if full else float("nan"),
                     "clear": bool(r["change_high"] < 0 or r["change_low"] > 0),
                     "none": bool(r["change"] == 0 and r["change_low"] == 0 and r["change_high"] == 0)})
    facts["ablation"] = rows
    by = {r["disabled"]: r for r in rows}
    theory_parts = []
    ipt6 = by.get("IPT6")
    facts["ipt6"] = ipt6
    if ipt6 is not None:
        theory_parts.append(_ablation_sentence("IPT6", "senior commitment (IPT 6)", ipt6, effect, q))
    rules = [r for r in rows if r["level"] == "rule" and r["disabled"] != "IPT6"]
    if rules:
        biggest = min(rules, key=lambda r: r["change"])
        if biggest["clear"] and biggest["change"] < 0:
            facts["largest_other_rule"] = biggest
            theory_parts.append(_ablation_sentence(biggest["disabled"], variant_label(biggest["disabled"]), biggest,
                                                   effect, q, also=True))
    none = [r["disabled"] for r in rows if r["level"] == "rule" and r["none"]]
    facts["no_effect_rules"] = none
    if none:
        theory_parts.append(f"Switching off {_join(['IPT ' + v[3:] for v in none])} changed nothing here: in the "
                            f"model they act on other outcomes, not on {outcome_label(outcome)}.")
    n_ab = int(ab["n"].iloc[0]) if len(ab) else 0
    theories = " ".join(theory_parts)
    facts["ablation_contexts"] = n_ab // max(facts["replicates"], 1)

    # 5. The default scenario over time
    ts = s.csv("timeseries_summary.csv")
    default = None
    if ts is not None and (ts["outcome"] == outcome).any():
        row = ts[ts["outcome"] == outcome].iloc[0].to_dict()
        diff = sign * row["difference_mean"]
        ends = sorted((sign * row["difference_low"], sign * row["difference_high"]))
        default = {**row, "effect": diff, "effect_low": ends[0], "effect_high": ends[1]}
        a = q("default_alliance", row["alliance_mean"], num(row["alliance_mean"]),
              f"timeseries_summary.csv: alliance_mean of {outcome}")
        t = q("default_traditional", row["traditional_mean"], num(row["traditional_mean"]),
              f"timeseries_summary.csv: traditional_mean of {outcome}")
        years = int(row["step"]) / 12
        when = f"after {years:g} years" if years == int(years) else f"after {int(row['step'])} months"
        default["sentence"] = (f"In the base scenario, {when} {outcome_label(outcome)} was {a} under the alliance "
                               f"and {t} under traditional commissioning (a {effect} of "
                               f"{num(diff)}, 95% interval {span(default['effect_low'], default['effect_high'])}, "
                               f"over {int(row['n_seeds'])} random seeds).")
    facts["default_run"] = default

    # 6. How sure we are: convergence, noise, cross-check
    conv = s.csv("convergence.csv")
    conv_row = conv[conv["outcome"] == primary].iloc[0].to_dict()
    facts["convergence"] = conv_row
    noise = s.csv("noise.csv")
    noise_row = noise[(noise["outcome"] == primary) & (noise["N"] == n)]
    facts["noise_share"] = float(noise_row["noise_share"].iloc[0]) if len(noise_row) else float("nan")
    moved = q("convergence_change", conv_row["max_abs_change_ST"], num(conv_row["max_abs_change_ST"], 3),
              f"convergence.csv: max_abs_change_ST of {primary}")
    sure = [f"With half the Sobol sample ({conv_row['N_half']} instead of {conv_row['N']} base points) the "
            f"total-effect indices moved by at most {moved}"]
    if conv_row["max_abs_change_ST"] <= CONVERGENCE_GUIDE:
        sure[-1] += ", so they have settled"
    elif conv_row["max_abs_change_ST"] <= 2 * CONVERGENCE_GUIDE:
        sure[-1] += (f", a little more than the {num(CONVERGENCE_GUIDE)} we aim for, so read close rankings as "
                     "uncertain")
    else:
        sure[-1] += (f", far more than the {num(CONVERGENCE_GUIDE)} we aim for: this study is too small to rank "
                     "the factors reliably, so run a larger one before relying on the ranking")
    sure[-1] += ("; the leading factor was the same at both sizes." if conv_row["same_top"] else
                 "; the leading factor changed between the two sizes, so treat the ranking with caution.")
    if np.isfinite(facts["noise_share"]):
        sure.append(f"Chance differences between runs made up {small_pct(facts['noise_share'])} of the "
                    "variation analysed.")
    cart = _cart(s)
    facts["cart"] = cart
    if cart and box is not None:
        shared = sorted(set(cart["parameters"]) & {c["parameter"] for c in box["main"]})
        facts["cart_agrees_on"] = shared
        if shared:
            sure.append(f"A decision tree, as a cross-check, picked out {_join([param_label(p) for p in shared])} "
                        "too.")
        else:
            sure.append("A second method (a decision tree) described the region differently; see the appendix.")
    facts["other_outcomes"] = []
    for other in s.outcomes[1:]:
        ranked = s.sobol(other)
        if len(ranked):
            facts["other_outcomes"].append({**_record(ranked["parameter"].iloc[0], ranked.iloc[0]),
                                            "outcome": other, "effect": effect_label(other)})

    facts["meaning"] = _meaning(s, q)
    facts["sentences"] = {"mattered": lead, "best": best, "little": little, "theories": theories,
                          "default": default["sentence"] if default else "", "sure": " ".join(sure)}
    facts["quoted"] = q.items
    return facts


# ------------------------------------------------------------------------------------------------
# Page 1: what this means for us (plain statements; no method words)
# ------------------------------------------------------------------------------------------------
ROBUST = 0.8  # a factor whose effect keeps its direction and rank in this share of members is robust


def _held(r: dict, members: int, q: _Quotes, key: str) -> str:
    """How far a factor's effect held across the plausible versions of the model, in words."""
    if members <= 1:
        return ""
    shown = q(f"robust_{key}", r["robustness"], pct(r["robustness"]),
              f"contexts_sobol.csv: robustness of {r['parameter']}")
    return f" (this held in {shown} of the {members} plausible versions of the model)"


def _meaning(s: Study, q: _Quotes) -> dict[str, Any] | None:
    """Page 1: three to five plain statements for a commissioner (what to check before choosing an alliance,
    which choices help, when to prefer traditional commissioning, what a shock does), each from the study's
    tables and hedged by how far it held across the plausible versions of the model; the factors grouped as
    "your local context", "choices you control" and "what the model is unsure of"."""
    table, regions = s.csv("contexts_sobol.csv"), s.csv("failure_regions.csv")
    if table is None or regions is None:
        return None
    uncertainty = json.loads((s.folder / "model_uncertainty.json").read_text()) \
        if (s.folder / "model_uncertainty.json").is_file() else {}
    members = int(table["members"].max()) if len(table) else 1
    rows = [dict(r, label=param_label(r["parameter"])) for r in table.to_dict("records")]
    contexts = [r for r in rows if r["role"] == "context"]
    levers = [r for r in rows if r["role"] == "lever"]
    statements: list[str] = []
    ranked = sorted(contexts, key=lambda r: (r["screened_out"], -(r["ST"] if np.isfinite(r["ST"]) else 0),
                                             r["rank"]))
    if ranked:
        top = ranked[0]
        way = "higher" if top["direction"] >= 0 else "lower"
        statements.append(f"Before choosing an alliance, look at {top['label']}: of everything about a place, it "
                          f"made the most difference. The {way} it is, the more an alliance reduced fragmentation"
                          f"{_held(top, members, q, top['parameter'])}.")
    helping = sorted(levers, key=lambda r: -abs(r["change"]))
    if helping and abs(helping[0]["change"]) > 0:
        lever = helping[0]
        end = "high" if lever["change"] > 0 else "low"
        other = "low" if end == "high" else "high"
        size = q("lever_change", abs(lever["change"]), num(abs(lever["change"])),
                 f"robustness.csv: change of {lever['parameter']}")
        statements.append(f"Of the choices you control, {lever['label']} helped most: setting it {end} rather than "
                          f"{other} reduced fragmentation by about {size} more on a scale of 0 to 1"
                          f"{_held(lever, members, q, lever['parameter'])}.")
    worse = []
    phrases = (("worse_fragmentation", "left services more fragmented", "leave services more fragmented"),
               ("worse_value", "gave less value for money", "give less value for money"))
    for question, what, do in phrases:
        first = regions[(regions["question"] == question)].sort_values("box")
        if not len(first):
            continue
        r = first.iloc[0].to_dict()
        share = "" if r["hits"] == 0 else q(f"{question}_rate", r["base_rate"], pct(r["base_rate"]),
                                             f"failure_regions.csv: base_rate of {question}")
        if r["hits"] == 0:
            sentence = f"In none of the {int(r['runs'])} places we simulated did the alliance {do} than " \
                       "traditional commissioning."
        elif r["box"] == 0:
            sentence = (f"The alliance {what} than traditional commissioning in {share} of the places simulated, "
                        f"{r['plain']}.")
        else:
            density = q(f"{question}_density", r["density"], pct(r["density"]),
                        f"failure_regions.csv: density of {question} box 1")
            sentence = (f"The alliance {what} than traditional commissioning in {share} of the places simulated, "
                        f"mostly where {r['plain']}; there it did worse in {density} of places.")
        worse.append({"question": question, "sentence": sentence, **r})
    frag = next((w for w in worse if w["question"] == "worse_fragmentation"), None)
    if frag is not None and frag["hits"]:
        statements.append(f"In {pct(frag['base_rate'])} of the places simulated the alliance left services more "
                          "fragmented than traditional commissioning. Where a place looks like those described "
                          "below, prefer traditional commissioning, or build the missing conditions first.")
    elif frag is not None:
        statements.append(frag["sentence"])
    resilience = s.csv("resilience.csv")
    if resilience is not None and len(resilience):
        wide = resilience.pivot(index="preset", columns="commissioning", values="depth")
        gap = (wide["alliance"] - wide["traditional"]).sort_values(ascending=False)
        name = gap.index[0]
        a = resilience[(resilience["preset"] == name) & (resilience["commissioning"] == "alliance")].iloc[0]
        t = resilience[(resilience["preset"] == name) & (resilience["commissioning"] == "traditional")].iloc[0]
        da = q("resilience_alliance", a["depth"], num(a["depth"]), f"resilience.csv: depth, {name}, alliance")
        dt = q("resilience_traditional", t["depth"], num(t["depth"]), f"resilience.csv: depth, {name}, traditional")
        event = str(a["description"]).split(":", 1)[-1].strip().rstrip(".")
        statement = (f"Shocks: in the scenario where {event[0].lower() + event[1:]}, fragmentation rose by up to "
                     f"{da} under an alliance and {dt} under traditional commissioning")
        if np.isfinite(a["months_to_half"]):
            statement += f"; the alliance took {int(a['months_to_half'])} months to win back half of that"
        statements.append(statement + ".")
    unsure = [r for r in rows if members > 1 and r["robustness"] < ROBUST and not r["screened_out"]]
    if members > 1:
        model_note = (f"What the model itself assumes (its constants and the strength of each mechanism) was "
                      f"varied over {members} plausible versions that the evidence cannot rule out. ")
        model_note += (("The direction or rank of " + _join([r["label"] for r in unsure]) + " changed between "
                        "those versions, so treat them as uncertain.") if unsure else
                       "Every leading factor kept its direction and rank in most of them.")
    else:
        model_note = ("Only one version of the model's assumptions was run (its registry's constants: "
                      f"{uncertainty.get('members', 0) or 'no'} calibrated versions were used), so this report "
                      "cannot say how far its answers depend on them.")

    def entry(r: dict) -> dict[str, Any]:
        way = "higher helps" if r["direction"] > 0 else ("higher hurts" if r["direction"] < 0 else "no effect")
        return {"label": r["label"], "way": way, "robustness": r["robustness"], "members": members,
                "screened_out": bool(r["screened_out"])}

    groups = {"context": [entry(r) for r in ranked[:6]],
              "lever": [entry(r) for r in helping], "model": model_note}
    return {"statements": statements[:5], "groups": groups, "worse": worse, "members": members}


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _join(items: list[str]) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1] if items else ""


def _ablation_sentence(key: str, name: str, r: dict, effect: str, q: _Quotes, also: bool = False) -> str:
    change = q(f"ablation_{key}", abs(r["change"]), num(abs(r["change"])), f"ablation.csv: change for {key}")
    ci = span(abs(r["change_high"]), abs(r["change_low"])) if r["change"] < 0 else span(r["change_low"],
                                                                                        r["change_high"])
    lead = "Switching off" if not also else "Of the other theories, switching off"
    if r["none"]:
        return f"{lead} {name} made no difference to the {effect}."
    if not r["clear"]:
        return (f"{lead} {name} made no clear difference to the {effect} (change {num(r['change'])}, 95% "
                f"interval {span(r['change_low'], r['change_high'])}).")
    if r["change"] < 0 and also:
        return f"{lead} {name} cut it most: by {change} (95% interval {ci}), about {pct(r['share'])}."
    if r["change"] < 0:
        return (f"{lead} {name} cut the {effect} by {change} (95% interval {ci}), from {num(r['effect_full'])} "
                f"to {num(r['effect_disabled'])}: about {pct(r['share'])} of the effect.")
    return f"{lead} {name} increased the {effect} by {change} (95% interval {ci})."


def _prim_boxes(s: Study) -> list[dict[str, Any]]:
    """PRIM boxes with their restrictions in plain words; restrictions with quasi-p < 0.05 are 'main'."""
    stats_, limits = s.csv("prim_stats.csv"), s.csv("prim_boxes.csv")
    boxes = []
    for _, st in stats_.sort_values("box").iterrows():
        rows = limits[limits["box"] == st["box"]]
        conditions = []
        for _, r in rows.iterrows():
            name = r["parameter"]
            lo, hi = s.bounds.get(name, (Params.spec(name).low, Params.spec(name).high))
            qps = [v for v in (r.get("qp_low"), r.get("qp_high")) if v is not None and np.isfinite(v)]
            qp = min(qps) if qps else float("nan")
            cut_low = np.isfinite(r.get("qp_low", np.nan)) and r["min"] > lo
            cut_high = np.isfinite(r.get("qp_high", np.nan)) and r["max"] < hi
            if cut_low and cut_high:
                limit = f"between {num(r['min'])} and {num(r['max'])}"
            elif cut_high:
                limit = f"at most {num(r['max'])}"
            else:
                limit = f"at least {num(r['min'])}"
            text = f"{param_label(name)} {limit}"
            conditions.append({"parameter": name, "label": param_label(name), "min": float(r["min"]),
                               "max": float(r["max"]), "range": f"{num(lo)} to {num(hi)}", "qp": qp, "text": text,
                               "clause": f"{param_label(name)} was {limit} (of {num(lo)} to {num(hi)})",
                               "main": bool(np.isfinite(qp) and qp < SIGNIFICANT_QP)})
        main = [c for c in conditions if c["main"]] or conditions
        minor = [c for c in conditions if c not in main]
        boxes.append({"box": int(st["box"]), "coverage": float(st["coverage"]), "density": float(st["density"]),
                      "n": int(st["n"]), "mass": float(st["mass"]), "base_rate": float(st["base_rate"]),
                      "threshold": float(st["threshold"]), "conditions": conditions, "main": main, "minor": minor,
                      "plain": _join([c["text"] for c in main]), "clause": _join([c["clause"] for c in main])})
    return boxes


def _contrasts(s: Study, names: list[str]) -> list[dict[str, Any]]:
    """Mean primary effect (95% interval over sampled contexts) in the lowest and highest quarter of each
    factor's range, from the scenario-discovery sample (a Latin hypercube over every study parameter)."""
    sample = s.parquet("discovery_samples.parquet")
    out = []
    if sample is None or s.primary not in sample:
        return out
    for name in names:
        if name not in sample or name not in s.bounds:
            continue
        lo, hi = s.bounds[name]
        width = hi - lo
        ends = {}
        for which, mask, rng in (("low", sample[name] <= lo + width / 4, (lo, lo + width / 4)),
                                 ("high", sample[name] >= hi - width / 4, (hi - width / 4, hi))):
            values = sample.loc[mask, s.primary].to_numpy()
            if len(values) < 2:
                break
            mean, low, high = interval(values)
            ends[which] = {"which": which, "mean": mean, "ci_low": low, "ci_high": high, "n": len(values),
                           "range": f"{num(rng[0])} to {num(rng[1])}"}
        if len(ends) == 2:
            out.append({"parameter": name, "label": param_label(name), **ends})
    return out


def _cart(s: Study) -> dict[str, Any] | None:
    leaves, text = s.csv("cart_leaves.csv"), s.folder / "cart.txt"
    if leaves is None or not len(leaves):
        return None
    best = leaves.sort_values(["share_reaching_threshold", "n"], ascending=False).iloc[0]
    accuracy = None
    if text.is_file():
        m = re.search(r"accuracy ([0-9.]+)", text.read_text().splitlines()[0])
        accuracy = float(m.group(1)) if m else None
    params = re.findall(r"([a-z_0-9]+) (?:<=|>)", best["conditions"])
    return {"accuracy": accuracy, "n": int(best["n"]), "share": float(best["share_reaching_threshold"]),
            "parameters": sorted(set(params)), "plain": _plain_rule(best["conditions"])}


def _plain_rule(rule: str) -> str:
    def one(m: re.Match) -> str:
        return f"{param_label(m.group(1))} {'at most' if m.group(2) == '<=' else 'above'} {num(float(m.group(3)))}"
    return re.sub(r"([a-z_0-9]+) (<=|>) ([-0-9.e]+)", one, rule)


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
        why = (f"{_upper_first(param_label(pair[0]))} is the local context ranked highest; no other local context "
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
    facts = _facts(s)
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


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return f"{type(err).__name__}: {text.splitlines()[0]}" if text else type(err).__name__


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
        raise ReportError(f"{folder}: the study's tables are damaged or incomplete ({_first_line(err)}); "
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
