"""Every number quoted in docs/teaching.md: its tables, made from model runs (seed 7 as in the app, and the mean of
seeds 0-9).

    .venv/bin/python scripts/teaching_numbers.py            # print the tables
    .venv/bin/python scripts/teaching_numbers.py --write    # put them into docs/teaching.md
    .venv/bin/python scripts/teaching_numbers.py --check    # exit 1 if the guide's tables differ

In the guide each table sits between ``<!-- numbers: NAME -->`` and ``<!-- /numbers -->``. The seed-7 columns come
from :class:`~sim.model.alliance.AllianceModel` (what the app runs), the ten-seed column from the core
(:func:`sim.simulate`, equal to the Mesa model to 1e-9). ``tests/test_app.py`` checks the guide against these
runs, and a browser test reproduces every seed-7 number by driving the app as the exercise says (preset, switches,
sliders at an end, a live shock at its month) and reading its figures table.
"""

from __future__ import annotations

import argparse
import functools
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from sim import Params, simulate
from sim.model.alliance import AllianceModel

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "teaching.md"
SCENARIO_DIR = ROOT / "sim" / "conf" / "scenario"
SEED = 7  # the app's seed
SEEDS = list(range(10))


@dataclass(frozen=True)
class Scenario:
    """What a student sets in the app: a preset, changes to controls, and shocks pressed during the run (each
    ``kind@month=value`` is pressed when the runs show month ``month - 1``)."""

    preset: str
    changes: tuple[tuple[str, Any], ...] = ()  # (parameter, value): a switch off, or a slider moved to an end
    shocks: tuple[str, ...] = ()

    def params(self) -> Params:
        doc = yaml.safe_load((SCENARIO_DIR / f"{self.preset}.yaml").read_text()) or {}
        base = {**Params().to_dict(), **(doc.get("params") or {}), **dict(self.changes)}
        return Params.from_dict({**base, "events": (*base.get("events", ()), *self.shocks)})


@dataclass(frozen=True)
class Row:
    label: str
    scenario: Scenario
    outcome: str
    mode: str = "alliance"


@dataclass(frozen=True)
class Table:
    months: tuple[int, ...]
    rows: tuple[Row, ...]


DEFAULT = Scenario("default")
TALKING_SHOP = Scenario("no_senior_buy_in")
SHOCK = Scenario("default", shocks=("leadership_change@25=0.1",))
TABLES: dict[str, Table] = {
    "why-slowly": Table((0, 12, 24, 60), (
        Row("fragmentation, alliance", DEFAULT, "fragmentation"),
        Row("fragmentation, traditional", DEFAULT, "fragmentation", "traditional"),
        Row("governance cost, alliance", DEFAULT, "governance_cost"),
        Row("governance cost, traditional", DEFAULT, "governance_cost", "traditional"),
        Row("access, alliance", DEFAULT, "access"),
        Row("access, traditional", DEFAULT, "access", "traditional"),
        Row("fragmentation, alliance with theory A (IPT1, IPT2) off", Scenario("default", (("disabled", ("A",)),)),
            "fragmentation"),
        Row("fragmentation, alliance, preset Simple needs", Scenario("simple_needs"), "fragmentation"),
        Row("fragmentation, traditional, preset Simple needs", Scenario("simple_needs"), "fragmentation",
            "traditional"),
    )),
    "talking-shop": Table((0, 12, 24, 60), (
        Row("trust between providers, alliance", TALKING_SHOP, "mean_trust"),
        Row("trust between providers, traditional", TALKING_SHOP, "mean_trust", "traditional"),
        Row("low-effort providers, alliance", TALKING_SHOP, "low_effort"),
        Row("governance cost, alliance", TALKING_SHOP, "governance_cost"),
        Row("fragmentation, alliance", TALKING_SHOP, "fragmentation"),
        Row("fragmentation, traditional", TALKING_SHOP, "fragmentation", "traditional"),
        Row("value for money, alliance", TALKING_SHOP, "value"),
        Row("value for money, traditional", TALKING_SHOP, "value", "traditional"),
        Row("fragmentation, alliance, Default context with IPT6 off", Scenario("default", (("disabled", ("IPT6",)),)),
            "fragmentation"),
        Row("fragmentation, alliance, No senior buy-in with monitoring 1",
            Scenario("no_senior_buy_in", (("monitoring", 1.0),)), "fragmentation"),
    )),
    "leadership-shock": Table((24, 30, 36, 48, 60), (
        Row("trust between providers, alliance, no shock", DEFAULT, "mean_trust"),
        Row("trust between providers, alliance, shock in month 25", SHOCK, "mean_trust"),
        Row("commitment to joint working, alliance, shock", SHOCK, "mean_commitment"),
        Row("low-effort providers, alliance, shock", SHOCK, "low_effort"),
        Row("fragmentation, alliance, no shock", DEFAULT, "fragmentation"),
        Row("fragmentation, alliance, shock", SHOCK, "fragmentation"),
        Row("fragmentation, traditional, no shock", DEFAULT, "fragmentation", "traditional"),
        Row("fragmentation, traditional, shock", SHOCK, "fragmentation", "traditional"),
    )),
    "journey": Table((60,), (
        Row("handoffs between providers (per episode), alliance", DEFAULT, "handoffs"),
        Row("handoffs between providers (per episode), traditional", DEFAULT, "handoffs", "traditional"),
        Row("gaps in care (share of handoffs lost), alliance", DEFAULT, "gaps"),
        Row("gaps in care, traditional", DEFAULT, "gaps", "traditional"),
        Row("duplication (share of completed handoffs assessed again), alliance", DEFAULT, "duplication"),
        Row("duplication, traditional", DEFAULT, "duplication", "traditional"),
        Row("systemic change (later parts kept), alliance", DEFAULT, "systemic_change"),
        Row("systemic change, traditional", DEFAULT, "systemic_change", "traditional"),
    )),
}


