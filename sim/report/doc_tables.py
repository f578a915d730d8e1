"""Tables in ``docs/`` generated from the code (the parameter schema, the rule registry, the outcomes),
so the documentation cannot drift from the model. ``python experiments/make_docs.py`` rewrites them;
a test fails when they are stale."""

from __future__ import annotations

import re
from pathlib import Path

from sim.model.outcomes import OUTCOMES
from sim.model.theories import RULE_INFO
from sim.params import Params

THEORY_NAMES = {"A": "A: system level", "B": "B: local focus", "C": "C: culture"}


def parameter_table() -> str:
    """Markdown table of every parameter: role, label, default, allowed values, unit, the seed's direction,
    source, meaning."""
    rows = ["| parameter | role | label | default | allowed | unit | direction | source | meaning |",
            "|---|---|---|---|---|---|---|---|---|"]
    for s in Params.schema():
        if s.name == "events":
            allowed = "kind@month=value strings"
        else:
            allowed = ", ".join(map(str, s.choices)) if s.choices else f"[{s.low:g}, {s.high:g}]"
        default = ", ".join(s.default) or "(none)" if isinstance(s.default, tuple) else f"{s.default}"
        rows.append(f"| `{s.name}` | {s.group} | {s.label} | {default} | {allowed} | {s.unit} | {s.direction} | "
                    f"{s.source} | {s.meaning} |")
    return "\n".join(rows)


#: Modules whose constants are listed, and the study parameters through which each module's structural
#: uncertainty is varied (a rule's strength scales every response its constants shape).
CONSTANT_MODULES: dict[str, str] = {
    "sim.model.theories.system": "`ipt1_strength`, `ipt2_strength`",
    "sim.model.theories.local": "`ipt3_strength`, `ipt4_strength`",
    "sim.model.theories.culture": "`ipt5_strength`, `ipt6_strength`, `ipt7_strength`",
    "sim.model.relationships": "`trust_learning_rate`, `negativity_bias`, `free_riding_temptation`, `effort_noise`",
    "sim.model.commissioning": "`coordination_cost`, `own_priorities`, `specialisation_gain`, `monitoring`",
    "sim.model.pathways": "`handoff_loss`, `reassessment`",
    "sim.model.services": "`specialisation_gain`, IPT 3 and 5 strengths",
    "sim.model.world": "structural (initial world); `capacity_ratio`, `sector_mix`, `initial_trust`",
    "sim.model.logistic": "every rule's strength",
}


def constants_table() -> str:
    """Every documented module constant (``#:`` comment above it): value, meaning and source or 'assumed',
    and the study parameters that carry its uncertainty."""
    import importlib
    import inspect

    rows = ["| constant | value | meaning and source | varied through |", "|---|---|---|---|"]
    for module_name, varied in CONSTANT_MODULES.items():
        module = importlib.import_module(module_name)
        lines = inspect.getsource(module).splitlines()
        comment: list[str] = []
        after_assignment = False
        for line in lines:
            if line.startswith("#:"):
                comment = [] if after_assignment else comment
                comment.append(line[2:].strip())
                after_assignment = False
                continue
            match = re.match(r"^([A-Z][A-Z0-9_]*)\s*(?::[^=]*)?=", line)
            if match and comment:  # a comment covers the run of constants below it
                for name in (n.strip() for n in line.split("=")[0].split(":")[0].split(",")):
                    value = getattr(module, name, None)
                    shown = f"{value:g}" if isinstance(value, float) else str(value).replace("|", "/")
                    rows.append(f"| `{module_name.removeprefix('sim.')}.{name}` | {shown} | {' '.join(comment)} | "
                                f"{varied} |")
                after_assignment = True
                continue
            if not line.startswith((" ", ")", "}")):  # a continuation line keeps the run going
                comment, after_assignment = [], False
    return "\n".join(rows)


def theory_map_table() -> str:
    """Markdown table IPT -> rule functions -> context gate -> parameters -> outcomes, from
    :data:`sim.model.theories.RULE_INFO`."""
    rows = ["| IPT | middle-range theory | rule functions | context (gated by) | parameters read | outcomes |",
            "|---|---|---|---|---|---|"]
    for r in RULE_INFO:
        module = r.function.__module__
        functions = ", ".join(f"`{f.__name__}`" for f in (r.function, *r.helpers))
        rows.append(f"| {r.id} {r.title} | {THEORY_NAMES[r.theory]} | `{module}`: {functions} | "
                    + ", ".join(f"`{p}`" for p in r.context) + " | "
                    + ", ".join(f"`{p}`" for p in r.parameters) + " | "
                    + ", ".join(f"`{o}`" for o in r.outcomes) + " |")
    return "\n".join(rows)


def outcome_table() -> str:
    rows = ["| outcome | meaning |", "|---|---|"]
    rows += [f"| `{name}` | {meaning} |" for name, meaning in OUTCOMES.items()]
    return "\n".join(rows)


def patterns_table() -> str:
    """The patterns and their targets (the measured values come from ``experiments/patterns.py``)."""
    from sim.analysis import patterns

    doc = inspect_doc(patterns)
    return "\n".join(line for line in doc.splitlines() if line.startswith("|"))


def inspect_doc(module) -> str:
    import inspect

    return inspect.getdoc(module) or ""


GENERATORS = {"parameters": parameter_table, "theory-map": theory_map_table, "outcomes": outcome_table,
              "constants": constants_table, "patterns": patterns_table}


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
