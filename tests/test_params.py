"""The parameter schema: declarations, validation and clear errors."""

from __future__ import annotations

import ast
import dataclasses
import functools
from pathlib import Path

import numpy as np
import pytest

from sim import Params
from sim.params import GROUPS, RULE_IDS


def test_schema_declares_every_field_once_with_range_and_meaning():
    specs = Params.schema()
    names = [s.name for s in specs]
    assert names == [f.name for f in dataclasses.fields(Params)]
    assert len(set(names)) == len(names)
    for s in specs:
        assert s.group in GROUPS
        assert s.meaning and s.label, s.name
        assert s.direction in ("", "+", "-"), s.name
        if s.type in (int, float):
            assert s.low < s.high and s.low <= s.default <= s.high, s.name
        elif s.name in ("events", "constants"):
            assert s.default == ()
        else:
            assert s.choices, s.name
        if s.group == "mechanism":  # every mechanism constant has a source or is marked assumed
            assert s.source, s.name
    required = {"need_complexity", "austerity", "place_based", "culture_readiness", "initial_trust",
                "community_confidence", "community_capacity", "community_connectedness", "sector_mix",
                "commissioning", "pooled_share", "senior_commitment", "monitoring", "n_providers",
                "n_localities", "n_domains", "horizon"}
    assert required <= set(names)
    assert {f"{r.lower()}_strength" for r in RULE_IDS} <= set(Params.names("mechanism"))
    assert Params().horizon == 60 and Params().n_providers == 10


def test_defaults_roundtrip_through_dict():
    p = Params(initial_trust=0.3, disabled=["IPT6", "A"])
    assert Params.from_dict(p.to_dict()) == p
    assert p.disabled == ("IPT6", "A")
    assert p.disabled_rules() == {"IPT1", "IPT2", "IPT6"}
    assert p.strength("IPT6") == 0.0 and p.strength("IPT3") == p.ipt3_strength


@pytest.mark.parametrize(
    ("kwargs", "error", "fragments"),
    [
        ({"initial_trust": 1.5}, ValueError, ["initial_trust", "1.5", "[0, 1]"]),
        ({"initial_trust": float("nan")}, ValueError, ["initial_trust", "NaN"]),
        ({"initial_trust": "high"}, TypeError, ["initial_trust", "'high'", "number"]),
        ({"n_providers": 0}, ValueError, ["n_providers", "0", "integer in [2, 100]"]),
        ({"n_providers": 2.5}, TypeError, ["n_providers", "2.5", "integer"]),
        ({"n_providers": True}, TypeError, ["n_providers", "True"]),
        ({"commissioning": "market"}, ValueError, ["commissioning", "'market'", "'alliance'", "'traditional'"]),
        ({"disabled": ("IPT9",)}, ValueError, ["disabled", "IPT9", "IPT1"]),
        ({"disabled": "IPT6"}, TypeError, ["disabled", "tuple"]),
        ({"trust_levle": 0.2}, TypeError, ["trust_levle", "0.2", "initial_trust"]),
        ({"events": "budget_cut@24=0.2"}, TypeError, ["events", "tuple"]),
        ({"events": ("budget_cut@24",)}, ValueError, ["events", "budget_cut", "needs a value", "[0, 0.9]"]),
        ({"events": ("tornado@24=0.2",)}, ValueError, ["events", "unknown kind 'tornado'", "budget_cut"]),
        ({"events": ("budget_cut@70=0.2",)}, ValueError, ["events", "month 70", "outside the horizon", "[1, 60]"]),
        ({"events": ("budget_cut@0=0.2",)}, ValueError, ["events", "month 0", "[1, 60]"]),
        ({"events": ("budget_cut@24=1.5",)}, ValueError, ["events", "1.5", "out of range", "[0, 0.9]"]),
        ({"events": ("budget_cut@24=lots",)}, ValueError, ["events", "'lots'", "not a number"]),
        ({"events": ("provider_exit@12=1",)}, ValueError, ["events", "takes no value"]),
        ({"events": ("leadership change",)}, ValueError, ["events", "not understood", "kind@month=value"]),
        ({"events": (12,)}, TypeError, ["events", "12", "string"]),
        ({"horizon": 12, "events": ("demand_surge@24=0.3",)}, ValueError, ["events", "month 24", "[1, 12]"]),
    ],
)
def test_bad_input_names_field_value_and_allowed(kwargs, error, fragments):
    with pytest.raises(error) as info:
        Params(**kwargs)
    for fragment in fragments:
        assert fragment in str(info.value)


