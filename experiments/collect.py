"""Merge a sweep's results into one table: python experiments/collect.py results/<name>"""

from __future__ import annotations

import argparse
import sys

from sim.sweeps.cli import command, fail


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", help="a sweep folder, e.g. results/runs or results/my_rows")
    parser.add_argument("--partial", action="store_true", help="merge a row sweep even if chunks are missing")
    args = parser.parse_args(argv)
    from sim.sweeps.runs import collect

    try:
        path, table = collect(args.folder, partial=args.partial)
    except Exception as err:  # noqa: BLE001 - fail() re-raises anything that is not for the user
        return fail(err)
    print(f"merged {len(table)} rows into {path}")
    return 0


def cli() -> None:
    command(lambda: sys.exit(main()))


if __name__ == "__main__":
    cli()
