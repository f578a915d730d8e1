"""Write the advisory-group report (report.html and report.pdf) for a finished sensitivity study.

    python experiments/report.py results/sensitivity/<name>
    python experiments/report.py results/sensitivity/latest

The main job (experiments/sensitivity.py) already does this at its end unless report=false.
"""

from __future__ import annotations

import argparse
import sys
import time

from sim.report import ReportError, write_report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", help="a complete study folder, e.g. results/sensitivity/latest")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        html, pdf = write_report(args.folder)
    except ReportError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {html}\nwrote {pdf}\n({time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
