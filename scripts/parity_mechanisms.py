"""Which mechanisms make an alliance worse in its first month, for the sets a calibration found nearest the targets.

    .venv/bin/python scripts/parity_mechanisms.py results/calibration/<name> [<name2> ...]

P1 asks for month-0 parity (both modes start from the same world). Of the simulated sets in the folders, takes those
that meet every calibration target up to the first step of the conflict chain
(:func:`sim.analysis.calibration.conflict_chain`, strictly) where none is left, and for the first of them prints the
month-0 differences (traditional minus alliance: negative is the alliance worse) in fragmentation and its three
components, with the set as it is and with one constant at a time at the bottom of its prior range.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

SEEDS = 200
NAMES = ("diffusion", "accountability", "handoff_loss", "case_ownership", "coordination_cost", "change_cost",
         "engagement_cost", "pressure_loss")


def main() -> None:
    from sim import Params
    from sim.analysis import calibration as cal
    from sim.analysis.patterns import paired
    from sim.analysis.targets import load_targets

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", type=Path, nargs="+", help="calibration folders (same model, prior, targets)")
    args = parser.parse_args()
    try:
        plan = cal.calibration_plan(args.folders[0])
    except cal.CalibrationError as err:
        raise SystemExit(str(err)) from None
    prior = plan["prior"]
    names, low = [d["name"] for d in prior], {d["name"]: d["low"] for d in prior}
    runs = pd.concat([cal.saved_runs(folder) for folder in args.folders],
                     ignore_index=True).drop_duplicates(subset=names, ignore_index=True)  # resumed copies
    targets = [t for t in load_targets() if t.role == "calibrate"]
    chain = cal.conflict_chain(runs, targets, slack=0.0)
    empty = chain.index[chain["sets_meeting_all_so_far"] == 0]
    upto = list(chain["target"].iloc[:empty[0]]) if len(empty) else list(chain["target"])
    keep = cal.meets_all(runs, [t for t in targets if t.name in upto], slack=0.0)
    print(f"{len(runs)} sets; {int(keep.sum())} meet {', '.join(upto)}; "
          f"they miss {', '.join(chain['target'].iloc[len(upto):]) or 'nothing'}")
    row = runs[keep].iloc[0][names]

    def month0(r: pd.Series) -> dict[str, float]:
        a, t = paired(cal.member_params(r, Params(horizon=1)), SEEDS, keep=[0], workers=2)
        return {c: round(float(t[c].values.mean() - a[c].values.mean()), 4)
                for c in ("fragmentation", "gaps", "duplication", "discontinuity")}

    rows = [{"constant": "(the set as found)", "value": "", **month0(row)}]
    for name in NAMES:
        changed = row.copy()
        changed[name] = low[name]
        rows.append({"constant": name, "value": f"{row[name]:.3g} -> {low[name]:g}", **month0(changed)})
    print(f"month-0 advantage (traditional - alliance), {SEEDS} paired seeds, default context:")
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
