"""The one table every benchmark prints: ``figure | ours | baseline | ratio | goal | met``; and
the in-process timing several of them share.

Cells are strings already formatted by the benchmark (units differ from row to row); columns
are as wide as their widest cell, numbers right-aligned, as in cli_speed.py's fixed layout.
"""

from __future__ import annotations

import statistics
import time
from typing import Callable

HEADER = ("figure", "ours", "baseline", "ratio", "goal", "met")


def met(ok: bool | None) -> str:
    """``yes`` / ``no``, or blank for a row shown for information only."""
    return "" if ok is None else ("yes" if ok else "no")


def print_table(rows: list[tuple[str, ...]], header: tuple[str, ...] = HEADER) -> None:
    """Print ``rows`` under ``header``: first column left-aligned, the last free, others right."""
    table = [tuple(header)] + [tuple(str(cell) for cell in row) for row in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        cells = [row[0].ljust(widths[0])] + [cell.rjust(w) for cell, w in zip(row[1:-1], widths[1:-1])]
        print("  ".join(cells + [row[-1]]).rstrip())


def median_time(fn: Callable[[], object], runs: int) -> float:
    """Median wall time of ``fn()`` over ``runs`` calls, in seconds."""
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)
