"""A two-page brief for one locality (:mod:`sim.analysis.assess`): plain words for a council's commissioner.

Every number in the text comes from the :class:`~sim.analysis.assess.Assessment`, rounded to whole percentages
(the intervals are wider than that); method words are kept to one closing paragraph.
"""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

import numpy as np

from sim.analysis.assess import Assessment

_CSS = """
@page { size: A4; margin: 16mm 16mm 14mm 16mm; }
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 10.5pt; line-height: 1.38; color: #111; }
h1 { font-size: 17pt; margin: 0 0 4px 0; } h2 { font-size: 12.5pt; margin: 14px 0 4px 0; }
.lead { font-size: 11.5pt; } ul { margin: 4px 0 4px 18px; padding: 0; } li { margin-bottom: 3px; }
table { border-collapse: collapse; font-size: 9.5pt; } td, th { padding: 2px 8px; border-bottom: 1px solid #ccc;
text-align: left; } .small { font-size: 8.5pt; color: #444; } img { width: 100%; max-width: 15cm; }
"""


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def fragmented(reduction: float) -> str:
    """A relative fragmentation reduction in words: "12% less fragmented", or "4% more fragmented" where the
    alliance does worse (a negative reduction)."""
    return f"{_pct(abs(reduction))} {'less' if reduction >= 0 else 'more'} fragmented"


