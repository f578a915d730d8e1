"""Cold first compile of the compiled core in one or more source trees, alternated, with numba's own breakdown.

    git worktree add /tmp/before d65bb81
    .venv/bin/python scripts/compile_time.py /tmp/before . --rounds 3

Each round empties each tree's numba cache (``*.nbi``, ``*.nbc`` under ``sim/``) and times, in a fresh process,
``import sim`` plus the first ``simulate`` of four default scenarios: what a new user waits for once. The
breakdown lists numba's compile events with their own (exclusive) seconds: the largest functions, and the many
small formulas together. Run it on an idle machine: another process on the two cores adds seconds.
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
from numba.core import event as ev
sys.path.insert(0, {tree!r})
recorder = ev.RecordingListener()
ev.register("numba:compile", recorder)
started = time.perf_counter()
import sim
from sim import Params, simulate
assert sim.__file__.startswith({tree!r}), sim.__file__
simulate([Params()] * 4, np.arange(4))
total = time.perf_counter() - started
stack, own = [], []
for stamp, event in recorder.buffer:
    name = str(event.data.get("dispatcher", "")) if isinstance(event.data, dict) else ""
    if event.is_start:
        stack.append([name.split("function ")[-1].split(" at")[0], stamp, 0.0])
    else:
        name, start, children = stack.pop()
        own.append((stamp - start - children, stamp - start, name))
        if stack:
            stack[-1][2] += stamp - start
own.sort(reverse=True)
small = [o for o, whole, _ in own if whole < 0.5]
print(json.dumps({{"total": total, "events": len(own), "largest": [[n, o] for o, _, n in own[:4]],
                  "small": len(small), "small_seconds": sum(small)}}))
"""


def cold_compile(tree: Path) -> dict:
    for pattern in ("*.nbi", "*.nbc"):
        for path in (tree / "sim").rglob(pattern):
            path.unlink()
    out = subprocess.run([sys.executable, "-c", _CHILD.format(tree=str(tree))], capture_output=True, text=True,
                         check=True, cwd="/")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trees", nargs="+", type=Path, help="source trees (each with a sim/ package)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    trees = [t.resolve() for t in args.trees]
    missing = [t for t in trees if not (t / "sim" / "__init__.py").exists()]
    if missing:
        parser.error(f"{missing[0]}: no sim/ package there")
    print(f"{'round':>5}  {'tree':40} {'seconds':>8}  largest own compiles; small formulas")
    for r in range(1, args.rounds + 1):
        for tree in trees:
            m = cold_compile(tree)
            largest = ", ".join(f"{n} {s:.2f}" for n, s in m["largest"])
            print(f"{r:>5}  {str(tree):40} {m['total']:8.1f}  {largest}; {m['small']} small "
                  f"{m['small_seconds']:.2f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
