"""A/B timing of the vectorised core in two source trees (e.g. before and after a change).

    git worktree add /tmp/before HEAD~1
    .venv/bin/python scripts/compare_core_speed.py /tmp/before . --rounds 3

Each round runs each tree in a fresh process, one after the other, so a burst of load on a shared machine
hits both alike; each process prints its best of four runs of 1,000 default scenarios x 60 months (CPU time
per scenario-step, every step kept and ``keep='last'``). The first process of each tree also fills that
tree's numba cache (about 20 s), outside the timings.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

_CHILD = """
import json, sys, time
import numpy as np
sys.path.insert(0, {tree!r})
import sim
from sim import Params, simulate
assert sim.__file__.startswith({tree!r}), sim.__file__
p, batch = Params(), {batch}
simulate([p] * 20, np.arange(20))  # compiled code loaded before timing
best = {{"all": float("inf"), "last": float("inf")}}
for _ in range(4):
    for name, keep in (("all", None), ("last", "last")):
        start = time.process_time()
        simulate([p] * batch, np.arange(batch), keep=keep)
        best[name] = min(best[name], time.process_time() - start)
print(json.dumps({{k: v / (batch * p.horizon) * 1e6 for k, v in best.items()}}))
"""


def time_tree(tree: Path, batch: int) -> dict[str, float]:
    """Best CPU microseconds per scenario-step of ``tree``'s core, in a fresh process."""
    code = _CHILD.format(tree=str(tree.resolve()), batch=batch)
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("trees", nargs=2, type=Path, help="two source trees, each with a sim/ package")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of one run per tree (default 3)")
    parser.add_argument("--batch", type=int, default=1000, help="scenarios per run (default 1000)")
    args = parser.parse_args()
    for tree in args.trees:
        if not (tree / "sim" / "__init__.py").is_file():
            parser.error(f"trees: {str(tree)!r} has no sim/__init__.py")
    if args.rounds < 1 or args.batch < 1:
        parser.error(f"--rounds={args.rounds}, --batch={args.batch}: both must be at least 1")
    print(f"{'round':>5}  {'tree':<40}{'us/step, all kept':>19}{'keep=last':>11}")
    for k in range(1, args.rounds + 1):
        for tree in args.trees:
            t = time_tree(tree, args.batch)
            print(f"{k:>5}  {str(tree):<40}{t['all']:>19.2f}{t['last']:>11.2f}", flush=True)


if __name__ == "__main__":
    main()