@functools.cache
def _mesa_run(scenario: Scenario, mode: str, months: int) -> pd.DataFrame:
    model = AllianceModel(params=scenario.params().replace(commissioning=mode), seed=SEED)
    model.run(months)
    return model.datacollector.get_model_vars_dataframe()


@functools.cache
def _core_runs(scenario: Scenario, mode: str, month: int) -> Any:
    p = scenario.params().replace(commissioning=mode)
    return simulate([p] * len(SEEDS), SEEDS, steps=month, keep=[month])


def seed7(row: Row, months: tuple[int, ...]) -> list[float]:
    """The row's outcome at each month in the Mesa model with the app's seed: what the app shows."""
    series = _mesa_run(row.scenario, row.mode, max(months))[row.outcome]
    return [float(series.iloc[m]) for m in months]


def ten_seeds(row: Row, month: int) -> float:
    return float(np.mean(_core_runs(row.scenario, row.mode, month)[row.outcome].values[:, 0]))


def table_markdown(name: str) -> str:
    table = TABLES[name]
    head = ["", *(f"month {m}" for m in table.months), f"10 seeds, month {table.months[-1]}"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in table.rows:
        values = [*seed7(row, table.months), ten_seeds(row, table.months[-1])]
        lines.append(f"| {row.label} | " + " | ".join(f"{v:.2f}" for v in values) + " |")
    return "\n".join(lines)


BLOCK = re.compile(r"(<!-- numbers: ([\w-]+) -->\n)(.*?)(<!-- /numbers -->)", re.S)


def guide_tables(text: str) -> dict[str, str]:
    return {m.group(2): m.group(3).strip() for m in BLOCK.finditer(text)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="replace the tables in docs/teaching.md")
    ap.add_argument("--check", action="store_true", help="exit 1 if the guide's tables differ")
    args = ap.parse_args()
    made = {name: table_markdown(name) for name in TABLES}
    text = GUIDE.read_text()
    if args.write:
        GUIDE.write_text(BLOCK.sub(lambda m: m.group(1) + made[m.group(2)] + "\n" + m.group(4), text))
    elif args.check:
        found = guide_tables(text)
        bad = [n for n in TABLES if found.get(n) != made[n]]
        if bad:
            sys.exit(f"docs/teaching.md: tables differ from the model runs: {', '.join(bad)}")
        print("docs/teaching.md: every table matches the model runs")
    else:
        for name, md in made.items():
            print(f"<!-- numbers: {name} -->\n{md}\n<!-- /numbers -->\n")


if __name__ == "__main__":
    main()