def test_no_silent_clipping_and_numpy_numbers_accepted():
    assert Params(initial_trust=np.float64(0.25)).initial_trust == 0.25
    assert Params(n_providers=np.int64(7)).n_providers == 7
    assert Params(n_providers=7.0).n_providers == 7
    with pytest.raises(ValueError):
        Params(austerity=-0.01)


def test_params_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Params().initial_trust = 0.9  # type: ignore[misc]


def test_docs_tables_are_generated_from_the_code_and_up_to_date():
    from pathlib import Path

    from sim.report.doc_tables import render

    docs = Path(__file__).resolve().parents[1] / "docs"
    for name in ("ODD.md", "theory-map.md"):
        text = (docs / name).read_text()
        assert "BEGIN GENERATED" in text
        assert render(text) == text, f"docs/{name} is stale: run python experiments/make_docs.py"
    odd = (docs / "ODD.md").read_text()
    for spec in Params.schema():
        assert f"`{spec.name}`" in odd


def test_rule_registry_names_real_parameters_and_outcomes():
    from sim import OUTCOMES
    from sim.model.theories import RULE_INFO

    assert [r.id for r in RULE_INFO] == list(RULE_IDS)
    for rule in RULE_INFO:
        assert set(rule.parameters) | set(rule.also_reads) <= set(Params.names()), rule.id
        assert not set(rule.parameters) & set(rule.also_reads), rule.id
        assert set(rule.outcomes) <= set(OUTCOMES), rule.id
        assert f"{rule.id.lower()}_strength" in rule.parameters
    assert {s.rule for s in Params.schema()} <= {"", *RULE_IDS}


@functools.cache
def _local_reads(function: ast.FunctionDef) -> dict[str, set]:
    """The local names of ``function`` bound to a parameter (``x = c.<name>``, or in a tuple assignment)."""
    local: dict[str, set] = {}
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            pairs = [(node.targets[0], node.value)]
            if isinstance(node.targets[0], ast.Tuple) and isinstance(node.value, ast.Tuple):
                pairs = list(zip(node.targets[0].elts, node.value.elts, strict=False))
            for target, value in pairs:
                if isinstance(target, ast.Name) and _read_of_c(value):
                    local.setdefault(target.id, set()).add(_read_of_c(value))
    return local


def _parameters_passed(function: ast.FunctionDef, carried: dict, call: ast.Call) -> list[tuple[int | str, set]]:
    """For each argument of ``call`` (inside ``function``): the parameters it passes on unchanged, as ``c.<name>``,
    a local name bound to one (``x = c.<name>``), or a parameter of ``function`` that its callers pass one to."""
    local = _local_reads(function)

    def reach(expr: ast.expr) -> set:
        if _read_of_c(expr):
            return {_read_of_c(expr)}
        if isinstance(expr, ast.Name):
            return local.get(expr.id, set()) | carried.get((function.name, expr.id), set())
        return set()

    return [*((n, reach(arg)) for n, arg in enumerate(call.args)), *((kw.arg, reach(kw.value)) for kw in call.keywords)]


def _read_of_c(expr: ast.expr) -> str:
    """The parameter ``expr`` reads if it is ``c.<field>`` (a scenario's record, :mod:`sim.model.records`: its
    ``alliance`` field is the ``commissioning`` mode as 1 or 0; ``seed`` is no parameter), else ''."""
    if not (isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and expr.value.id == "c"):
        return ""
    return {"alliance": "commissioning", "seed": ""}.get(expr.attr, expr.attr)


def _called(call: ast.Call) -> str | None:
    return call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", None)


