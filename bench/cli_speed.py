#!/usr/bin/env python3
"""Wall time of the CLI against bare Python start-up, measured in the same run.

    python bench/cli_speed.py [--runs N]

Figures (medians of N runs, each a fresh process):
  baseline   `python -c pass`
  --help     `diagnose --help`                        aim: within 150 ms of the baseline
  symptom    `diagnose stale-positions` on the demo world (9 checks: 4 sql, 2 log, 2 env, 1 http)
                                                      aim: within 500 ms of the baseline
The demo world (a throwaway PostgreSQL, log and env files, a fake api) is built once before timing;
the knowledge-base cache is warm, as on any second run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def timed(argv: list[str], runs: int, env: dict, expect_code: int = 0) -> float:
    """Median wall time of ``argv``; a run that exits with another code aborts the benchmark."""
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=env["_CWD"])
        samples.append(time.perf_counter() - started)
        if proc.returncode != expect_code:
            sys.exit(f"bench: {' '.join(argv)} exited {proc.returncode}, expected {expect_code}: {proc.stderr[-500:]!r}")
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    from diagnose.kb.loader import load_pack
    from diagnose.pg.server import TempPostgres
    from diagnose.world.build import World

    pack = load_pack()
    entry = pack.get("stale-positions")
    example = next(x for x in entry.examples if x.verdict == "problem")
    with TempPostgres() as pg, tempfile.TemporaryDirectory() as tmp:
        with World(pack, example, pg, Path(tmp)) as world:
            profile = Path(tmp) / "diagnose.yaml"
            profile.write_text(yaml.safe_dump(world.profile.sources))
            env = dict(os.environ, _CWD=tmp, PYTHONPATH=str(ROOT))
            py = sys.executable
            subprocess.run([py, "-m", "diagnose", "stale-positions", "--profile", str(profile), "-o",
                            f"{tmp}/warm.md"], env=env, cwd=tmp, capture_output=True)  # warm the KB cache
            base = timed([py, "-c", "pass"], args.runs, env)
            helptime = timed([py, "-m", "diagnose", "--help"], args.runs, env)
            symptom = timed([py, "-m", "diagnose", "stale-positions", "--profile", str(profile), "-o",
                             f"{tmp}/r.md"], args.runs, env, expect_code=1)
    rows = [
        ("python -c pass (baseline)", base, None),
        ("diagnose --help", helptime, 0.150),
        ("diagnose stale-positions (demo world)", symptom, 0.500),
    ]
    print(f"{'figure':<40} {'median':>9} {'- baseline':>11} {'ratio':>7} {'goal':>12}  met")
    for name, value, goal in rows:
        over = value - base
        goal_text = f"<= +{goal * 1000:.0f} ms" if goal else ""
        met = "" if goal is None else ("yes" if over <= goal else "no")
        print(f"{name:<40} {value * 1000:8.1f}ms {over * 1000:+10.1f}ms {value / base:6.2f}x {goal_text:>12}  {met}")


if __name__ == "__main__":
    main()
