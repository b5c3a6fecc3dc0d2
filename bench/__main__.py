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


#: Benchmarks with their own options (`python -m bench generate --dossiers 2000000`).
COMMANDS = {"generate": "bench.generate", "read": "bench.read", "submit": "bench.submit"}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] in COMMANDS:
        import importlib

        python = sys.version.split()[0]
        print(f"# machine: {platform.machine()}, {os.cpu_count()} cores, Python {python}")
        importlib.import_module(COMMANDS[sys.argv[1]]).run(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(prog="./dev bench")
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help=", ".join([*BENCHMARKS, *COMMANDS])
    )
    args = parser.parse_args()
    python = sys.version.split()[0]
    print(f"# machine: {platform.machine()}, {os.cpu_count()} cores, Python {python}")
    for name in args.names or list(BENCHMARKS):
        BENCHMARKS[name]()


if __name__ == "__main__":
    main()
