#!/usr/bin/env python3
"""``kind: log`` checks against grep and ripgrep on the same files, measured in the same run.

    python bench/log_speed.py [--runs N] [--size 1G] [--nonl-size 2000000000] [--regen]

"ours" is bench/log_probe.py, a fresh process running the checks through ``run_probes`` (its
wall time includes start-up, as the baselines' does). Medians of N runs, page cache warm.
Figures, over bench/data/logs/ (built by bench/log_data.py when missing):
  1-3  full scan of week.log: a literal, a regex with a literal part, a case-insensitive
       literal; against `rg -n` (goal: at least half its throughput), `rg -c` (information)
       and GNU `grep -n` (goal: faster)
  4    `since: 1h`: the check's own time (run_probes, in the process) against rg scanning
       the whole file (goal: >= 20x faster); the whole process's time for information
  5    the .gz against `zcat F.gz | grep -c literal`, inflated by ISA-L (the default when the
       isal package is installed; goal: >= 2.5x) and by zlib (DIAGNOSE_GUNZIP=zlib, the
       fallback; goal: no slower)
  5b   a week as logrotate leaves it (the live file, six daily .gz): whole files against
       `{ zcat *.gz; cat app.log; } | grep -c`, the .gz scanned at once up to the processors and one at
       a time (DIAGNOSE_GZ_WORKERS=1) (goal: >= 2.5x); `since: 1h` over the same set (every .gz skipped
       by its modification time; goal: >= 20x)
  6    peak RSS (process + children): week.log full scan, nonl.log (2 GB, no newline) with an
       absent literal and with one that matches; rg's for information    goal: < 150 MB
  7    five checks in one run_probes call against one call each           goal: bytes read
       (/proc/self/io rchar) in the one call <= 1.2x the file
Every result of ours is also compared with the plain scan (DIAGNOSE_LOGSCAN=plain: no ripgrep,
no binary search): count, times and evidence lines must be identical. Exit 0 whether or not a
goal is met; 1 when ours could not be measured, 2 when the data could not be built.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import log_data
from log_probe import differences
from table import met, print_table

LITERAL = "position_sync_failed"
REGEX = r"position_sync_failed account=\d+ error=\w+"
ICASE = "connection reset by peer"
NONL_HIT = "abcdefgh"
GOAL_RSS_MB = 150
GOAL_GZ = 2.5   # the .gz with ISA-L against zcat | grep -c; with zlib (the fallback): no slower


def gunzip_isal() -> bool:
    """Whether the probe's Python inflates with ISA-L (diagnose's default when isal is installed)."""
    try:
        import isal.isal_zlib  # noqa: F401
    except ImportError:
        return False
    return True


class Failed(Exception):
    """A measurement that could not be taken (crash, bad output, check error)."""


@dataclass
class Sample:
    wall: float
    rss_kb: int
    data: dict = field(default_factory=dict)   # ours: the probe's JSON; baselines: {"lines"}


def check(cid: str, pattern: str, ignore_case: bool = False, since: str | None = None) -> dict:
    raw = {"id": cid, "kind": "log", "title": cid, "log": "app", "pattern": pattern,
           "ignore_case": ignore_case, "last": 5, "expect": {"max": 0}}
    return {**raw, "since": since} if since else raw


def find_rg() -> str | None:
    beside = os.path.join(sysconfig.get_path("scripts"), "rg")
    return beside if os.access(beside, os.X_OK) else shutil.which("rg")


def run_cmd(argv: list[str], env: dict) -> Sample:
    """Wall time and peak RSS (``wait4``) of a baseline; output drained, never held (2 GB lines)."""
    with tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err, env=env, cwd=ROOT)
        lines = 0
        while chunk := proc.stdout.read(1 << 20):
            lines += chunk.count(b"\n")
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        proc.stdout.close()
        if code not in (0, 1):  # grep and rg: 1 means no match
            err.seek(0)
            raise Failed(f"{' '.join(argv)} exited {code}: {err.read()[-300:].decode(errors='replace').strip()}")
    return Sample(wall, usage.ru_maxrss, {"lines": lines})


def run_ours(path: str, checks: list[dict], timeout: float, plain: bool = False,
             separately: bool = False, gunzip: str | None = None, rotated: bool = False,
             gz_workers: int | None = None) -> Sample:
    env = {k: v for k, v in os.environ.items() if k not in ("DIAGNOSE_LOGSCAN", "DIAGNOSE_GUNZIP",
                                                              "DIAGNOSE_GZ_WORKERS")}
    if plain:
        env["DIAGNOSE_LOGSCAN"] = "plain"
    if gunzip:
        env["DIAGNOSE_GUNZIP"] = gunzip
    if gz_workers:
        env["DIAGNOSE_GZ_WORKERS"] = str(gz_workers)
    argv = [sys.executable, str(HERE / "log_probe.py"), "--path", path, "--now", log_data.NOW.isoformat(),
            "--timeout", str(timeout)] + (["--separately"] if separately else []) + (["--rotated"] if rotated else []) \
        + [json.dumps(c) for c in checks]
    started = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, env=env, cwd=ROOT, check=False)
    wall = time.perf_counter() - started
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        raise Failed(f"log_probe exited {proc.returncode}: {proc.stderr[-400:].decode(errors='replace').strip()}")
    bad = [f"{r['status']}: {r['detail']}" for r in data["results"] if r["status"] not in ("pass", "fail")]
    if bad:
        raise Failed(bad[0])
    return Sample(wall, data["maxrss_kb"], data)


class Bench:
    def __init__(self, args, files: dict):
        self.args, self.files = args, files
        self.rows: list[tuple] = []
        self.notes: list[str] = []
        self.failed: list[str] = []
        self.samples: dict[str, list[Sample]] = {}
        self.env = dict(os.environ, LC_ALL="C.UTF-8")
        self.rg, self.grep, self.zcat = find_rg(), shutil.which("grep"), shutil.which("zcat")

    def measure(self, **jobs) -> None:
        """Run each job ``--runs`` times, interleaved; keep its samples or why it failed."""
        for name in jobs:
            self.samples[name] = []
        for _ in range(self.args.runs):
            for name, job in jobs.items():
                if job is None or isinstance(self.samples[name], str):
                    continue
                try:
                    self.samples[name].append(job())
                except Failed as exc:
                    self.samples[name] = str(exc)
        for name, job in jobs.items():
            if job is None:
                self.samples[name] = "not measured (tool missing)"
            elif isinstance(self.samples[name], str) and name.startswith("ours"):
                self.failed.append(f"{name}: {self.samples[name]}")

    def wall(self, name: str) -> float | None:
        got = self.samples.get(name)
        return statistics.median(s.wall for s in got) if isinstance(got, list) and got else None

    def cell(self, name: str, size: int | None = None) -> str:
        got, t = self.samples.get(name), self.wall(name)
        if t is None:
            return "failed" if name.startswith("ours") else str(got or "not measured")[:40]
        return f"{t:.2f} s" + (f" {size / t / 1e6:,.0f} MB/s" if size else "")

    def speed_row(self, figure: str, ours: str, base: str, goal: float | None, size: int | None,
                  same: str = "yes", strict: bool = False) -> None:
        """Ratio = baseline time / our time (= our throughput / the baseline's); ``strict``: > goal."""
        t_ours, t_base = self.wall(ours), self.wall(base)
        ratio = t_base / t_ours if t_ours and t_base else None
        if goal is None or t_base is None:
            ok = None  # for information, or no baseline to compare with
        else:
            ok = ratio is not None and (ratio > goal if strict else ratio >= goal) and same == "yes"
        goal_text = "" if goal is None else f"{'>' if strict else '>='} {goal:g}x"
        self.rows.append((figure, self.cell(ours, size), self.cell(base, size),
                          "" if ratio is None else f"{ratio:.2f}x", goal_text,
                          met(ok) + (" (differs from plain)" if same.startswith("no") else "")))

    def plain_check(self, label: str, ours: str, path: str, checks: list[dict], rotated: bool = False) -> str:
        """Compare the first sample of ``ours`` with one plain-scan run of the same checks."""
        got = self.samples.get(ours)
        if not isinstance(got, list) or not got:
            return "not compared"
        try:
            plain = run_ours(path, checks, self.args.timeout, plain=True, rotated=rotated)
            same = differences(got[0].data, plain.data)
        except Failed as exc:
            same = f"not compared (plain scan failed: {exc})"
        self.notes.append(f"identical to the plain scan, {label}: {same}")
        return same

    def full_scan(self, label: str, pattern: str, ignore_case: bool, grep_flags: str) -> None:
        week, size, rg, grep = self.files["week"], self.files["week_size"], self.rg, self.grep
        icase = ["-i"] if ignore_case else []
        rg_n, rg_c = ([rg, "--no-config", opt, *icase, "--", pattern, week] for opt in ("-n", "-c"))
        grep_n = [grep, "-n" + grep_flags + ("i" if ignore_case else ""), "--", pattern, week]
        checks = [check(label, pattern, ignore_case)]
        self.measure(**{f"ours {label}": lambda: run_ours(week, checks, self.args.timeout),
                        f"rg -n {label}": rg and (lambda: run_cmd(rg_n, self.env)),
                        f"rg -c {label}": rg and (lambda: run_cmd(rg_c, self.env)),
                        f"grep {label}": grep and (lambda: run_cmd(grep_n, self.env))})
        same = self.plain_check(label, f"ours {label}", week, checks)
        self.speed_row(f"full scan, {label}: ours vs rg -n", f"ours {label}", f"rg -n {label}", 0.5, size, same)
        self.speed_row("  vs rg -c", f"ours {label}", f"rg -c {label}", None, size)
        self.speed_row(f"  vs grep -n{grep_flags}{'i' if ignore_case else ''}", f"ours {label}", f"grep {label}",
                       1, size, same, strict=True)
        counts = [f"{name} {self.count(key)}" for name, key in
                  (("ours", f"ours {label}"), ("rg -n", f"rg -n {label}"), ("grep", f"grep {label}"))]
        self.notes.append(f"matching lines, {label}: {', '.join(counts)}")

    def count(self, name: str) -> str:
        got = self.samples.get(name)
        if not isinstance(got, list) or not got:
            return "-"
        data = got[0].data
        return str(data["results"][0]["vars"]["count"] if "results" in data else data["lines"])

    def since(self) -> None:
        week = self.files["week"]
        checks = [check("since 1h", LITERAL, since="1h")]
        self.measure(**{"ours since": lambda: run_ours(week, checks, self.args.timeout)})
        same = self.plain_check("since 1h", "ours since", week, checks)
        got, t_rg = self.samples["ours since"], self.wall("rg -n literal")
        if isinstance(got, list) and got:
            # the goal is on the check itself: interpreter start-up is paid once per run, for
            # all its checks, and is measured on its own by cli_speed.py
            t = statistics.median(s.data["elapsed"] for s in got)
            ratio = t_rg / t if t_rg and t else None
            ok = ratio is not None and ratio >= 20 and same == "yes"
            self.rows.append(("since: 1h, literal: the check vs rg -n whole file", f"{t:.3f} s",
                              self.cell("rg -n literal"), f"{ratio:.1f}x" if ratio else "", ">= 20x",
                              met(ok) + (" (differs from plain)" if same.startswith("no") else "")))
        self.speed_row("  the same, whole process (with Python start-up)", "ours since", "rg -n literal", None, None)

    def gz(self) -> None:
        gz, size = self.files["gz"], self.files["week_size"]
        checks = [check("gz", LITERAL)]
        pipeline = ["sh", "-c", 'zcat "$1" | grep -c -- "$2"', "sh", gz, LITERAL]
        isal = gunzip_isal()
        self.measure(**{"ours gz": lambda: run_ours(gz, checks, self.args.timeout),
                        "ours gz, zlib": lambda: run_ours(gz, checks, self.args.timeout, gunzip="zlib"),
                        "zcat | grep -c": self.zcat and self.grep and (lambda: run_cmd(pipeline, self.env))})
        same = self.plain_check("gz", "ours gz", gz, checks)
        same_zlib = self.plain_check("gz with zlib", "ours gz, zlib", gz, checks)
        if isal:
            self.speed_row("week.log.gz, literal (ISA-L): ours vs zcat | grep -c", "ours gz", "zcat | grep -c",
                           GOAL_GZ, size, same)
        else:
            self.notes.append("isal is not installed: the .gz rows both inflate with zlib")
            self.rows.append(("week.log.gz, literal (ISA-L): ours vs zcat | grep -c", "isal missing", "", "",
                              f">= {GOAL_GZ:g}x", "no"))
        self.speed_row("week.log.gz, literal (zlib fallback): ours vs zcat | grep -c", "ours gz, zlib",
                       "zcat | grep -c", 1, size, same_zlib)

    def rotated(self) -> None:
        """A week as logrotate leaves it: the live file and six ``.gz``, one a day. Whole files: the .gz scanned
        at once up to the processors (the default) and one at a time; ``since: 1h``: every .gz skipped."""
        live, gzs, size = self.files["rotated"], self.files["rotated_gz"], self.files["week_size"]
        whole, recent = [check("rotated", LITERAL)], [check("rotated 1h", LITERAL, since="1h")]
        pipeline = ["sh", "-c", '{ zcat "$@"; cat "$0"; } | grep -c -- ' + LITERAL, live, *gzs]
        self.measure(**{"ours rotated": lambda: run_ours(live, whole, self.args.timeout, rotated=True),
                        "ours rotated, 1 worker": lambda: run_ours(live, whole, self.args.timeout, rotated=True,
                                                                   gz_workers=1),
                        "ours rotated 1h": lambda: run_ours(live, recent, self.args.timeout, rotated=True),
                        "zcat | grep -c, rotated": self.zcat and self.grep and (lambda: run_cmd(pipeline, self.env))})
        same = self.plain_check("rotated week", "ours rotated", live, whole, rotated=True)
        same_1h = self.plain_check("rotated week, since 1h", "ours rotated 1h", live, recent, rotated=True)
        cores = len(os.sched_getaffinity(0))
        self.speed_row(f"rotated week (6 .gz + live), literal, {cores} at once: ours vs zcat | grep -c",
                       "ours rotated", "zcat | grep -c, rotated", GOAL_GZ, size, same)
        self.speed_row("  the same, one .gz at a time (DIAGNOSE_GZ_WORKERS=1)", "ours rotated, 1 worker",
                       "zcat | grep -c, rotated", GOAL_GZ, size)
        self.speed_row("  at once vs one at a time", "ours rotated", "ours rotated, 1 worker", None, None)
        peak = self.samples.get("ours rotated")
        if isinstance(peak, list) and peak:
            self.notes.append(f"rotated week, {cores} .gz at once: peak RSS {max(x.rss_kb for x in peak) / 1024:.0f} MB "
                              f"(process + largest child; goal < {GOAL_RSS_MB} MB)")
        got = self.samples.get("ours rotated 1h")
        if isinstance(got, list) and got:
            files = got[0].data["results"][0]["vars"].get("files")
            self.notes.append(f"rotated week, since 1h: files read {files} (the live file; the six .gz skipped "
                              f"unopened, by their modification time)")
        self.speed_row("rotated week, since: 1h: ours vs zcat | grep -c", "ours rotated 1h",
                       "zcat | grep -c, rotated", 20, None, same_1h)

    def memory(self) -> None:
        nonl, rg = self.files["nonl"], self.rg
        jobs = {}
        for label, pattern in (("absent literal", LITERAL), (f"'{NONL_HIT}'", NONL_HIT)):
            checks = [check(f"nonl {label}", pattern)]
            jobs[f"ours nonl {label}"] = lambda checks=checks: run_ours(nonl, checks, self.args.timeout)
            jobs[f"rg -c nonl {label}"] = rg and (lambda p=pattern: run_cmd([rg, "--no-config", "-c", "--", p, nonl],
                                                                             self.env))
        self.measure(**jobs)
        self.rss_row("peak RSS, week.log full scan (1-3)", ["ours literal", "ours regex", "ours ignore-case"],
                     ["rg -n literal", "rg -n regex", "rg -n ignore-case"])
        for label, pattern in (("absent literal", LITERAL), (f"'{NONL_HIT}'", NONL_HIT)):
            self.plain_check(f"nonl.log {label}", f"ours nonl {label}", nonl, [check(f"nonl {label}", pattern)])
            self.rss_row(f"peak RSS, nonl.log, {label}", [f"ours nonl {label}"], [f"rg -c nonl {label}"])
            self.notes.append(f"nonl.log {label}: ours {self.cell(f'ours nonl {label}')}, "
                              f"rg -c {self.cell(f'rg -c nonl {label}')}")

    def rss_row(self, figure: str, ours: list[str], base: list[str]) -> None:
        def peak(names):
            got = [s.rss_kb for n in names if isinstance(self.samples.get(n), list) for s in self.samples[n]]
            return max(got) / 1024 if got else None
        mine, theirs = peak(ours), peak(base)
        self.rows.append((figure, "failed" if mine is None else f"{mine:.0f} MB",
                          "not measured" if theirs is None else f"{theirs:.0f} MB",
                          f"{mine / theirs:.2f}x" if mine and theirs else "", f"< {GOAL_RSS_MB} MB",
                          met(None if mine is None else mine < GOAL_RSS_MB)))

    def one_pass(self) -> None:
        week, size = self.files["week"], self.files["week_size"]
        checks = [check("literal", LITERAL), check("regex", REGEX), check("ignore-case", ICASE, True),
                  check("chinese", "行情数据不足"), check("traceback", r"^Traceback \(most recent call last\)")]
        self.measure(**{"ours one call": lambda: run_ours(week, checks, self.args.timeout),
                        "ours one call each": lambda: run_ours(week, checks, self.args.timeout, separately=True)})
        same = self.plain_check("5 checks in one call", "ours one call", week, checks)
        together, apart = self.samples["ours one call"], self.samples["ours one call each"]
        if isinstance(together, list) and isinstance(apart, list) and together and apart:
            self.notes.append(f"one call equals one call each: {differences(together[0].data, apart[0].data)}")
            t1, t5 = (statistics.median(s.data["elapsed"] for s in x) for x in (together, apart))
            self.rows.append(("5 checks: one run_probes call vs one call each", f"{t1:.2f} s", f"{t5:.2f} s",
                              f"{t5 / t1:.2f}x", "", ""))
            r1, r5 = (statistics.median(s.data["rchar"] or 0 for s in x) for x in (together, apart))
            self.rows.append(("  bytes read (rchar) / file size", f"{r1 / 1e6:,.0f} MB", f"{r5 / 1e6:,.0f} MB",
                              f"{r1 / size:.2f}x", "<= 1.2x", met(r1 <= 1.2 * size and same == "yes")))
            if any(s.data.get("children") for s in together + apart):
                self.notes.append("a child process ran (ripgrep?): rchar misses what a child reads through mmap")
        else:
            self.rows.append(("5 checks: one run_probes call vs one call each", "failed", "", "", "<= 1.2x", "no"))


STEPS = ("full scan, literal", "full scan, regex", "full scan, ignore-case", "since", "gz", "rotated", "memory",
         "one pass")


def warm(paths: list[str]) -> None:
    for path in paths:
        with open(path, "rb", buffering=0) as f:
            while f.read(16 << 20):
                pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--size", type=log_data.parse_size, default=1 << 30, help="week.log size (default 1G)")
    parser.add_argument("--nonl-size", type=log_data.parse_size, default=2 * 10**9, help="nonl.log size (2e9)")
    parser.add_argument("--regen", action="store_true", help="rebuild the data even when present")
    parser.add_argument("--timeout", type=float, default=600.0, help="budget of each check (s)")
    parser.add_argument("--only", action="append", choices=STEPS, metavar="STEP",
                        help=f"run only this step (repeatable): {', '.join(STEPS)}")
    args = parser.parse_args()
    try:
        files = log_data.ensure(args.size, args.nonl_size, args.regen, say=lambda m: print(m, file=sys.stderr))
    except OSError as exc:
        print(f"log_speed: cannot build the data in {log_data.DATA}: {exc}", file=sys.stderr)
        return 2
    bench = Bench(args, files)
    started = time.perf_counter()
    warm([files["week"], files["gz"], files["nonl"], files["rotated"], *files["rotated_gz"]])
    steps = [("full scan, literal", lambda: bench.full_scan("literal", LITERAL, False, "")),
             ("full scan, regex", lambda: bench.full_scan("regex", REGEX, False, "P")),
             ("full scan, ignore-case", lambda: bench.full_scan("ignore-case", ICASE, True, "")),
             ("since", bench.since), ("gz", bench.gz), ("rotated", bench.rotated), ("memory", bench.memory),
             ("one pass", bench.one_pass)]
    for name, step in steps:
        if args.only and name not in args.only:
            continue
        print(f"log_speed: {name}...", file=sys.stderr, flush=True)
        step()
    print(f"week.log {files['week_size'] / 2**30:.2f} GiB, its .gz {files['gz_size'] / 2**20:.0f} MiB, "
          f"nonl.log {files['nonl_size'] / 1e9:.2f} GB; rg: {bench.rg or 'missing, rg rows not measured'}; "
          f"baselines under LC_ALL=C.UTF-8; medians of {args.runs} runs ({time.perf_counter() - started:.0f} s)\n")
    print_table(bench.rows)
    print()
    for note in bench.notes + [f"could not measure {f}" for f in bench.failed]:
        print(note)
    return 1 if bench.failed else 0


if __name__ == "__main__":
    sys.exit(main())
