"""Tables in ``docs/`` generated from the code (the parameter schema, the rule registry, the outcomes),
so the documentation cannot drift from the model. ``python experiments/make_docs.py`` rewrites them;
a test fails when they are stale."""

from __future__ import annotations

import re
from pathlib import Path

from sim.outcomes import OUTCOMES
from sim.params import Params
from sim.theories import RULE_INFO

THEORY_NAMES = {"A": "A: system level", "B": "B: local focus", "C": "C: culture"}


def parameter_table() -> str:
    """Markdown table of every parameter: group, type, default, allowed values, unit, meaning."""
    rows = ["| parameter | group | type | default | allowed | unit | meaning |", "|---|---|---|---|---|---|---|"]
    for s in Params.schema():
        allowed = ", ".join(map(str, s.choices)) if s.choices else f"[{s.low:g}, {s.high:g}]"
        default = ", ".join(s.default) or "(none)" if isinstance(s.default, tuple) else f"{s.default}"
        rows.append(f"| `{s.name}` | {s.group} | {s.type.__name__} | {default} | {allowed} | {s.unit} | {s.meaning} |")
    return "\n".join(rows)


def theory_map_table() -> str:
    """Markdown table IPT -> rule -> parameters -> outcomes, from :data:`sim.theories.RULE_INFO`."""
    rows = ["| IPT | middle-range theory | rule | parameters | outcomes |", "|---|---|---|---|---|"]
    for r in RULE_INFO:
        module = r.function.__module__
        rows.append(f"| {r.id} {r.title} | {THEORY_NAMES[r.theory]} | `{module}.{r.function.__name__}` | "
                    + ", ".join(f"`{p}`" for p in r.parameters) + " | "
                    + ", ".join(f"`{o}`" for o in r.outcomes) + " |")
    return "\n".join(rows)


def outcome_table() -> str:
    rows = ["| outcome | meaning |", "|---|---|"]
    rows += [f"| `{name}` | {meaning} |" for name, meaning in OUTCOMES.items()]
    return "\n".join(rows)


GENERATORS = {"parameters": parameter_table, "theory-map": theory_map_table, "outcomes": outcome_table}


def render(text: str) -> str:
    """Replace every ``<!-- BEGIN GENERATED: name -->...<!-- END GENERATED: name -->`` block."""
    def fill(match: re.Match) -> str:
        name = match.group(1)
        return f"<!-- BEGIN GENERATED: {name} -->\n{GENERATORS[name]()}\n<!-- END GENERATED: {name} -->"

    return re.sub(r"<!-- BEGIN GENERATED: ([\w-]+) -->.*?<!-- END GENERATED: \1 -->", fill, text, flags=re.S)


def update(paths: list[Path]) -> list[Path]:
    """Rewrite the generated blocks of ``paths``; returns the files that changed."""
    changed = []
    for path in paths:
        old = path.read_text()
        new = render(old)
        if new != old:
            path.write_text(new)
            changed.append(path)
    return changed
