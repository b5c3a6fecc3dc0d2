"""Run the benchmarks: `./dev bench` (all) or `./dev bench calendar`."""

from __future__ import annotations

import argparse
import os
import platform
import sys

from bench import calendar_bench, dossier_bench, scope_bench

BENCHMARKS = {
    "calendar": calendar_bench.run,
    "scope": scope_bench.run,
    "dossiers": dossier_bench.run,
}


def main() -> None:
    parser = argparse.ArgumentParser(prog="./dev bench")
    parser.add_argument("names", nargs="*", metavar="NAME", help=", ".join(BENCHMARKS))
    args = parser.parse_args()
    python = sys.version.split()[0]
    print(f"# machine: {platform.machine()}, {os.cpu_count()} cores, Python {python}")
    for name in args.names or list(BENCHMARKS):
        BENCHMARKS[name]()


if __name__ == "__main__":
    main()
