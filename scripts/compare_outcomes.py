"""Bit-for-bit comparison of the core's outcomes in two source trees (e.g. before and after a refactor).

    git worktree add /tmp/before <commit>
    .venv/bin/python scripts/compare_outcomes.py /tmp/before .

Each tree runs, in a fresh process, the same scenarios: the equivalence test set (random parameter sets drawn from
the schema with events, ablations and contract reviews, :func:`tests.test_core.random_params`) at every month, and
the pattern test set (every pattern measured at the test suite's sizes, every measured value and table). The script
prints, per outcome, how many values differ and by how much, and exits 1 if any value is not bit-identical.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

_CHILD = """
import pickle, sys
import numpy as np
sys.path.insert(0, {tree!r})
sys.path.insert(0, {tests!r})
import sim
assert sim.__file__.startswith({tree!r}), sim.__file__
from sim import simulate
from sim.analysis.patterns import Sizes, measure
from test_core import random_params
rng = np.random.default_rng(2024)
params = [random_params(rng, k, max_providers=30, max_localities=12, horizon=60) for k in range({n})]
ds = simulate(params, list(range(len(params))))
out = {{"equivalence:" + name: ds[name].values for name in ds.data_vars}}
for r in measure(sizes=Sizes.fast(), workers=1):
    out[f"pattern:{{r.id}}"] = np.atleast_1d(np.asarray(r.measured, dtype=float))
    if r.table is not None:
        numeric = r.table.select_dtypes("number")  # rows sorted: the tables' row order is not a result
        out[f"pattern:{{r.id}}:table"] = numeric.sort_values(list(numeric.columns)).to_numpy(dtype=float)
with open({dump!r}, "wb") as f:
    pickle.dump(out, f)
"""


def outcomes_of(tree: Path, n: int, dump: Path) -> dict[str, np.ndarray]:
    import pickle

    tests = Path(__file__).resolve().parents[1] / "tests"  # the same scenario generator for both trees
    code = _CHILD.format(tree=str(tree.resolve()), tests=str(tests), n=n, dump=str(dump))
    subprocess.run([sys.executable, "-c", code], check=True)
    with open(dump, "rb") as f:
        return pickle.load(f)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("trees", nargs=2, type=Path, help="two source trees, each with a sim/ package")
    parser.add_argument("--scenarios", type=int, default=220, help="equivalence scenarios (default 220)")
    args = parser.parse_args()
    for tree in args.trees:
        if not (tree / "sim" / "__init__.py").is_file():
            parser.error(f"trees: {str(tree)!r} has no sim/__init__.py")
    with tempfile.TemporaryDirectory() as tmp:
        a, b = (outcomes_of(t, args.scenarios, Path(tmp) / f"{k}.pkl") for k, t in enumerate(args.trees))
    if a.keys() != b.keys():
        print(f"different outputs: {sorted(a.keys() ^ b.keys())}")
        return 1
    differing = 0
    for key in a:
        x, y = a[key], b[key]
        same = (x == y) | (np.isnan(x) & np.isnan(y))
        n_diff = int((~same).sum())
        differing += n_diff
        largest = float(np.nanmax(np.abs(x - y))) if n_diff else 0.0
        print(f"{key:<40}{x.size:>10} values{n_diff:>8} differ  (largest {largest:.3g})")
    print(f"\n{'bit-identical' if differing == 0 else f'{differing} values differ'}")
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
