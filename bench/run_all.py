#!/usr/bin/env python3
"""Run every benchmark of bench/ in turn, each in its own process, and say which ones failed.

    python bench/run_all.py [NAME ...]     # e.g. `python bench/run_all.py site_speed`

Each benchmark prints its own table (see bench/README.md); this only runs them one after
another, so they do not compete for the CPU, and exits non-zero when one of them did.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = ("cli_speed", "triage_speed", "triage_precision", "site_speed", "docs_edit_loop", "log_speed",
              "mask_speed")


def main(argv: list[str]) -> int:
    unknown = [name for name in argv if name not in BENCHMARKS]
    if unknown:
        print(f"run_all: unknown benchmark {', '.join(unknown)} (known: {', '.join(BENCHMARKS)})", file=sys.stderr)
        return 2
    failed = []
    for name in argv or BENCHMARKS:
        print(f"== {name}", flush=True)
        started = time.perf_counter()
        code = subprocess.call([sys.executable, str(HERE / f"{name}.py")], cwd=HERE.parent)
        print(f"== {name}: exit {code} after {time.perf_counter() - started:.0f} s\n", flush=True)
        if code != 0:
            failed.append(name)
    if failed:
        print(f"run_all: failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
