"""Merge a sweep's results into one table: python experiments/collect.py results/<name>"""

from __future__ import annotations

import argparse
import sys

from sim.runner import ConfigError, collect


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", help="a sweep folder, e.g. results/runs or results/my_rows")
    args = parser.parse_args()
    try:
        path, table = collect(args.folder)
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    print(f"merged {len(table)} rows into {path}")


if __name__ == "__main__":
    main()
