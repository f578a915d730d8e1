"""Every number the report's prose quotes, with the text shown and the table it came from (so tests can hold the
prose to the CSVs), and the prose itself: page 1 for commissioners and the summary."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from sim.analysis.sensitivity import parse_effect
from sim.params import Params
from sim.report.folder import Study, factor_record
from sim.report.words import (
    CONVERGENCE_GUIDE,
    SIGNIFICANT_QP,
    effect_label,
    join_words,
    num,
    outcome_label,
    param_label,
    pct,
    plain_rule,
    small_pct,
    span,
    upper_first,
    variant_label,
)
from sim.sweeps.paired import interval

__all__ = ["summary_facts"]



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
    return study_facts(Study.open(folder))


def study_facts(s: Study) -> dict[str, Any]:
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
    ranking = [factor_record(r["parameter"], r) for _, r in s.sobol(primary).iterrows()]
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
            names = join_words([f"{r['label']} ({num(r['ST'])})" for r in others])
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
        lead += f" {upper_first(join_words(weak))} made little difference (index below 0.05)."
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
        theory_parts.append(f"Switching off {join_words(['IPT ' + v[3:] for v in none])} changed nothing here: in the "
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
            sure.append(f"A decision tree, as a cross-check, picked out {join_words([param_label(p) for p in shared])} "
                        "too.")
        else:
            sure.append("A second method (a decision tree) described the region differently; see the appendix.")
    facts["other_outcomes"] = []
    for other in s.outcomes[1:]:
        ranked = s.sobol(other)
        if len(ranked):
            facts["other_outcomes"].append({**factor_record(ranked["parameter"].iloc[0], ranked.iloc[0]),
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
        elif not (isinstance(r.get("restricted"), str) and r["restricted"].strip()):  # a box that cuts nothing
            sentence = (f"The alliance {what} than traditional commissioning in {share} of the places simulated, "
                        "spread across the ranges studied: no one region of the contexts concentrates it.")
        else:
            density = q(f"{question}_density", r["density"], pct(r["density"]),
                        f"failure_regions.csv: density of {question} box 1")
            sentence = (f"The alliance {what} than traditional commissioning in {share} of the places simulated, "
                        f"mostly in places with {r['plain']}; there it did worse in {density} of places.")
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
        model_note += (("The direction or rank of " + join_words([r["label"] for r in unsure]) + " changed between "
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
                      "plain": join_words([c["text"] for c in main]),
                      "clause": join_words([c["clause"] for c in main])})
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
            "parameters": sorted(set(params)), "plain": plain_rule(best["conditions"])}


