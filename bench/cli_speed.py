#!/usr/bin/env python3
"""Wall time of the CLI against bare Python start-up, measured in the same run.

    python bench/cli_speed.py [--runs N] [--import-runs N] [--top N]

Figures (medians of N runs, each a fresh process):
  baseline   `python -c pass`
  --help     `diagnose --help`                        aim: within 150 ms of the baseline
  list, show `diagnose list`, `diagnose show stale-positions`, `diagnose explain "<an English error>"`,
  explain                                             aim: within 100 ms of the baseline (issue 16)
  explain zh `diagnose explain "<a Chinese sentence>"` (segmentation, both languages of every entry)
                                                      aim: within 300 ms of the baseline
  symptom    `diagnose stale-positions` on the demo world (9 checks: 4 sql, 2 log, 2 env, 1 http)
                                                      aim: within 250 ms of the baseline (issue 16)
The demo world (a throwaway PostgreSQL, log and env files, a fake api) is built once before timing;
the cache is warm, as on any second run (a throwaway DIAGNOSE_CACHE_DIR, filled by one untimed run of
each command), and so is the byte-code (kept in a throwaway PYTHONPYCACHEPREFIX, so the figures do not
depend on the state of __pycache__).

Below the table, the import-time offenders of `--help` and of the symptom run, from
`python -X importtime` (medians of --import-runs runs, in ms): the top modules by self time, and
the top packages by cumulative time, each with the module that first imported it ("a function or
the script": a lazy import inside a function, or the script itself). `diagnose` is split into its
sub-packages, which is where a fix would go. For these runs the CLI starts under a small driver
(IMPORT_DRIVER) that lets one thread import at a time and sends importlib.import_module through
the import statement: -X importtime keeps one global nesting level, so the imports of concurrent
checks would otherwise be charged to each other, and the modules loaded by import_module (the
check kinds) would not be listed at all.
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
#: what an operator types (not an entry's own sentence): one in Chinese, one English error
CHINESE_MESSAGE = "主力合约已经换了，但是没有收到换月提醒"
ENGLISH_MESSAGE = "order rejected: position_mutex_blocked (BTCUSDT 1h)"


def timed(argv: list[str], runs: int, env: dict, expect_code: int = 0) -> float:
    """Median wall time of ``argv`` after one run that is not timed (it fills the cache, as any first run
    does); a run that exits with another code aborts the benchmark."""
    samples = []
    for run in range(runs + 1):
        started = time.perf_counter()
        proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=env["_CWD"])
        if run:
            samples.append(time.perf_counter() - started)
        if proc.returncode != expect_code:
            sys.exit(f"bench: {' '.join(argv)} exited {proc.returncode}, expected {expect_code}: {proc.stderr[-500:]!r}")
    return statistics.median(samples)


#: runs the CLI with one importing thread at a time, import_module going through ``import`` (see above)
IMPORT_DRIVER = """
import builtins, importlib, importlib.util, runpy, sys, threading
lock, plain_import = threading.RLock(), builtins.__import__
def one_at_a_time(*args, **kwargs):
    with lock:
        return plain_import(*args, **kwargs)
def import_module(name, package=None):
    name = importlib.util.resolve_name(name, package)
    one_at_a_time(name)
    return sys.modules[name]
builtins.__import__, importlib.import_module = one_at_a_time, import_module
sys.argv = ["diagnose", *sys.argv[1:]]
runpy.run_module("diagnose", run_name="__main__", alter_sys=True)
"""


def import_lines(stderr: str) -> list[tuple[str, int, int, int]]:
    """``(module, self us, cumulative us, depth)`` from ``-X importtime`` lines, in printed order."""
    rows = []
    for line in stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        own, cumulative, name = line[len("import time:"):].split("|", 2)
        if not own.strip().lstrip("-").isdigit():
            continue  # the header line
        depth = (len(name) - len(name.lstrip(" ")) - 1) // 2
        rows.append((name.strip(), int(own), int(cumulative), depth))
    return rows


def package_of(module: str) -> str:
    """The package a module is charged to: its top-level name, or ``diagnose.<sub>`` for ours."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "diagnose" and len(parts) > 1 else parts[0]


def import_profile(rows: list[tuple[str, int, int, int]]) -> tuple[dict, dict, dict]:
    """Self time per module, cumulative time per package and each package's first importer.

    A package's cumulative time is the sum over its outermost imports (those with no ancestor in
    the same package), so a package re-entered from its own dependencies is not counted twice.
    """
    own: dict[str, int] = {}
    cumulative: dict[str, int] = {}
    importer: dict[str, str] = {}
    ancestors: list[str] = []  # modules on the path from the top, by depth
    for name, self_us, cumulative_us, depth in reversed(rows):  # reversed = parents before children
        del ancestors[depth:]
        own[name] = own.get(name, 0) + self_us
        package = package_of(name)
        if all(package_of(a) != package for a in ancestors):
            cumulative[package] = cumulative.get(package, 0) + cumulative_us
            importer[package] = ancestors[-1] if ancestors else "(a function or the script)"  # the earliest wins
        ancestors.append(name)
    return own, cumulative, importer


