"""Benchmark of the vectorised core against the Mesa model (issue 3). Prints tables; not a timed test.

    python experiments/bench.py            # full run, a few minutes on 2 cores
    python experiments/bench.py --quick    # smoke run, small sizes (used by tests/test_core.py)

A scenario-step is one month of one scenario. Mesa runs are timed from construction to the end of
the horizon (the DataCollector records every month); core runs include validation, set-up and
assembling the xarray Dataset. Each timing is the best of a few repeats, because other processes on
a shared machine add noise.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from sim import Params, simulate

RATIO_TARGET, WORKERS_TARGET, MEMORY_TARGET_GIB = 300.0, 1.7, 2.0


def best_time(run: Callable[[], object], repeats: int, min_seconds: float = 0.0) -> float:
    """Best wall time of ``repeats`` calls (each call repeated until ``min_seconds`` have passed)."""
    best = float("inf")
    for _ in range(repeats):
        start, calls = time.perf_counter(), 0
        while True:
            run()
            calls += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_seconds:
                break
        best = min(best, elapsed / calls)
    return best


def best_in_rounds(runs: dict[Any, Callable[[], object]], rounds: int) -> dict[Any, float]:
    """Best wall time of each run over ``rounds`` rounds of one call each, the runs taking turns within a
    round: a burst of load on a shared machine hits them alike, so their ratios hold."""
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(rounds):
        for key, run in runs.items():
            best[key] = min(best[key], best_time(run, 1))
    return best


def mesa_vs_core(quick: bool) -> tuple[float, float, float]:
    """Ratios of core to Mesa scenario-steps/s (every step kept, final step kept) and the core's rate."""
    from sim import AllianceModel  # here, not at the top: the workers' script imports this module without Mesa

    p = Params(horizon=12) if quick else Params()
    steps, n_mesa, batch = p.horizon, (2 if quick else 10), (100 if quick else 1000)

    def run_mesa() -> None:
        for seed in range(n_mesa):
            AllianceModel(p, seed=seed).run()

    seeds = np.arange(batch)
    simulate([p] * 2, seeds[:2])  # compiled code loaded before timing
    best = best_in_rounds({"mesa": run_mesa, "all": lambda: simulate([p] * batch, seeds),
                           "last": lambda: simulate([p] * batch, seeds, keep="last")}, 2 if quick else 5)
    mesa, core_all, core_last = best["mesa"] / (n_mesa * steps), best["all"] / (batch * steps), \
        best["last"] / (batch * steps)
    print(f"\n## Mesa vs core (default size: {p.n_providers} providers, {p.n_localities} localities, "
          f"{p.n_domains} domains, {steps} months)")
    print(f"{'run':<44}{'s / scenario-step':>20}{'scenario-steps/s':>18}{'ratio':>9}")
    print(f"{f'Mesa AllianceModel, {n_mesa} scenarios':<44}{mesa:>20.3e}{1 / mesa:>18,.0f}{1.0:>9.1f}")
    for label, t in ((f"core, batch {batch}, every step kept", core_all),
                     (f"core, batch {batch}, keep='last'", core_last)):
        print(f"{label:<44}{t:>20.3e}{1 / t:>18,.0f}{mesa / t:>9.1f}")
    return mesa / core_all, mesa / core_last, 1.0 / core_all


def scaling(quick: bool) -> tuple[dict[tuple[int, int], float], list[int]]:
    batches = [1, 10, 100] if quick else [1, 10, 100, 1000, 10000]
    providers = [5, 10] if quick else [5, 10, 25, 50]
    steps = 6 if quick else 24
    rates: dict[tuple[int, int], float] = {}
    for n in providers:
        p = Params(n_providers=n)
        for b in batches:
            t = best_time(lambda p=p, b=b: simulate([p] * b, np.arange(b), steps, keep="last"),
                          2 if quick or b * n * n > 500_000 else 3, min_seconds=0.0 if quick else 0.3)
            rates[(n, b)] = b * steps / t
    print(f"\n## Scaling: core scenario-steps/s (keep='last', {steps} months, default chunking)")
    print(f"{'providers':>10}" + "".join(f"{f'batch {b:,}':>15}" for b in batches))
    for n in providers:
        print(f"{n:>10}" + "".join(f"{rates[(n, b)]:>15,.0f}" for b in batches))
    return rates, batches


