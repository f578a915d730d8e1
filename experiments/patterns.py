"""Measure the model's patterns (pattern-oriented modelling) and print measured value, target and pass/fail.

    .venv/bin/python experiments/patterns.py                 # all nine, full sample sizes
    .venv/bin/python experiments/patterns.py P4 P5 --fast    # some, with the test suite's sizes
    .venv/bin/python experiments/patterns.py --out results/patterns   # also write patterns.csv and tables
    .venv/bin/python experiments/patterns.py --evidence      # the evidence patterns (P4y5, P10-P16)
    .venv/bin/python experiments/patterns.py --evidence --failures   # ... and the seed's two failures, shown
    .venv/bin/python experiments/patterns.py --ensemble      # each target over the calibrated ensemble's members

Exit code 1 if any pattern is not met. The patterns and their targets are defined in sim/analysis/patterns.py;
the evidence patterns (year-5 means, the seed's reasons for failure, the evidence's sizes) in
sim/analysis/evidence_patterns.py (their targets are the calibration's).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

from sim.analysis.evidence_patterns import EVIDENCE_PATTERNS, EvidenceSizes, measure_evidence
from sim.analysis.patterns import PATTERNS, Sizes, ablation, measure, table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("patterns", nargs="*", metavar="P", help=f"patterns to measure (default all): "
                        f"{' '.join(PATTERNS)}; with --evidence: {' '.join(EVIDENCE_PATTERNS)}")
    parser.add_argument("--evidence", action="store_true",
                        help="measure the evidence patterns (P4y5, P10-P16) instead of P1-P9")
    parser.add_argument("--fast", action="store_true", help="the test suite's smaller sample sizes")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--out", type=Path, help="folder for patterns.csv and the per-pattern tables")
    parser.add_argument("--ensemble", nargs="?", type=Path, const=Path("shipped"), metavar="CSV",
                        help="each calibration target's share of ensemble members meeting it and its spread (the "
                             "shipped ensemble, sim/conf/calibration/ensemble.csv, or the CSV given)")
    parser.add_argument("--seed-offset", type=int, default=100_000, metavar="N",
                        help="with --ensemble: run the battery on seeds (and uniform contexts) shifted by N, so the "
                             "check is on noise the calibration did not select on (default 100000; 0: its own)")
    parser.add_argument("--failures", action="store_true",
                        help="also print the seed's two failures (a talking shop; senior buy-in without trust), each "
                             "beside its context with the missing resource present: gains and mechanism states")
    parser.add_argument("--ablation", action="store_true",
                        help="also print the default advantage with each middle-range theory and rule off")
    args = parser.parse_args(argv)
    known = EVIDENCE_PATTERNS if args.evidence else PATTERNS
    unknown = [p for p in args.patterns if p not in known]
    if unknown:
        parser.error(f"unknown pattern {unknown[0]!r}; allowed: {', '.join(known)}")
    if args.workers < 1:
        parser.error(f"--workers={args.workers}: must be an integer >= 1")
    started = time.perf_counter()
    if args.ensemble is not None:
        return _ensemble(args)
    if args.evidence:
        results = measure_evidence(args.patterns or None, EvidenceSizes.fast() if args.fast else EvidenceSizes(),
                                   workers=args.workers)
    else:
        results = measure(args.patterns or None, Sizes.fast() if args.fast else Sizes(), workers=args.workers)
    print(table(results))
    for r in results:
        if r.table is not None:
            print(f"\n{r.id}: {r.pattern}\n{r.table.round(3).to_string(index=False)}")
    if args.ablation:
        frame = ablation(50 if args.fast else 100, workers=args.workers)
        print("\nAblation: default fragmentation advantage at month 60 (95% interval)\n"
              + frame.round(3).to_string(index=False))
    if args.failures:
        from sim.analysis.evidence_patterns import failure_cases

        frame = failure_cases(20 if args.fast else 50, workers=args.workers).set_index("case").T
        print("\nThe seed's failures: year-5 gains of the alliance, and each mode's states (a_ alliance, "
              "t_ traditional)\n" + frame.round(3).to_string())
    print(f"\n{sum(r.passed for r in results)} of {len(results)} patterns met "
          f"({time.perf_counter() - started:.0f} s)")
    if args.out:
        import pandas as pd

        args.out.mkdir(parents=True, exist_ok=True)
        pd.DataFrame([{k: getattr(r, k) for k in ("id", "pattern", "measured", "target", "passed", "detail")}
                      for r in results]).to_csv(args.out / "patterns.csv", index=False)
        for r in results:
            if r.table is not None:
                r.table.to_csv(args.out / f"{r.id}.csv", index=False)
    return 0 if all(r.passed for r in results) else 1


def _ensemble(args: argparse.Namespace) -> int:
    from sim.analysis import calibration as cal
    from sim.analysis.targets import load_targets
    from sim.runtime.errors import CalibrationError

    try:
        path = cal.ENSEMBLE if str(args.ensemble) == "shipped" else args.ensemble
        members = cal.load_ensemble(path)
    except CalibrationError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.seed_offset < 0:
        print(f"error: --seed-offset={args.seed_offset}: must be a whole number >= 0", file=sys.stderr)
        return 2
    sizes = cal.BatterySizes.tiny() if args.fast else cal.ensemble_battery(path)
    sizes = replace(sizes, seed_offset=args.seed_offset)
    frame = cal.ensemble_patterns(members, load_targets(), sizes, workers=args.workers)
    seeds = "its own seeds" if not args.seed_offset else f"seeds shifted by {args.seed_offset}, not the calibration's"
    print(f"Each target over the {len(members)} members of the ensemble (battery: {sizes.scenarios()} runs per "
          f"member, {seeds})\n" + frame.round(3).to_string(index=False))
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        frame.to_csv(args.out / "ensemble_patterns.csv", index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
