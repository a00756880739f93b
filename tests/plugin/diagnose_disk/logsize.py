"""``logsize`` checks: is a log (all of its files) smaller than ``max_bytes``?

A full disk often starts as a log nobody rotates; this kind reads only the files' sizes.
"""

from __future__ import annotations

import glob
import os
from typing import Any, Mapping

from diagnose.checks.base import CheckError, Context, Evidence, Outcome

KIND = "logsize"
SOURCE = "log"
SCHEMA: dict[str, Any] = {
    "properties": {
        "log": {"type": "string", "description": "name of the log source"},
        "max_bytes": {"type": "integer", "minimum": 1, "description": "the largest healthy total size"},
    },
    "required": ["log", "max_bytes"],
}


def run(check: Mapping[str, Any], ctx: Context) -> Outcome:
    spec = ctx.log(check["log"])
    files = sorted({f for pattern in spec.paths for f in glob.glob(os.path.expanduser(pattern))})
    if not files:
        raise CheckError(f"no file of log '{check['log']}' exists")
    sizes = {f: os.path.getsize(f) for f in files}
    total = sum(sizes.values())
    return Outcome(passed=total <= check["max_bytes"], vars={"bytes": total, "max_bytes": check["max_bytes"]},
                   evidence=[Evidence(kind="values", title="file sizes", values=sizes)])


def lint(check: Mapping[str, Any]) -> list[tuple[str, str]]:
    if check.get("max_bytes", 1) > 10**12:
        return [("max_bytes", "more than a terabyte: is that a typo?")]
    return []


def manual(check: Mapping[str, Any]) -> str:
    return f"du -cb <files of log {check['log']}>"
