"""Re-simulate a calibration's near-members with a finer battery: is a missed target the battery's coarseness?

    .venv/bin/python scripts/recheck_candidates.py results/calibration/<name> --missing P10 --contexts 960 --sets 40

Takes the simulated sets of the folder that meet every calibration target strictly except ``--missing``, picks
``--sets`` of them evenly, and runs the battery again at the calibration's sizes but with ``--contexts`` uniform
contexts (a share over contexts, such as P10's least share of failures among about a tenth of them, moves in steps
of one context). Prints how many then meet every target and the missed target's new values. Run it on the code
the calibration ran (the model version is checked).
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd


def main() -> None:
    from sim.analysis import calibration as cal
    from sim.analysis.targets import load_targets

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--missing", required=True, help="the target the near-members miss (e.g. P10)")
    parser.add_argument("--contexts", type=int, default=960, help="uniform contexts in the finer battery")
    parser.add_argument("--sets", type=int, default=40, help="near-members re-simulated")
    args = parser.parse_args()
    try:
        plan = cal.calibration_plan(args.folder)
    except cal.CalibrationError as err:
        raise SystemExit(str(err)) from None
    targets = [t for t in load_targets() if t.role == "calibrate"]
    by_name = {t.name: t for t in targets}
    if args.missing not in by_name:
        raise SystemExit(f"--missing {args.missing!r}: not a calibration target; targets: {', '.join(by_name)}")
    if args.contexts < 1 or args.sets < 1:
        raise SystemExit(f"--contexts {args.contexts}, --sets {args.sets}: each must be a whole number >= 1")
    dims = [cal.Dimension(**d) for d in plan["prior"]]
    names = [d.name for d in dims]
    runs = cal.saved_runs(args.folder).drop_duplicates(subset=names, ignore_index=True)
    near = runs[cal.meets_all(runs, [t for t in targets if t.name != args.missing], 0.0)].reset_index(drop=True)
    quantity = by_name[args.missing].quantity
    print(f"{len(near)} sets meet every target but {args.missing}; their {args.missing} in the battery: "
          f"{near[quantity].round(4).value_counts().to_dict()}")
    if not len(near):
        return
    pick = near.iloc[np.unique(np.linspace(0, len(near) - 1, min(args.sets, len(near))).astype(int))]
    sizes = replace(cal.BatterySizes(**plan["settings"]["battery"]), contexts=args.contexts)
    again = cal.battery(pick[names].reset_index(drop=True), dims, sizes, workers=2)
    met = pd.DataFrame({t.name: t.met(again[t.quantity].to_numpy(), 0.0) for t in targets})
    values = again[quantity]
    print(f"with {args.contexts} contexts: {int(met.all(axis=1).sum())} of {len(pick)} meet every target; "
          f"{args.missing} median {values.median():.4f} (least {values.min():.4f}, most {values.max():.4f}); "
          f"share meeting each other target: {met.drop(columns=args.missing).mean().min():.2f} at least")


if __name__ == "__main__":
    main()
