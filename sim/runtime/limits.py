"""Upper bounds on run sizes, derived from the memory a run's results need, checked before allocating.

A result table holds one value per scenario, kept month and column; pandas and xarray make a few
copies on the way. A run that cannot fit is refused with the key, the value, the memory it needs and
how large a run fits here, instead of dying with ``MemoryError`` (or being killed) half-way.
"""

from __future__ import annotations

import os

#: Copies of a result held at once (core arrays, tidy table, concatenation) and per-scenario overhead.
COPIES = 3
PER_SCENARIO_BYTES = 4096


def available_memory() -> int:
    """Bytes of memory available to a new allocation (``MemAvailable``), or physical memory."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 8 * 2**30


def result_bytes(scenarios: int, months: int, columns: int) -> int:
    return int(scenarios) * (int(months) * int(columns) * 8 * COPIES + PER_SCENARIO_BYTES)


def _gib(n: float) -> str:
    return f"{n / 2**30:,.1f} GiB" if n < 2**40 else f"{n / 2**40:,.1f} TiB"


def check_fits(what: str, scenarios: int, months: int, columns: int, advice: str,
               available: int | None = None) -> None:
    """Raise ``ValueError`` naming ``what`` (e.g. ``"seeds=100000000"``) if the run's results cannot fit."""
    need = result_bytes(scenarios, months, columns)
    have = available_memory() if available is None else available
    if need > have:
        per_scenario = max(result_bytes(1, months, columns), 1)
        raise ValueError(f"{what}: too large; {scenarios:,} scenarios x {months:,} months need about {_gib(need)} "
                         f"of memory, {_gib(have)} is available here (at most about {have // per_scenario:,} "
                         f"scenarios of {months:,} months fit); {advice}")
