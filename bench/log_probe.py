#!/usr/bin/env python3
"""Run ``kind: log`` checks over one file through the public probe runner; print JSON.

    python bench/log_probe.py --path FILE --now ISO [--timeout S] [--separately] [--rotated] CHECK_JSON...

Used by bench/log_speed.py as a fresh process per measurement, so its wall time includes
start-up (as the grep/rg baselines do) and its peak memory can be read. Each CHECK_JSON is a
check mapping as in the knowledge base (``{"id", "kind": "log", "log": "app", "pattern", ...}``);
the source ``app`` resolves to ``FILE`` (UTC; its rotated siblings too with ``--rotated``). All checks go to ONE
``run_probes`` call, or with ``--separately`` to one call each.

Prints ``{"elapsed", "rchar", "maxrss_kb", "children", "results": [...]}``: seconds spent in
``run_probes``, bytes read through read(2) during them (``/proc/self/io`` rchar; includes reaped
children, but not what a child read through mmap), peak RSS in KiB of this process plus its
largest child, whether any child ran, and per check its status, vars and evidence lines. Line
texts are given as length and digest (a line can be 2 GB long) plus a short head;
:func:`differences` compares two such outputs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def rchar() -> int | None:
    """Bytes this process (and its reaped children) read through read(2) so far."""
    try:
        with open("/proc/self/io") as io:
            return next(int(line.split()[1]) for line in io if line.startswith("rchar:"))
    except (OSError, StopIteration, ValueError):
        return None


def digest(text: str) -> dict:
    raw = text.encode("utf-8", "surrogateescape")
    return {"len": len(raw), "sha": hashlib.sha1(raw).hexdigest()[:16], "head": text[:60]}


def as_check(raw: dict, timeout: float):
    from diagnose.kb.model import Check

    return Check(id=raw["id"], kind="log", title=raw.get("title", raw["id"]), expects="", causes=(),
                 messages={"pass": "ok", "fail": "{count} line(s)"}, manual=None, timeout=timeout,
                 weight=1.0, raw=raw)


def summary(probe) -> dict:
    """What must not change between the fast engine and the plain scan."""
    if probe is None:
        return {"status": "missing", "detail": "run_probes returned no result", "vars": {}, "lines": []}
    lines = [{"file": line.get("file"), "line": line.get("line"), "offset": line.get("offset"), **digest(str(line.get("text", "")))}
             for ev in probe.evidence if getattr(ev, "kind", None) == "lines" for line in (ev.lines or [])]
    totals = [ev.total for ev in probe.evidence if getattr(ev, "kind", None) == "lines"]
    keep = ("count", "first_time", "last_time", "files")
    return {"status": str(probe.status), "detail": probe.detail, "duration": round(probe.duration, 4),
            "vars": {key: probe.vars.get(key) for key in keep},
            "last": digest(str(probe.vars.get("last", "")))["sha"], "total": totals, "lines": lines}


def _where(line: dict, other: dict):
    """Where a line is: its number when both sides know it, else its byte offset (a time
    window skips the start of a file, so it gives offsets, not numbers)."""
    known = line.get("line") is not None and other.get("line") is not None
    return ("line", line.get("line")) if known else ("offset", line.get("offset"))


def differences(fast: dict, plain: dict) -> str:
    """``yes`` when the fast result equals the plain scan's, else ``no (what differs)``."""
    what = []
    for a, b in zip(fast["results"], plain["results"]):
        for name, same in (("status", a["status"] == b["status"]),
                           ("count", a["vars"].get("count") == b["vars"].get("count")),
                           ("times", (a["vars"].get("first_time"), a["vars"].get("last_time"))
                            == (b["vars"].get("first_time"), b["vars"].get("last_time"))),
                           ("files", a["vars"].get("files") == b["vars"].get("files")),
                           ("line texts", [(x["sha"], x["len"]) for x in a["lines"]]
                            == [(x["sha"], x["len"]) for x in b["lines"]] and a.get("last") == b.get("last")),
                           ("line positions", [_where(x, y) for x, y in zip(a["lines"], b["lines"])]
                            == [_where(y, x) for x, y in zip(a["lines"], b["lines"])])):
            if not same and name not in what:
                what.append(name)
    return "yes" if not what else f"no ({', '.join(what)} differ)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--path", required=True)
    parser.add_argument("--now", required=True, type=datetime.fromisoformat)
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--separately", action="store_true", help="one run_probes call per check")
    parser.add_argument("--rotated", action="store_true", help="FILE's rotated siblings too (FILE.1.gz ...)")
    parser.add_argument("checks", nargs="+", type=json.loads)
    args = parser.parse_args()
    # imported here, so that log_speed.py can import differences() without diagnose
    from diagnose.checks import load_kind
    from diagnose.probes import run_probes
    from diagnose.sources import LogSpec

    spec = LogSpec(name="app", paths=(args.path,), timezone="UTC", rotated=args.rotated)
    resolve = lambda kind, name: spec
    checks = [as_check(raw, args.timeout) for raw in args.checks]
    load_kind("log")  # its imports are start-up, not reading
    before, started = rchar(), time.perf_counter()
    if args.separately:
        probes = [run_probes([check], resolve, now=args.now, default_timeout=args.timeout).get(0) for check in checks]
    else:
        found = run_probes(checks, resolve, now=args.now, default_timeout=args.timeout)
        probes = [found.get(i) for i in range(len(checks))]
    elapsed = time.perf_counter() - started
    after = rchar()
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    json.dump({"elapsed": elapsed, "rchar": None if before is None or after is None else after - before,
               "maxrss_kb": own + children, "children": children > 0,
               "results": [summary(probe) for probe in probes]}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