def workers(quick: bool) -> float:
    """One vs two worker processes, timed in a fresh child process running a script that, like a user's
    simulation script, does not import the Mesa model. (Every worker imports the main script again; with the
    Mesa model that is about a second per worker that a simulation script does not spend.)"""
    batch, steps, rounds = (400, 6, 1) if quick else (20_000, 60, 3)
    script = textwrap.dedent(f"""
        import json, sys
        sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r})
        import numpy as np, pandas as pd
        from bench import best_in_rounds
        from sim import simulate

        if __name__ == "__main__":
            frame, seeds = pd.DataFrame({{"horizon": [{steps}] * {batch}}}), np.arange({batch})
            runs = {{w: (lambda w=w: simulate(frame, seeds, keep="last", workers=w)) for w in (1, 2)}}
            print(json.dumps(best_in_rounds(runs, {rounds})))
    """)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "workers_run.py")
        with open(path, "w") as f:
            f.write(script)
        out = subprocess.run([sys.executable, path], check=True, capture_output=True, text=True).stdout
    times = {int(w): t for w, t in json.loads(out.strip().splitlines()[-1]).items()}
    print(f"\n## Workers: {batch:,} default scenarios x {steps} months, keep='last' (a fresh script "
          "without the Mesa model)")
    print(f"{'workers':>8}{'seconds':>10}{'scenario-steps/s':>18}{'speed-up':>10}")
    for w, t in times.items():
        print(f"{w:>8}{t:>10.2f}{batch * steps / t:>18,.0f}{times[1] / t:>10.2f}")
    return times[1] / times[2]


def peak_memory(quick: bool) -> float:
    """Peak resident memory of a fresh child process (``ru_maxrss`` of the child, so it includes the
    interpreter, numpy, xarray and the parameter table) that runs the study with one worker."""
    n = 2_000 if quick else 100_000
    code = textwrap.dedent(f"""
        import numpy as np, pandas as pd
        from sim import simulate
        ds = simulate(pd.DataFrame({{"horizon": [60] * {n}}}), np.arange({n}), keep="last")
        assert ds.sizes == {{"scenario": {n}, "step": 1}}
    """)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    seconds = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # max over waited-for children
    if peak_kib <= before:
        print("(warning: an earlier child used more memory; peak below is an upper bound)")
    gib = peak_kib / 2**20
    print(f"\n## Peak memory: {n:,} default scenarios x 60 months, keep='last', workers=1")
    print(f"peak RSS of the child process (resource.getrusage RUSAGE_CHILDREN ru_maxrss): {gib:.3f} GiB "
          f"({seconds:.1f} s wall, {n * 60 / seconds:,.0f} scenario-steps/s incl. start-up)")
    return gib


