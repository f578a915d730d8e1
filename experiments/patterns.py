"""Measure the model's patterns (pattern-oriented modelling) and print measured value, target and pass/fail.

    .venv/bin/python experiments/patterns.py                 # all nine, full sample sizes
    .venv/bin/python experiments/patterns.py P4 P5 --fast    # some, with the test suite's sizes
    .venv/bin/python experiments/patterns.py --out results/patterns   # also write patterns.csv and tables

Exit code 1 if any pattern is not met. The patterns and their targets are defined in sim/analysis/patterns.py.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from sim.analysis.patterns import PATTERNS, Sizes, ablation, measure, table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("patterns", nargs="*", metavar="P", help=f"patterns to measure (default all): "
                        f"{' '.join(PATTERNS)}")
    parser.add_argument("--fast", action="store_true", help="the test suite's smaller sample sizes")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--out", type=Path, help="folder for patterns.csv and the per-pattern tables")
    parser.add_argument("--ablation", action="store_true",
                        help="also print the default advantage with each middle-range theory and rule off")
    args = parser.parse_args(argv)
    unknown = [p for p in args.patterns if p not in PATTERNS]
    if unknown:
        parser.error(f"unknown pattern {unknown[0]!r}; allowed: {', '.join(PATTERNS)}")
    if args.workers < 1:
        parser.error(f"--workers={args.workers}: must be an integer >= 1")
    started = time.perf_counter()
    results = measure(args.patterns or None, Sizes.fast() if args.fast else Sizes(), workers=args.workers)
    print(table(results))
    for r in results:
        if r.table is not None:
            print(f"\n{r.id}: {r.pattern}\n{r.table.round(3).to_string(index=False)}")
    if args.ablation:
        frame = ablation(50 if args.fast else 100, workers=args.workers)
        print("\nAblation: default fragmentation advantage at month 60 (95% interval)\n"
              + frame.round(3).to_string(index=False))
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


if __name__ == "__main__":
    sys.exit(main())