def _figure(a: Assessment) -> str:
    """The alliance's fragmentation advantage by month: median and 90 % band over the model versions."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 2.6), dpi=110)
    fig.subplots_adjust(left=0.1, right=0.98, bottom=0.2, top=0.88)
    ax = fig.subplots()
    months = np.arange(a.curves.shape[1])
    ax.fill_between(months, np.quantile(a.curves, 0.05, axis=0), np.quantile(a.curves, 0.95, axis=0),
                    color="#56B4E9", alpha=0.4, lw=0, label="90% of model versions")
    ax.plot(months, np.median(a.curves, axis=0), color="#0072B2", lw=2, label="typical")
    ax.axhline(0, color="0.3", lw=0.8)
    ax.set_xlabel("months after the alliance starts")
    ax.set_ylabel("fewer fragmented\nhandoffs (points)")
    ax.set_title("How much less fragmented care is under the alliance than under separate contracts", fontsize=9)
    ax.legend(fontsize=8, frameon=False, loc="upper left")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return base64.b64encode(buffer.getvalue()).decode()


def statements(a: Assessment) -> list[str]:
    """The brief's plain statements, each from the assessment's numbers."""
    five, two = a.reduction["5 years"], a.reduction["2 years"]
    spread = (f"from {fragmented(five['low'])} to {fragmented(five['high'])} across the versions of the model the "
              "evidence allows" if a.members > 1 else "one version of the model only: no calibrated ensemble, so "
              "the model's own uncertainty is not shown")
    out = [f"After five years an alliance is expected to make care about <b>{fragmented(five['mean'])}</b> than "
           f"separate contracts here ({spread}). After two years: about {fragmented(two['mean'])}."]
    if a.chance_worse >= 0.005:
        out.append(f"In <b>{_pct(a.chance_worse)}</b> of the simulated futures the alliance did worse than "
                   "separate contracts after five years.")
    else:
        out.append("In none of the simulated futures did the alliance do worse than separate contracts after five "
                   "years.")
    m = a.months_to_most
    if np.isfinite(m["median"]):
        between = f" (between {m['low']:.0f} and {m['high']:.0f})" if m["high"] > m["low"] else ""
        out.append(f"It takes time: most of the effect arrives after about <b>{m['median']:.0f} months</b>"
                   f"{between}.")
    top = a.sensitivity.head(3)
    parts = [f"{html.escape(r.label.lower())} ({'higher' if r.change_per_step > 0 else 'lower'} helps: "
             f"{abs(100 * r.change_per_step):.0f} points per 0.2)" for r in top.itertuples()]
    out.append("What would change the answer most here: " + "; ".join(parts) + ".")
    best = a.lever_effects.loc[a.lever_effects.groupby("lever")["reduction_5y"].idxmax()]
    parts = [f"{html.escape(r.label.lower())} at {r.value:g} ({_pct(r.reduction_5y)} after five years)"
             for r in best.sort_values("reduction_5y", ascending=False).itertuples()]
    out.append("Of the choices you control, these did best: " + "; ".join(parts) + ".")
    return out


def brief_html(a: Assessment, name: str) -> str:
    from sim.params import Params

    def label(key: str) -> str:
        return html.escape(Params.spec(key).label)

    given = "".join(f"<tr><td>{label(k)}</td><td>{v:g}</td><td>given</td></tr>" for k, v in a.given.items())
    assumed = "".join(f"<tr><td>{label(k)}</td><td>{v:g}</td><td>assumed (typical)</td></tr>"
                      for k, v in a.assumed.items())
    items = "".join(f"<li>{s}</li>" for s in statements(a))
    rows = "".join(f"<tr><td>{html.escape(r.label)}</td><td>{r.now:g}</td>"
                   f"<td>{100 * r.change_per_step:+.0f}</td></tr>" for r in a.sensitivity.itertuples())
    levers = "".join(f"<tr><td>{html.escape(r.label)}</td><td>{r.value:g}</td><td>{_pct(r.reduction_5y)}</td></tr>"
                     for r in a.lever_effects.itertuples())
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Would an alliance work here? {
html.escape(name)}</title><style>{_CSS}</style></head><body>
<h1>Would an alliance work here? {html.escape(name)}</h1>
<p class="lead">What the alliance simulator expects for a locality with the context below, compared with
commissioning the same services through separate contracts.</p>
<h2>What this means for you</h2><ul>{items}</ul>
<img src="data:image/png;base64,{_figure(a)}" alt="The alliance's reduction of fragmented care by month: it starts
near zero, grows over the first years and levels off; the shaded band shows the range across model versions.">
<h2>Your locality</h2>
<table><tr><th>context</th><th>value</th><th></th></tr>{given}{assumed}</table>
<h2>What would change the answer</h2>
<p>Change of the five-year reduction (percentage points) if each context were 0.2 higher here:</p>
<table><tr><th>context</th><th>here</th><th>points per 0.2</th></tr>{rows}</table>
<h2>Choices you control</h2>
<table><tr><th>choice</th><th>set to</th><th>reduction after five years</th></tr>{levers}</table>
<h2>How sure this is</h2>
<p class="small">Every figure is the mean over {a.members} versions of the model ({html.escape(a.ensemble)})
with {a.seeds} simulated futures each; ranges are the middle 90% of the versions. Fragmentation counts lost
handoffs, repeated assessments and changes of provider in sampled care pathways; traditional commissioning's level
here is {a.traditional_level:.2f}. The model is a tool for thinking, built from a realist synthesis of alliancing
(Redgate et al. 2023, Eur J Public Health 33(1):49-55), not a forecast; contexts you did not give were set to
typical values and are marked as assumed.</p>
</body></html>"""


def write_brief(a: Assessment, folder: str | Path, name: str) -> tuple[Path, Path]:
    """``brief.html``, ``brief.pdf`` and the numbers behind them (``assessment.json``, ``sensitivity.csv``,
    ``levers.csv``) into ``folder``."""
    import logging

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    text = brief_html(a, name)
    (folder / "brief.html").write_text(text, encoding="utf-8")
    numbers = {"given": a.given, "assumed": a.assumed, "members": a.members, "seeds": a.seeds,
               "ensemble": a.ensemble, "reduction": a.reduction, "chance_worse": a.chance_worse,
               "months_to_most": a.months_to_most, "traditional_level": a.traditional_level}
    (folder / "assessment.json").write_text(json.dumps(numbers, indent=1))
    a.sensitivity.to_csv(folder / "sensitivity.csv", index=False)
    a.lever_effects.to_csv(folder / "levers.csv", index=False)
    for noisy in ("weasyprint", "fontTools"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    from weasyprint import HTML

    HTML(string=text, base_url=str(folder)).write_pdf(folder / "brief.pdf", pdf_tags=True)
    return folder / "brief.html", folder / "brief.pdf"
