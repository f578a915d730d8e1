"""Write the advisory-group report (report.html and report.pdf) for a finished sensitivity study.

    python experiments/report.py results/sensitivity/<name>
    python experiments/report.py results/sensitivity/latest

The main job (experiments/sensitivity.py) already does this at its end unless report=false.
"""

from __future__ import annotations

import argparse
import sys
import time

from sim.sweeps.cli import command, fail


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", help="a complete study folder, e.g. results/sensitivity/latest")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        from sim.report.advisory import write_report  # needs the extra [report]

        html, pdf = write_report(args.folder)
    except Exception as err:  # noqa: BLE001 - fail() re-raises anything that is not for the user
        return fail(err)
    print(f"wrote {html}\nwrote {pdf}\n({time.perf_counter() - started:.1f} s)")
    return 0


def cli() -> None:
    command(lambda: sys.exit(main()))


if __name__ == "__main__":
    cli()
