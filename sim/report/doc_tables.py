"""Tables in ``docs/`` generated from the code (the parameter schema, the rule registry, the outcomes),
so the documentation cannot drift from the model. ``python experiments/make_docs.py`` rewrites them;
a test fails when they are stale."""

from __future__ import annotations

import re
from pathlib import Path

from sim.model.outcomes import OUTCOME_REGISTRY
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
        elif s.name == "constants":
            allowed = "{name: value}, each in its range (section 7.10)"
        else:
            allowed = ", ".join(map(str, s.choices)) if s.choices else f"[{s.low:g}, {s.high:g}]"
        default = ", ".join(s.default) or "(none)" if isinstance(s.default, tuple) else f"{s.default}"
        rows.append(f"| `{s.name}` | {s.group} | {s.label} | {default} | {allowed} | {s.unit} | {s.direction} | "
                    f"{s.source} | {s.meaning} |")
    return "\n".join(rows)


def constants_table() -> str:
    """Markdown table of every model constant, from the registry (:meth:`sim.Params.constants_schema`): value,
    plausible range, unit, meaning, source, and the functions that read it (found in the source)."""
    rows = ["| constant | value | plausible range | unit | meaning | source | used by |",
            "|---|---|---|---|---|---|---|"]
    from sim.model.constants import constant_users

    users = constant_users()
    for c in Params.constants_schema():
        used = ", ".join(f"`{u}`" for u in users[c.name])
        rows.append(f"| `{c.name}` | {c.value:g} | [{c.low:g}, {c.high:g}] | {c.unit} | {c.meaning} | {c.source} | "
                    f"{used} |")
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
                    + ", ".join(f"`{p}`" for p in r.parameters)
                    + ("; also the general " + ", ".join(f"`{p}`" for p in r.also_reads) if r.also_reads else "")
                    + " | "
                    + ", ".join(f"`{o}`" for o in r.outcomes) + " |")
    return "\n".join(rows)


def outcome_table() -> str:
    """Markdown table of the outcome registry: name, plain label, direction, formula, meaning."""
    rows = ["| outcome | label | direction | formula | meaning |", "|---|---|---|---|---|"]
    rows += [f"| `{o.name}` | {o.label} | {o.direction} | {o.formula} | {o.meaning} |" for o in OUTCOME_REGISTRY]
    return "\n".join(rows)


def _docstring_table(module) -> str:
    """The markdown table in a module's docstring (its lines starting with ``|``)."""
    return "\n".join(line for line in inspect_doc(module).splitlines() if line.startswith("|"))


def patterns_table() -> str:
    """The patterns and their targets (the measured values come from ``experiments/patterns.py``)."""
    from sim.analysis import patterns

    return _docstring_table(patterns)


def evidence_patterns_table() -> str:
    """The evidence patterns and their targets (measured by ``experiments/patterns.py --evidence``)."""
    from sim.analysis import evidence_patterns

    return _docstring_table(evidence_patterns)


def targets_table() -> str:
    """Every calibration target as the targets file states it (``sim/conf/calibration/targets.yaml``)."""
    from sim.analysis.targets import load_targets

    rows = ["| target | quantity | range | tolerance | role | source |", "|---|---|---|---|---|---|"]
    rows += [f"| {t.name} | {t.pattern} (`{t.quantity}`) | {t.range_text} | {t.tolerance:g} | {t.role} | {t.source} |"
             for t in load_targets()]
    return "\n".join(rows)


#: The ODD's initialisation and submodels (sections 5-7.8), written with ``{{constant}}`` where a registry
#: constant's value goes, so the docs follow the registry when constants are changed or calibrated.
SUBMODELS_TEMPLATE = Path(__file__).resolve().parents[2] / "docs" / "_templates" / "submodels.md"


def submodels_text() -> str:
    """The ODD's sections 5-7.8 with every ``{{name}}`` replaced by the registry's value of constant ``name``
    (an unknown name is an error naming it and the template)."""
    from sim.params.constants import CONSTANTS

    values = {c.name: c.value for c in CONSTANTS}

    def value(match: re.Match) -> str:
        name = match.group(1)
        if name not in values:
            raise KeyError(f"{SUBMODELS_TEMPLATE}: {{{{{name}}}}} is not a registry constant")
        return f"{values[name]:g}"

    return re.sub(r"\{\{(\w+)\}\}", value, SUBMODELS_TEMPLATE.read_text()).rstrip("\n")


def inspect_doc(module) -> str:
    import inspect

    return inspect.getdoc(module) or ""


GENERATORS = {"parameters": parameter_table, "theory-map": theory_map_table, "outcomes": outcome_table,
              "constants": constants_table, "patterns": patterns_table,
              "evidence-patterns": evidence_patterns_table, "submodels": submodels_text,
              "targets": targets_table}


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
