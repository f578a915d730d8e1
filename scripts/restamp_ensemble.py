"""Carry the shipped ensemble over a change of the model's code that leaves its calibration battery unchanged.

The ensemble records the model version it was calibrated on (:func:`sim.analysis.calibration.model_version`, a
hash of the model's source), and `load_ensemble` refuses it under any other version: a change to the equations
needs a new calibration. A change meant to move no result (input checking, speed, comments) should not. So:

    .venv/bin/python scripts/restamp_ensemble.py record           # once, with the code that made the ensemble
    .venv/bin/python scripts/restamp_ensemble.py check            # with the changed code: compare, report
    .venv/bin/python scripts/restamp_ensemble.py check --write    # ... and, if equal, restamp the provenance

``record`` runs the calibration's battery (its seeds and sizes, from the provenance) on every member and saves
the quantities beside the ensemble (``battery.parquet``) under the current model version. ``check`` runs it again
with the current code and compares bit for bit; only if every quantity of every member is identical does
``--write`` move the provenance's ``model_version`` to the current one, appending the step to its ``restamped``
list. Anything else exits 1 and names the quantities that moved: recalibrate (``experiments/calibrate.py``).
What this proves is that the calibration's evidence is reproduced exactly; the battery runs the default and
uniform contexts, leadership events, 6 to 30 providers and horizons of 60 and 120 months, so a change that moves
only what it does not run (the budget and demand events, say) passes unseen: the test suite's own checks cover
those. ``tests/test_calibration.py`` re-runs a few members against ``battery.parquet`` on every test run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis import calibration as cal

BATTERY_FILE = cal.BATTERY_FILE


def member_battery(ensemble_file: Path, rows: slice | None = None, workers: int = 2) -> pd.DataFrame:
    """The calibration battery's quantities of the ensemble's members (all, or ``rows``), on the calibration's
    seeds and sizes."""
    ensemble = cal.load_ensemble(ensemble_file, check_version=False)
    if rows is not None:
        ensemble = ensemble.iloc[rows].reset_index(drop=True)
    return cal.members_battery(ensemble, cal.ensemble_battery(ensemble_file), workers=workers)


def _git_commit() -> str:
    """The commit checked, ``-dirty`` if the tree has changes not committed yet (the usual case: restamp, then
    commit the change with the provenance)."""
    try:
        out = subprocess.run(["git", "describe", "--always", "--dirty", "--abbrev=40"], capture_output=True,
                             text=True, check=True, cwd=Path(__file__).resolve().parents[1])
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=("record", "check"))
    parser.add_argument("--ensemble", type=Path, default=cal.ENSEMBLE)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--write", action="store_true", help="check: restamp the provenance if every value is equal")
    args = parser.parse_args(argv)
    provenance_file = cal._provenance_file(args.ensemble)
    provenance = json.loads(provenance_file.read_text())
    stored = args.ensemble.with_name(BATTERY_FILE)
    now = cal.model_version()

    if args.action == "record":
        if provenance["model_version"] != now:
            print(f"this code is model version {now}, the ensemble's is {provenance['model_version']}: record with "
                  "the code that made it", file=sys.stderr)
            return 1
        values = member_battery(args.ensemble, workers=args.workers)
        values.to_parquet(stored)
        print(f"{stored}: {len(values)} members x {values.shape[1]} quantities, model version {now}")
        return 0

    if not stored.exists():
        print(f"{stored}: not found; run `record` with the code that made the ensemble first", file=sys.stderr)
        return 1
    before = pd.read_parquet(stored)
    if before.empty or set(before.columns) != set(cal.QUANTITIES):
        print(f"{stored}: holds {before.shape[0]} rows of {sorted(before.columns)}, not the battery's quantities "
              f"({', '.join(cal.QUANTITIES)}) of every member; record it again with the code that made the "
              "ensemble", file=sys.stderr)
        return 1
    after = member_battery(args.ensemble, workers=args.workers)
    if len(after) != len(before):
        print(f"{stored}: {len(before)} members recorded, but the ensemble has {len(after)}; record it again with "
              "the code that made the ensemble", file=sys.stderr)
        return 1
    moved = [c for c in before.columns
             if not np.array_equal(before[c].to_numpy(), after[c].to_numpy(), equal_nan=True)]
    if moved:
        for c in moved:
            diff = np.nanmax(np.abs(before[c].to_numpy(float) - after[c].to_numpy(float)))
            print(f"  {c}: moved, largest change {diff:.3g}", file=sys.stderr)
        print(f"{len(moved)} of {before.shape[1]} quantities moved: the change alters the model's results, so the "
              "ensemble must be recalibrated (experiments/calibrate.py)", file=sys.stderr)
        return 1
    print(f"all {before.size} values of {len(before)} members identical under model version {now} "
          f"(the ensemble's: {provenance['model_version']})")
    if args.write and provenance["model_version"] != now:
        provenance.setdefault("restamped", []).append({
            "from": provenance["model_version"], "to": now, "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "git_commit": _git_commit(),
            "check": f"the calibration battery of all {len(before)} members identical bit for bit ({BATTERY_FILE})"})
        provenance["model_version"] = now
        provenance_file.write_text(json.dumps(provenance, indent=1) + "\n")
        print(f"{provenance_file}: model_version -> {now}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
