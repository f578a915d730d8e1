"""The model's constants: how many there are, their sources, and how far each one's plausible range moves the
alliance's default advantage (one at a time, the others at their registry values).

    .venv/bin/python experiments/constants.py               # counts and the 15 constants that matter most
    .venv/bin/python experiments/constants.py --seeds 20 --out results/constants.csv

The advantage is traditional minus alliance fragmentation, the mean over months 49-60 (year 5), over paired seeds.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from sim import Params, simulate


def advantage_by_constant(seeds: int, workers: int) -> pd.DataFrame:
    """Year-5 fragmentation advantage with each constant at its low and at its high end."""
    registry = Params.constants_schema()
    settings = [("registry", None, None)]
    settings += [(c.name, end, getattr(c, end)) for c in registry for end in ("low", "high")]
    params, seed_list = [], []
    for name, _, value in settings:
        constants = {} if value is None else {name: value}
        for mode in ("alliance", "traditional"):
            try:
                p = Params(commissioning=mode, constants=constants)
            except ValueError:  # an end that breaks a joint constraint (e.g. experience weights above 1)
                p = None
            params += [p] * seeds
            seed_list += list(range(seeds))
    valid = [k for k, p in enumerate(params) if p is not None]
    ds = simulate([params[k] for k in valid], [seed_list[k] for k in valid], keep=list(range(49, 61)),
                  workers=workers)
    year5 = np.full(len(params), np.nan)
    year5[valid] = ds["fragmentation"].values.mean(axis=1)
    per = year5.reshape(len(settings), 2, seeds)
    with warnings.catch_warnings():  # an end refused by a joint constraint has no runs: its advantage is NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        advantage = np.nanmean(per[:, 1] - per[:, 0], axis=1)
    frame = pd.DataFrame({"constant": [s[0] for s in settings], "end": [s[1] for s in settings],
                          "value": [s[2] for s in settings], "advantage": advantage})
    base = float(frame.loc[frame["constant"] == "registry", "advantage"].iloc[0])
    wide = frame[frame["constant"] != "registry"].pivot(index="constant", columns="end", values="advantage")
    out = pd.DataFrame({"advantage_at_low": wide["low"], "advantage_at_high": wide["high"]})
    out["moves_advantage_by"] = (out["advantage_at_high"] - out["advantage_at_low"]).abs()
    out["default_advantage"] = base
    source = {c.name: c.source for c in registry}
    out["source"] = [source[name] for name in out.index]
    return out.sort_values("moves_advantage_by", ascending=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="paired seeds per setting (default 10)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--top", type=int, default=15, help="constants to print (default 15)")
    parser.add_argument("--out", type=Path, help="CSV of every constant's effect")
    args = parser.parse_args(argv)
    if args.seeds < 1 or args.workers < 1 or args.top < 1:
        parser.error("--seeds, --workers and --top must be at least 1")
    registry = Params.constants_schema()
    assumed = sum(c.assumed for c in registry)
    formerly_unnamed = sum(":" in c.replaces for c in registry)
    print(f"{len(registry)} constants: {len(registry) - formerly_unnamed} were named module constants, "
          f"{formerly_unnamed} were unnamed coefficients in formulas; {len(registry) - assumed} with a source, "
          f"{assumed} assumed")
    started = time.perf_counter()
    table = advantage_by_constant(args.seeds, args.workers)
    print(f"\ndefault year-5 fragmentation advantage: {table['default_advantage'].iloc[0]:.4f} "
          f"({args.seeds} paired seeds)\n")
    print(table.drop(columns="default_advantage").head(args.top).round(4).to_string())
    print(f"\n({time.perf_counter() - started:.0f} s)")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