def test_every_parameter_a_phase_passes_to_a_rule_is_listed_in_its_registry_entry():
    """A parameter passed on unchanged to a rule's function or helper (read as ``c.<name>``, possibly through a
    local name or through the parameters of the formulas in between, anywhere in sim/model or sim/engine) is one
    of the rule's ``parameters`` (its context, strength, or a schema field declared with ``rule=<id>``) or
    ``also_reads``, so the theory map and the grouped sensitivity analysis know the rule reads it. A value computed
    from a parameter (``c.a * 2``) is not followed."""
    from sim.model.theories import RULE_INFO

    functions: dict[str, list[ast.FunctionDef]] = {}
    sim = Path(__file__).parents[1] / "sim"
    for path in sorted([*(sim / "model").rglob("*.py"), *(sim / "engine").rglob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef):
                functions.setdefault(node.name, []).append(node)
    calls = [(f, call) for defs in functions.values() for f in defs for call in ast.walk(f)
             if isinstance(call, ast.Call) and _called(call) in functions]
    carried: dict[tuple[str, str], set] = {}  # (function, its parameter) -> parameters its callers pass on
    for _ in range(10):  # until nothing new: a parameter can travel through a few formulas
        before = {key: set(value) for key, value in carried.items()}
        for caller, call in calls:
            for callee in functions[_called(call)]:
                names = [a.arg for a in callee.args.args]
                for where, passed in _parameters_passed(caller, carried, call):
                    name = names[where] if isinstance(where, int) and where < len(names) else where
                    if passed and isinstance(name, str):
                        carried.setdefault((callee.name, name), set()).update(passed)
        if carried == before:
            break
    owner = {f.__name__: rule for rule in RULE_INFO for f in (rule.function, *rule.helpers)}
    missing = set()
    for caller, call in calls:
        rule = owner.get(_called(call))
        if rule is not None:
            for _, passed in _parameters_passed(caller, carried, call):
                missing |= {(name, _called(call), rule.id) for name in passed
                            if name not in (*rule.parameters, *rule.also_reads)}
    assert not missing, "; ".join(
        f"{name} reaches {function} ({rule}): declare it with rule={rule!r} in its _p(...) (sim/params/__init__.py), "
        f"or list it in {rule}'s also_reads (sim/model/theories/__init__.py) if a general mechanism owns it"
        for name, function, rule in sorted(missing))


# --- model constants: data with plausible ranges, overridable per scenario ----------------------------
def test_constants_schema_lists_every_constant_with_range_unit_meaning_and_source():
    registry = Params.constants_schema()
    names = [c.name for c in registry]
    assert len(names) == len(set(names)) >= 100
    for c in registry:
        assert c.low <= c.value <= c.high and c.low < c.high, c.name
        assert c.unit and c.meaning and c.source, c.name
    assert "stake" not in names  # dead constants are gone
    assert Params(constants={"effort_slope": 5.0}).constant("effort_slope") == 5.0
    assert Params().constant("effort_slope") == next(c.value for c in registry if c.name == "effort_slope")


@pytest.mark.parametrize(("value", "error", "words"), [
    ({"no_such_constant": 1.0}, ValueError, ["unknown constant 'no_such_constant'", "constants_schema()"]),
    ({"effort_slop": 4.0}, ValueError, ["did you mean effort_slope"]),
    ({"effort_slope": 100.0}, ValueError, ["Params.constants['effort_slope']=100.0", "out of range", "[2, 8]"]),
    ({"effort_slope": float("nan")}, ValueError, ["out of range"]),
    ({"effort_slope": "4"}, TypeError, ["wrong type"]),
    ("effort_slope=4", TypeError, ["must be a mapping"]),
    ({"experience_weight_access": 0.35, "experience_weight_voice": 0.3}, ValueError, ["must be at most 1"]),
])
def test_a_bad_constant_is_one_clear_error(value, error, words):
    with pytest.raises(error) as info:
        Params(constants=value)
    for word in words:
        assert word in str(info.value), (word, str(info.value))


def test_constants_are_stored_sorted_and_hashable():
    p = Params(constants={"voice": 0.6, "effort_slope": 5})
    assert p.constants == (("effort_slope", 5.0), ("voice", 0.6))
    assert hash(p) == hash(Params(constants=[("voice", 0.6), ("effort_slope", 5.0)]))


def test_every_constant_is_read_by_the_model_and_every_read_is_registered():
    """No dead constant (like the old STAKE), and no formula reads a constant the registry does not hold."""
    import re
    from pathlib import Path

    from sim.model import constants as kc

    users = kc.constant_users()
    assert all(users.values()), [name for name, found in users.items() if not found]
    sim = Path(__file__).resolve().parents[1] / "sim"
    read = {m for folder in ("model", "engine") for path in (sim / folder).rglob("*.py")
            for m in re.findall(r"\bkc\.([A-Z][A-Z0-9_]*)", path.read_text())}
    derived = {"GATE_LOW", "GATE_HIGH", "ROW_LENGTH", "N_CONSTANTS", "NAME"}  # kc.NAME: the docstrings' example
    assert read - derived <= {n.upper() for n in users}, read - derived - {n.upper() for n in users}
