"""The per-scenario records the month's phases read, generated from the parameter schema and the rule list.

Each phase (:mod:`sim.model.phases`) reads a scenario's parameters as ``c.<name>[s]`` and the rules' responses as
``r.<rule>[s]``: one array per field, one value per scenario. The Mesa model builds records of one scenario, the
compiled run (:mod:`sim.engine.batch`) of a batch, with the same functions. The fields are generated, so a new
parameter in the schema (:class:`sim.params.Params`) is in the record with no edit here.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Mapping

import numpy as np

from sim.engine.compiled import formula
from sim.params import RULE_IDS, Params

__all__ = ["Scenarios", "Responses", "ScenarioRow", "ResponseRow", "scenario_record", "response_record",
           "scenario_row", "response_row"]

#: A batch's parameters: ``seed`` (uint64), ``alliance`` (1.0 or 0.0) and every numeric parameter, as floats.
Scenarios = namedtuple("Scenarios", ("seed", "alliance", *Params.numeric_names()))
#: How strongly each programme theory's rule responds (:func:`sim.model.month.rule_responses`).
Responses = namedtuple("Responses", tuple(rule.lower() for rule in RULE_IDS))


def scenario_record(columns: Mapping[str, np.ndarray], seeds: np.ndarray) -> Scenarios:
    """The record of ``S`` scenarios from their parameter columns ``(S,)`` (with ``alliance`` as 0/1) and seeds."""
    f = np.ascontiguousarray
    return Scenarios(f(seeds, dtype=np.uint64), *(f(columns[name], dtype=float) for name in Scenarios._fields[1:]))


def response_record(responses: Mapping[str, np.ndarray]) -> Responses:
    """The record of the rules' responses ``(S,)``, from :func:`sim.model.month.rule_responses`."""
    return Responses(*(np.ascontiguousarray(responses[rule], dtype=float) for rule in RULE_IDS))


#: One scenario's parameters (numbers), as the phases read them: ``c.monitoring``.
ScenarioRow = namedtuple("ScenarioRow", Scenarios._fields)
#: One scenario's rule responses (numbers): ``r.ipt6``.
ResponseRow = namedtuple("ResponseRow", Responses._fields)


def _row_function(name: str, record: type, row: type) -> object:
    """A function ``name(batch, s)`` returning row ``s`` of a batch record as a ``row`` of numbers, written out
    field by field (generated, so a new field needs no edit; compiled code can build it, and keeps its numbers
    in registers while a scenario runs)."""
    source = (f"def {name}(batch, s):\n    return {row.__name__}("
              + ", ".join(f"batch.{field}[s]" for field in record._fields) + ")\n")
    namespace: dict = {row.__name__: row}
    exec(compile(source, f"<generated {name}>", "exec"), namespace)  # noqa: S102 - from the schema's own names
    function = namespace[name]
    function.__module__ = __name__
    function.__doc__ = f"Row ``s`` of a batch's :class:`{record.__name__}` as a :class:`{row.__name__}` of numbers."
    return formula(function)


scenario_row = _row_function("scenario_row", Scenarios, ScenarioRow)
response_row = _row_function("response_row", Responses, ResponseRow)
