"""``dirsize`` checks: are the files of a folder (not its subfolders) at most ``max_bytes`` together?"""

from __future__ import annotations

from typing import Any, Mapping

from diagnose.checks.base import Context, Evidence, Outcome

KIND = "dirsize"
SOURCE = "directory"
SCHEMA: dict[str, Any] = {
    "properties": {
        "directory": {"type": "string", "description": "name of the directory source"},
        "max_bytes": {"type": "integer", "minimum": 1, "description": "the largest healthy total size"},
    },
    "required": ["directory", "max_bytes"],
}


def run(check: Mapping[str, Any], ctx: Context) -> Outcome:
    folder = ctx.source("directory", check["directory"])
    sizes = {p.name: p.stat().st_size for p in sorted(folder.iterdir()) if p.is_file()}
    total = sum(sizes.values())
    return Outcome(passed=total <= check["max_bytes"], vars={"bytes": total, "max_bytes": check["max_bytes"]},
                   evidence=[Evidence(kind="values", title=f"files of {check['directory']}", values=sizes)])


def manual(check: Mapping[str, Any]) -> str:
    return f"du -cb <directory {check['directory']}>/*"