def median_of(dicts: list[dict[str, int]]) -> dict[str, float]:
    """Per key, the median over runs (a key missing from a run counts as 0), in ms."""
    keys = {k for d in dicts for k in d}
    return {k: statistics.median(d.get(k, 0) for d in dicts) / 1000 for k in keys}


def print_import_offenders(title: str, argv: list[str], runs: int, env: dict, top: int = 10,
                           expect_code: int = 0) -> None:
    """Top modules by self time and top packages by cumulative time of ``argv`` (``py -m diagnose ...``)."""
    assert argv[1:3] == ["-m", "diagnose"], argv
    profiles, totals = [], []
    for _ in range(runs):
        proc = subprocess.run([argv[0], "-X", "importtime", "-c", IMPORT_DRIVER, *argv[3:]], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True, env=env, cwd=env["_CWD"])
        if proc.returncode != expect_code:
            sys.exit(f"bench: -X importtime {' '.join(argv[1:])} exited {proc.returncode}, expected {expect_code}: "
                     f"{proc.stderr[-500:]!r}")
        rows = import_lines(proc.stderr)
        profiles.append(import_profile(rows))
        totals.append(sum(cumulative_us for _, _, cumulative_us, depth in rows if depth == 0))
    own = median_of([p[0] for p in profiles])
    cumulative = median_of([p[1] for p in profiles])
    importer = profiles[0][2]
    print(f"\nimport time of `{title}`: {statistics.median(totals) / 1000:.1f} ms in all "
          f"(median of {runs} runs of -X importtime, which slows imports down)")
    print(f"  {'module (top by self time)':<44} {'self':>8}")
    for name, ms in sorted(own.items(), key=lambda kv: -kv[1])[:top]:
        print(f"  {name:<44} {ms:6.1f}ms")
    print(f"  {'package (top by cumulative time)':<44} {'cumul':>8}  first imported by")
    for name, ms in sorted(cumulative.items(), key=lambda kv: -kv[1])[:top]:
        print(f"  {name:<44} {ms:6.1f}ms  {importer.get(name, '?')}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--import-runs", type=int, default=3,
                        help="runs of -X importtime behind the offender lists (0: no lists)")
    parser.add_argument("--top", type=int, default=10, help="length of each offender list")
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
            # byte-code in a private cache, as an installed tool has it: with PYTHONDONTWRITEBYTECODE
            # (or a stale __pycache__) every run would recompile whatever was edited last
            env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
            # and a cache folder of its own, as a user's holds what their own runs wrote (a developer's also holds
            # what the tests wrote: hundreds of query verdicts that a run would read and check)
            env.update(_CWD=tmp, PYTHONPATH=str(ROOT), PYTHONPYCACHEPREFIX=f"{tmp}/pycache",
                       DIAGNOSE_CACHE_DIR=f"{tmp}/cache")
            py = sys.executable
            subprocess.run([py, "-m", "diagnose", "stale-positions", "--profile", str(profile), "-o",
                            f"{tmp}/warm.md"], env=env, cwd=tmp, capture_output=True)  # warm the KB cache
            help_argv = [py, "-m", "diagnose", "--help"]
            symptom_argv = [py, "-m", "diagnose", "stale-positions", "--profile", str(profile), "-o", f"{tmp}/r.md"]
            chinese_argv = [py, "-m", "diagnose", "explain", CHINESE_MESSAGE]
            base = timed([py, "-c", "pass"], args.runs, env)
            rows = [("python -c pass (baseline)", base, None),
                    ("diagnose --help", timed(help_argv, args.runs, env), 0.150),
                    ("diagnose list", timed([py, "-m", "diagnose", "list"], args.runs, env), 0.100),
                    ("diagnose show stale-positions", timed([py, "-m", "diagnose", "show", "stale-positions"],
                                                            args.runs, env), 0.100),
                    ("diagnose explain (English error)", timed([py, "-m", "diagnose", "explain", ENGLISH_MESSAGE],
                                                               args.runs, env), 0.100),
                    ("diagnose explain (Chinese sentence)", timed(chinese_argv, args.runs, env), 0.300),
                    ("diagnose stale-positions (demo world)", timed(symptom_argv, args.runs, env, expect_code=1),
                     0.250)]
            print_table(base, rows)
            if args.import_runs > 0:
                print_import_offenders("diagnose --help", help_argv, args.import_runs, env, args.top)
                print_import_offenders("diagnose explain (Chinese sentence)", chinese_argv, args.import_runs, env,
                                       args.top)
                print_import_offenders("diagnose stale-positions (demo world)", symptom_argv, args.import_runs, env,
                                       args.top, expect_code=1)


def print_table(base: float, rows: list[tuple[str, float, float | None]]) -> None:
    print(f"{'figure':<40} {'median':>9} {'- baseline':>11} {'ratio':>7} {'goal':>12}  met")
    for name, value, goal in rows:
        over = value - base
        goal_text = f"<= +{goal * 1000:.0f} ms" if goal else ""
        met = "" if goal is None else ("yes" if over <= goal else "no")
        print(f"{name:<40} {value * 1000:8.1f}ms {over * 1000:+10.1f}ms {value / base:6.2f}x {goal_text:>12}  {met}")


if __name__ == "__main__":
    main()
