"""Time-varying scenarios: events that change the world at a given month.

An event is a string ``kind@month=value`` (``provider_exit@month`` takes no value), e.g.
``("budget_cut@24=0.2", "leadership_change@36=0.1", "provider_exit@48", "demand_surge@60=0.3")``.
They are set with ``Params(events=...)`` or from Hydra (``params.events=[budget_cut@24=0.2]``) and act
identically in the Mesa model and the vectorised core, which both read the per-month arrays of
:func:`event_schedule`.

- ``budget_cut``: the real budget falls by the share ``value`` (0-1) from that month on; cuts compound.
- ``leadership_change``: senior commitment (IPT6's resource) becomes ``value`` (0-1), e.g. a new chief
  executive who does not back the alliance, or one who does.
- ``provider_exit``: a provider leaves; its contract is re-let to a newcomer with no relationships
  (trust at the stranger level, fresh commitment and practices). Which provider is a draw keyed by
  (seed, month), so both commissioning modes lose the same one.
- ``demand_surge``: need rises by the share ``value`` (0-2) from that month on, e.g. a pandemic.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["EVENT_KINDS", "Event", "check_events", "parse_event", "event_schedule"]

#: Each kind and the values it allows: (low, high) or None for a kind without a value.
EVENT_KINDS: dict[str, tuple[float, float] | None] = {
    "budget_cut": (0.0, 0.9),
    "leadership_change": (0.0, 1.0),
    "provider_exit": None,
    "demand_surge": (0.0, 2.0),
}
_PATTERN = re.compile(r"^\s*([a-z_]+)\s*@\s*(-?\d+)\s*(?:=\s*(\S+))?\s*$")


@dataclass(frozen=True)
class Event:
    kind: str
    month: int
    value: float


def _allowed() -> str:
    kinds = ", ".join(f"{k}@month={lo:g}..{hi:g}" if r else f"{k}@month" for k, r in EVENT_KINDS.items()
                      for lo, hi in [r or (0, 0)])
    return f"'kind@month=value' with kind one of: {kinds}"


def parse_event(text: object, horizon: int) -> Event:
    """One event string, checked: known kind, month in [1, horizon], value in the kind's range."""
    where = f"Params.events: {text!r}"
    if not isinstance(text, str):
        raise TypeError(f"{where}: each event must be a string, {_allowed()}")
    match = _PATTERN.match(text)
    if not match:
        raise ValueError(f"{where}: not understood; must be {_allowed()}")
    kind, month, value = match.group(1), int(match.group(2)), match.group(3)
    if kind not in EVENT_KINDS:
        raise ValueError(f"{where}: unknown kind {kind!r}; allowed kinds: {', '.join(EVENT_KINDS)}")
    if not 1 <= month <= horizon:
        raise ValueError(f"{where}: month {month} is outside the horizon; must be in [1, {horizon}]")
    bounds = EVENT_KINDS[kind]
    if bounds is None:
        if value is not None:
            raise ValueError(f"{where}: {kind} takes no value; write {kind}@{month}")
        return Event(kind, month, 0.0)
    if value is None:
        raise ValueError(f"{where}: {kind} needs a value in [{bounds[0]:g}, {bounds[1]:g}], e.g. {kind}@{month}=0.2")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{where}: value {value!r} is not a number; must be in [{bounds[0]:g}, {bounds[1]:g}]")\
            from None
    if not (bounds[0] <= number <= bounds[1]):  # NaN fails this too
        raise ValueError(f"{where}: value {value} is out of range; {kind} must be in [{bounds[0]:g}, {bounds[1]:g}]")
    return Event(kind, month, number)


def check_events(events: Sequence[str], horizon: int) -> tuple[str, ...]:
    """Validate every event (raising on the first bad one); returns them as a tuple of strings."""
    for text in events:
        parse_event(text, horizon)
    return tuple(events)


def event_schedule(events_per_scenario: Sequence[Sequence[str]], months: int,
                   senior_commitment: np.ndarray) -> dict[str, np.ndarray]:
    """Per-month arrays ``(S, months + 1)`` for a batch of scenarios.

    ``budget`` multiplies the real budget, ``demand`` multiplies need, ``senior`` is the senior
    commitment in force, ``exit`` is 1 in a month a provider leaves. Events past ``months`` are ignored.
    """
    S = len(events_per_scenario)
    budget, demand = np.ones((S, months + 1)), np.ones((S, months + 1))
    senior = np.repeat(np.asarray(senior_commitment, dtype=float)[:, None], months + 1, axis=1)
    exit_ = np.zeros((S, months + 1))
    for s, events in enumerate(events_per_scenario):
        for e in sorted((parse_event(t, 10**9) for t in events), key=lambda e: e.month):
            if e.month > months:
                continue
            if e.kind == "budget_cut":
                budget[s, e.month:] *= 1.0 - e.value
            elif e.kind == "demand_surge":
                demand[s, e.month:] *= 1.0 + e.value
            elif e.kind == "leadership_change":
                senior[s, e.month:] = e.value
            else:
                exit_[s, e.month] = 1.0  # one exit per month; repeats name the same draw
    return {"budget": budget, "demand": demand, "senior": senior, "exit": exit_}
