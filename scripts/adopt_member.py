"""Set the registry's defaults to the calibrated ensemble's representative member.

    .venv/bin/python scripts/adopt_member.py results/calibration/<name>      # show the member and the changes
    .venv/bin/python scripts/adopt_member.py results/calibration/<name> --write

The representative member: of the members, those nearest to meeting every calibration target strictly (the
smallest distance, :func:`sim.analysis.calibration.distance`), and of those the one nearest the ensemble's median
in the unit cube of the prior; each value is kept to six significant figures and the rounded set is simulated
again (the battery) to check that it is still a member (every target met give or take the calibration's slack). The defaults are then
what `Params()` runs (the patterns' tests, the app, the teaching guide); studies and briefs run the whole ensemble.
Rewrites the values in ``sim/params/constants.py`` (``Constant("name", value, ...``) and the mechanism
parameters' defaults in ``sim/params/__init__.py``; the ranges are the prior and are not touched.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DIGITS = 6  # significant figures kept (4 moved P5 of one member from 0.0122 to 0.0108)
CONSTANTS = ROOT / "sim" / "params" / "constants.py"
SCHEMA = ROOT / "sim" / "params" / "__init__.py"


def representative(folder: Path) -> tuple[pd.Series, pd.DataFrame]:
    from sim.analysis import calibration as cal
    from sim.analysis.targets import load_targets

    plan = json.loads((folder / "plan.json").read_text())
    dims = [cal.Dimension(**d) for d in plan["prior"]]
    ensemble = pd.read_csv(folder / "ensemble.csv")
    slack = float(plan["settings"]["slack"])
    targets = [t for t in load_targets() if t.role == "calibrate"]
    strict = cal.distance(ensemble, targets)
    pool = ensemble[strict == strict.min()]
    unit = cal.scale_down(pool, dims)
    centre = np.median(cal.scale_down(ensemble, dims), axis=0)
    chosen = pool.iloc[int(np.argmin(((unit - centre) ** 2).sum(axis=1)))]
    names = [d.name for d in dims]
    rounded = pd.DataFrame([{n: float(f"{chosen[n]:.{DIGITS}g}") for n in names}])
    again = cal.battery(rounded, dims, workers=2)
    check = pd.DataFrame({"target": [t.name for t in targets], "range": [t.range_text for t in targets],
                          "member": [chosen[t.quantity] for t in targets],
                          "rounded": [again[t.quantity].iloc[0] for t in targets],
                          "met_rounded": [bool(t.met(again[t.quantity].to_numpy(), slack)[0]) for t in targets],
                          "strictly": [bool(t.met(again[t.quantity].to_numpy())[0]) for t in targets]})
    return rounded.iloc[0], check


def rewrite(values: pd.Series, write: bool) -> list[str]:
    from sim.params import Params

    changes = []
    constants, schema = CONSTANTS.read_text(), SCHEMA.read_text()
    mechanisms = {s.name for s in Params.schema() if s.group == "mechanism"}
    for name, value in values.items():
        text = f"{value:.{DIGITS}g}"
        if name in mechanisms:
            strength = re.compile(rf'(\n    {name}: float = _strength\("IPT\d", "[^"]*")(?:, [-0-9.e]+)?\)')
            plain = re.compile(rf"(\n    {name}: float = _p\()([-0-9.e]+)(,)")
            if strength.search(schema):
                schema = strength.sub(lambda m, t=text: f"{m.group(1)}, {t})", schema, count=1)
            elif plain.search(schema):
                schema = plain.sub(lambda m, t=text: f"{m.group(1)}{t}{m.group(3)}", schema, count=1)
            else:
                raise SystemExit(f"{name}: no default found in {SCHEMA}")
        else:
            pattern = re.compile(rf'(Constant\("{name}", )([-0-9.e]+)(,)')
            if not pattern.search(constants):
                raise SystemExit(f"{name}: no Constant found in {CONSTANTS}")
            constants = pattern.sub(lambda m, t=text: f"{m.group(1)}{t}{m.group(3)}", constants, count=1)
        changes.append(f"{name} = {text}")
    if write:
        CONSTANTS.write_text(constants)
        SCHEMA.write_text(schema)
    return changes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="a finished calibration, results/calibration/<name>")
    parser.add_argument("--write", action="store_true", help="rewrite the registry's defaults")
    args = parser.parse_args()
    values, check = representative(args.folder)
    print(check.to_string(index=False))
    if not check["met_rounded"].all():
        raise SystemExit("the rounded member misses a target; not adopted")
    for line in rewrite(values, args.write):
        print(line)
    print("written" if args.write else "(dry run: --write to rewrite the registry)")


if __name__ == "__main__":
    main()
