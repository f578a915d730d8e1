"""Set the registry's defaults to the calibrated ensemble's representative member.

    .venv/bin/python scripts/adopt_member.py results/calibration/<name>      # show the member and the changes
    .venv/bin/python scripts/adopt_member.py results/calibration/<name> --write

The representative member: of the members, those nearest to meeting every calibration target strictly (the smallest
distance, :func:`sim.analysis.calibration.distance`), and of those the one nearest the ensemble's median in the unit
cube of the prior; each value is rounded (a schema parameter to its slider's grid, a constant to six significant
figures) and the rounded set is simulated again (the battery) to check that it is still a member (every target met
give or take the calibration's slack).
``--patterns`` first checks the patterns the tests assert with each member as the defaults (the battery is noisier
than they are); ``--member N`` then adopts a member that meets them. The defaults are then
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


def patterns_of_members(members: pd.DataFrame, keys: tuple[str, ...] = ("P1", "P2", "P3", "P4", "P5", "P6", "P7",
                                                                         "P8", "P9")) -> pd.DataFrame:
    """The asserted patterns (``tests/test_patterns.py``, at its fast sizes) with each member as the defaults:
    the battery is noisier than the patterns (8 seeds per end of a context for P5, against 60), so a member can
    meet a target by chance in the battery and miss it at the patterns' sizes. A screen, not the check: P4 runs a
    table of uniform contexts (``context_sample``), which takes the registry's values, not the member's; run
    ``experiments/patterns.py`` (and ``--evidence``) again after ``--write``."""
    import sim.analysis.patterns as pat
    from sim.analysis.calibration import member_params
    from sim.params import Params

    rows = []
    original = pat.Params
    try:
        for i, (_, unrounded) in enumerate(members.iterrows()):
            row = pd.Series({n: on_grid(n, float(v)) for n, v in unrounded.items()})  # as it would be adopted

            class Member(Params):  # Params() inside the pattern functions: this member
                def __new__(cls, *args, _row=row, **kwargs):
                    return member_params(_row, Params(*args, **kwargs))

            pat.Params = Member
            results = [pat.PATTERNS[k](pat.Sizes.fast(), 2) for k in keys]
            rows.append({"member": i, **{k: r.measured for k, r in zip(keys, results, strict=True)},
                         "passed": sum(r.passed for r in results), "of": len(keys)})
            print(rows[-1], flush=True)
    finally:
        pat.Params = original
    return pd.DataFrame(rows)


def on_grid(name: str, value: float) -> float:
    """A member's value as a default: a schema parameter on its slider's grid (the app's sliders snap to it, so
    an off-grid default would change as soon as it is shown), a registry constant to ``DIGITS`` figures."""
    from sim.app.teaching import slider_step
    from sim.params import Params

    spec = {s.name: s for s in Params.schema()}.get(name)
    if spec is None:
        return float(f"{value:.{DIGITS}g}")
    step = slider_step(spec)
    return float(f"{spec.low + round((value - spec.low) / step) * step:.10g}")


def representative(folder: Path, member: int | None = None) -> tuple[pd.Series, pd.DataFrame]:
    from sim.analysis import calibration as cal
    from sim.analysis.targets import load_targets

    plan = json.loads((folder / "plan.json").read_text())
    dims = [cal.Dimension(**d) for d in plan["prior"]]
    ensemble = pd.read_csv(folder / "ensemble.csv")
    slack = float(plan["settings"]["slack"])
    targets = [t for t in load_targets() if t.role == "calibrate"]
    strict = cal.distance(ensemble, targets, min(slack, 0.0))  # with a margin (slack < 0): the deepest inside
    pool = ensemble[strict == strict.min()]
    unit = cal.scale_down(pool, dims)
    centre = np.median(cal.scale_down(ensemble, dims), axis=0)
    chosen = pool.iloc[int(np.argmin(((unit - centre) ** 2).sum(axis=1)))] if member is None else \
        ensemble.iloc[member]
    names = [d.name for d in dims]
    rounded = pd.DataFrame([{n: on_grid(n, float(chosen[n])) for n in names}])
    again = cal.battery(rounded, dims, cal.BatterySizes(**plan["settings"]["battery"]), workers=2)
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
    parser.add_argument("--patterns", action="store_true",
                        help="check the asserted patterns with each member as the defaults, then stop")
    parser.add_argument("--member", type=int, default=None,
                        help="adopt this member (a row of the folder's ensemble.csv) instead of the median-nearest")
    args = parser.parse_args()
    if args.patterns:
        print(patterns_of_members(pd.read_csv(args.folder / "ensemble.csv")).to_string(index=False))
        return
    values, check = representative(args.folder, args.member)
    print(check.to_string(index=False))
    if not check["met_rounded"].all():
        raise SystemExit("the rounded member misses a target; not adopted")
    for line in rewrite(values, args.write):
        print(line)
    print("written" if args.write else "(dry run: --write to rewrite the registry)")


if __name__ == "__main__":
    main()