def copy_bandwidth(n_bytes: int, repeats: int) -> float:
    """Bytes moved per second by ``np.copyto`` (one read and one write of each byte)."""
    src = np.ones(n_bytes // 8)
    dst = np.empty_like(src)
    t = best_time(lambda: np.copyto(dst, src), repeats, min_seconds=0.05)
    return 2 * n_bytes / t


def bytes_per_scenario_step(P: int, L: int, D: int, months: int) -> float:
    """Estimate of bytes moved to and from main memory per scenario-step by the core's compiled run.

    The run is compiled and takes one scenario at a time through all its months
    (sim/engine/batch.py), so a scenario's state (trust ``P x P``, eight provider arrays, six locality
    arrays, the ``L x D`` backlog) is read and written once per run, and its fixed tables (locality weights and
    coverage ``2 P x L``, capacity, need profile and its cumulative form ``3 L x D``, the walk's alias tables
    ``1.5 L x D x P``, cross-sector pairs and trust rates ``3 P x P``) read once; in between they stay in the
    processor's nearest caches. Each month kept writes its 17 outcomes.
    """
    state = P * P + 8 * P + 6 * L + L * D
    tables = 2 * P * L + 3 * L * D + 1.5 * L * D * P + 3 * P * P
    return 8.0 * ((2 * state + tables) / (months + 1) + 17)


def roofline(quick: bool, core_rate: float) -> None:
    p = Params()
    per_step = bytes_per_scenario_step(p.n_providers, p.n_localities, p.n_domains, p.horizon)
    dram = copy_bandwidth(64 * 2**20 if quick else 512 * 2**20, 2 if quick else 3)
    chunk_bytes = 1000 * p.n_providers**2 * 8  # one chunk's trust array
    cache = copy_bandwidth(chunk_bytes, 5)
    achieved = per_step * core_rate
    print("\n## Memory roofline (default size, the Mesa-comparison batch, every step kept)")
    print(f"estimated bytes moved per scenario-step: {per_step / 1e3:.1f} kB")
    print(f"numpy copy bandwidth, large arrays (main memory):      {dram / 1e9:6.1f} GB/s")
    print(f"numpy copy bandwidth, {chunk_bytes / 2**10:.0f} KiB arrays (one chunk's trust): "
          f"{cache / 1e9:6.1f} GB/s")
    print(f"core: {core_rate:,.0f} scenario-steps/s x {per_step / 1e3:.1f} kB = {achieved / 1e9:.1f} GB/s, "
          f"{achieved / dram:.0%} of main-memory and {achieved / cache:.0%} of in-cache copy bandwidth")
    print(f"memory-bound ceiling at main-memory bandwidth: {dram / per_step:,.0f} scenario-steps/s: the core is "
          "bound by computing (the care-pathway walk, the formulas' exp and log), not by memory")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run of every section")
    quick = parser.parse_args().quick
    print(f"# Core benchmark ({'quick smoke run: figures are not meaningful' if quick else 'full run'}); "
          f"{os.cpu_count()} CPUs, numpy {np.__version__}, Python {sys.version.split()[0]}")
    ratio_all, ratio_last, core_rate = mesa_vs_core(quick)
    rates, batches = scaling(quick)
    speedup = workers(quick)
    memory = peak_memory(quick)
    roofline(quick, core_rate)
    big = max(batches)
    collapse = min(rates[(n, big)] / max(rates[(n, b)] for b in batches) for n in {n for n, _ in rates})
    targets = [
        (f"core >= {RATIO_TARGET:.0f}x Mesa, batch 1,000, every step kept", ratio_all >= RATIO_TARGET,
         f"{ratio_all:.0f}x"),
        (f"core >= {RATIO_TARGET:.0f}x Mesa, batch 1,000, keep='last'", ratio_last >= RATIO_TARGET,
         f"{ratio_last:.0f}x"),
        (f"workers=2 >= {WORKERS_TARGET}x workers=1", speedup >= WORKERS_TARGET, f"{speedup:.2f}x"),
        (f"peak memory <= {MEMORY_TARGET_GIB:.0f} GiB (100,000 scenarios, final step)",
         memory <= MEMORY_TARGET_GIB, f"{memory:.2f} GiB"),
        (f"no collapse at batch {big:,} (>= 70% of the best batch, every size)", collapse >= 0.7,
         f"worst {collapse:.0%}"),
    ]
    note = " (quick run: sizes too small for the verdicts to mean anything)" if quick else ""
    print("\n## Targets" + note)
    for name, met, value in targets:
        print(f"[{'MET' if met else 'NOT MET':>7}] {name}: {value}")


if __name__ == "__main__":
    main()
