#!/usr/bin/env python3
"""Wall time of ``diagnose triage`` over every entry, against the same checks run one by one.

    python bench/triage_speed.py [--runs N]

The demo stack world (``checks/worlds/stack.yaml`` with its default faults: a throwaway
PostgreSQL, log and env files, HTTP/WebSocket/TCP services on 127.0.0.1) is built once, then,
medians of N runs, all in this process and this run:

  serial     every check of every entry, one after another, each on its own (its own
             database connection), as separate runs of the checks would: the baseline
  serial, shared   the distinct probes one after another, sharing the run's connections
             (what is left for concurrency to win; on a 2-core machine with the database on
             the same host, little: the work is CPU, not waiting)
  triage     ``run_triage``: shared probes once, connections shared, probes concurrently
  CLI        ``diagnose triage --profile ...`` as a fresh process (start-up, KB cache warm,
             report written)                                          aim: under 1.5 s
                                                          aim: triage at least 3x faster than serial
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from table import median_time  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    from diagnose.kb.loader import load_pack
    from diagnose.pg.server import TempPostgres
    from diagnose.profile import Resolver
    from diagnose.checks.base import RunResources
    from diagnose.runner import run_check, run_probe
    from diagnose.triage import plan, run_triage
    from diagnose.world.build import World
    from diagnose.world.stack import load_stack

    pack = load_pack()
    stack = load_stack(pack)
    checks = [c for e in pack.entries for c in e.checks]
    with TempPostgres() as pg, tempfile.TemporaryDirectory() as tmp:
        with World(pack, stack.example(stack.default), pg, Path(tmp) / "world") as world:
            def serial() -> None:
                resolver = Resolver(world.profile)
                now = datetime.now(timezone.utc)
                for check in checks:
                    run_check(check, resolver, check.timeout or 10.0, now)

            distinct_probes = plan(pack.entries).probes

            def serial_shared() -> None:
                resolver, shared = Resolver(world.profile), RunResources()
                now = datetime.now(timezone.utc)
                for check in distinct_probes:
                    run_probe(check, resolver, check.timeout or 10.0, now, None, shared)
                shared.close()

            def concurrent() -> None:
                run_triage(pack, Resolver(world.profile), {})

            concurrent()  # warm imports and connections alike for both
            serial()
            serial_shared()
            t_serial = median_time(serial, args.runs)
            t_shared = median_time(serial_shared, args.runs)
            t_triage = median_time(concurrent, args.runs)

            profile = Path(tmp) / "diagnose.yaml"
            profile.write_text(yaml.safe_dump(world.profile.sources))
            env = dict(os.environ, PYTHONPATH=str(ROOT))
            argv = [sys.executable, "-m", "diagnose", "triage", "--profile", str(profile), "-q", "-o", f"{tmp}/t.md"]
            subprocess.run(argv, env=env, cwd=tmp, capture_output=True)  # warm the KB cache

            def cli() -> None:
                proc = subprocess.run(argv, env=env, cwd=tmp, capture_output=True)
                if proc.returncode != 1:
                    sys.exit(f"bench: triage exited {proc.returncode}, expected 1: {proc.stderr[-400:]!r}")

            t_cli = median_time(cli, args.runs)
    distinct = len(plan(pack.entries).probes)
    print(f"{len(pack.entries)} entries, {len(checks)} checks, {distinct} distinct probes; medians of {args.runs} runs\n")
    print(f"{'figure':<44} {'ours':>9} {'baseline':>10} {'ratio':>7} {'goal':>10}  met")
    ratio = t_serial / t_triage
    print(f"{'triage vs the same checks one by one':<44} {t_triage * 1000:7.0f}ms {t_serial * 1000:8.0f}ms "
          f"{ratio:6.1f}x {'>= 3x':>10}  {'yes' if ratio >= 3 else 'no'}")
    print(f"{'triage vs distinct probes one by one, shared':<44} {t_triage * 1000:7.0f}ms {t_shared * 1000:8.0f}ms "
          f"{t_shared / t_triage:6.1f}x {'':>10}  (for information)")
    print(f"{'diagnose triage, whole CLI process':<44} {t_cli * 1000:7.0f}ms {'':>10} {'':>7} {'< 1500ms':>10}  "
          f"{'yes' if t_cli < 1.5 else 'no'}")


if __name__ == "__main__":
    main()
