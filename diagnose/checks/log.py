"""``kind: log``: count the lines of a named log that a regex matches, optionally in a window.

::

    - id: sync-failed-log
      kind: log
      log: execution                    # source name -> files/globs or a command (target profile)
      pattern: 'position_sync_failed'   # Python regex, searched in each line
      ignore_case: false
      since: 1h                         # only lines timed in the last hour (s/m/h/d); absent: all
      expect: {max: 0}                  # on the number of matching lines (default {max: 0})
      last: 5                           # matching lines kept as evidence

``expect: {min: 1}`` turns it around: the fault is a line that is *missing* (no
``position_sync: checking`` in the last 10 minutes means the sync loop is not running).

Vars for messages: ``count``, ``last`` (text of the last matching line), ``first_time`` and
``last_time`` (ISO, or ``""``), ``since``, ``files`` (files read), ``pattern``. The reading
itself lives in :mod:`diagnose.logscan` (one pass per log for all the run's checks on it,
ripgrep for whole files, a binary search for where a window starts); this module only wires
the check to it. In a window that skipped the start of a file, evidence gives each line's
byte ``offset`` in place of its number.

Logs without timestamps (uvicorn's default output, ``print()``, ``docker compose logs`` without
``--timestamps``): a line without a time takes the time of the line before it; with none before
it, a window cannot be applied to it. A file last written before the window opened counts
nothing (its modification time bounds every line in it). Otherwise such lines are counted, the
message and the evidence say so (``no timestamps in backend.log: counted the whole file, last
written 3 days ago``, var ``untimed``), and when the verdict of the count rests on them the
result is not conclusive: it is shown, but alone it makes neither a problem nor a risk (the
verdict is ``inconclusive``). A known log command (``docker compose logs``, ``docker logs``,
``kubectl logs``, ``journalctl``) is given the window itself (``--since``) and asked for
timestamps (:mod:`diagnose.logscan.commands`).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Required, TypedDict, cast

from . import expect as expectations
from .base import CheckError, Context, Evidence, Outcome
from .durations import SINCE_PATTERN, ago, parse_since, since_note
from .expect import Expectation, Operators
from .params import PARAM_SCHEMA, Param, lint_params, resolve_params

if TYPE_CHECKING:  # the scanner is imported when a check runs or is linted: `diagnose show` needs none of it
    from diagnose.logscan.passes import Request
    from diagnose.logscan.scan import ScanResult

KIND = "log"
SOURCE = "log"
#: imported when a check runs (diagnose.probes.preload starts it early)
PRELOAD = ("diagnose.logscan.passes",)

DEFAULT_EXPECT: Operators = {"max": 0}
DEFAULT_LAST = 5

SCHEMA: dict[str, Any] = {
    "properties": {
        "log": {"type": "string", "description": "Name of the log in the target profile (files, globs, "
                "rotated and .gz siblings, or a command such as `docker compose logs --timestamps x`)."},
        "pattern": {"type": "string", "minLength": 1, "format": "regex", "description":
                    "Python regular expression searched in each line (grep semantics: the count is "
                    "of matching lines). Non-ASCII text such as `行情数据不足` works."},
        "ignore_case": {"type": "boolean", "description": "Match regardless of case (default false)."},
        "since": {"type": "string", "pattern": SINCE_PATTERN, "description": "Only lines timed within "
                  "this window before now count: a number and s/m/h/d (`90s`, `15m`, `1h`, `2d`). "
                  "Absent: the whole log."},
        "expect": {**expectations.SCHEMA, "description": "Expectation on the number of matching lines "
                   "(default `{max: 0}`; `{min: 1}` when the fault is a missing line)."},
        "last": {"type": "integer", "minimum": 0, "maximum": 100,
                 "description": "How many of the last matching lines to show as evidence (default 5)."},
        "params": {"type": "object", "additionalProperties": PARAM_SCHEMA, "description": (
            "Values written into the pattern at `%(name)s`, regex-escaped: a value of the deployment itself "
            "(`{env: realtime, key: REALTIME_TENANT}`) instead of one copied from a reference deployment. With "
            "params, a literal % in the pattern is written %%.")},
        "after": {"type": "string", "minLength": 1, "format": "regex", "description": (
            "Only lines after the last line matching this regex count (within `since`, if given): a crash "
            "before the service's last start (`Application startup complete`) is history, not a fault of the "
            "running service. Lines stamped the same moment as that line count as before it. When it does not "
            "match, or its line has no time, every line in the window counts.")},
        "exclude_own": {"type": "boolean", "description": (
            "Do not count the lines that record diagnose's own refused connection attempts of this run "
            "(the server log's `too many clients` line about them): each attempt cancels one matching line "
            "timed within 5 s of it. For checks on a database server's log.")},
    },
    "required": ["log", "pattern"],
}


class LogCheck(TypedDict, total=False):
    """A ``log`` check as :data:`SCHEMA` validates it (tests/checks/test_kind_types.py keeps the two alike)."""

    log: Required[str]
    pattern: Required[str]
    ignore_case: bool
    since: str
    expect: Expectation
    last: int
    params: dict[str, Param]
    after: str
    exclude_own: bool


def lint(check: LogCheck) -> list[tuple[str, str]]:
    """The pattern compiles, ``since`` parses, expectation regexes compile, params and placeholders match."""
    from diagnose.logscan.scan import compile_pattern

    problems: list[tuple[str, str]] = []
    pattern = check.get("pattern")
    if isinstance(pattern, str) and "params" in check:
        from .sql_text import placeholders

        problems += lint_params(check.get("params") or {}, placeholders(pattern), "pattern", "pattern")
        pattern = bind(pattern, {name: "x" for name in placeholders(pattern)})
    if isinstance(pattern, str):
        try:
            compile_pattern(pattern, bool(check.get("ignore_case")))
        except re.error as exc:
            problems.append(("pattern", f"invalid regex: {exc}"))
    if isinstance(check.get("after"), str):
        try:
            compile_pattern(check["after"], bool(check.get("ignore_case")))
        except re.error as exc:
            problems.append(("after", f"invalid regex: {exc}"))
    try:
        parse_since(check.get("since"))
    except ValueError as exc:
        problems.append(("since", str(exc)))
    problems += expectations.lint(check.get("expect"), "expect")
    return problems


def manual(check: LogCheck) -> str:
    """A grep a human could type (``-P`` when the regex uses Perl-only syntax such as ``\\d``)."""
    pattern = str(check.get("pattern", ""))
    perl = bool(re.search(r"\\[dDsSwWbB]|\(\?|[*+?}]\?", pattern))
    flags = "-n" + ("i" if check.get("ignore_case") else "") + ("P" if perl else "E")
    grep = f"grep {flags} {shlex.quote(pattern)}"
    where = f"<{check.get('log', 'the')} log>"
    lines = [f"{grep} {where}",
             f"# rotated .gz files: z{grep} {where}.*.gz",
             f"# a command source (docker): docker compose logs --timestamps <service> 2>&1 | {grep}"]
    if check.get("since"):
        lines.append(f"# only lines timed within the last {check['since']} count")
    return "\n".join(lines)


def _iso(stamp: datetime | None) -> str:
    return stamp.isoformat(timespec="seconds") if stamp else ""


def bind(pattern: str, values: dict[str, Any]) -> str:
    """``pattern`` with each ``%(name)s`` replaced by its value, regex-escaped (``%%`` is a ``%``)."""
    from .sql_text import PERCENT

    def one(match: re.Match) -> str:
        if match.group(1) in ("%", None):
            return "%"
        name = match.group("name")
        return re.escape(str(values[name])) if name in values else match.group(0)

    return PERCENT.sub(one, pattern)


def request(check: LogCheck, ctx: Context | None = None) -> Request:
    """What the check asks of its log; :class:`CheckError` naming the field that is invalid.
    (The run's shared pass reads the planned checks through this too.) A check with ``params``
    needs ``ctx`` to read them; without it, CheckError."""
    from diagnose.logscan.passes import Request
    from diagnose.logscan.scan import compile_pattern

    pattern, ignore_case = str(check["pattern"]), bool(check.get("ignore_case"))
    if check.get("params"):
        if ctx is None:
            raise CheckError("the pattern has params: its values are read through the run")
        pattern = bind(pattern, resolve_params(check["params"], ctx))
    try:
        compiled = compile_pattern(pattern, ignore_case)
    except re.error as exc:
        raise CheckError(f"invalid pattern {check['pattern']!r}: {exc}") from exc
    try:
        window = parse_since(check.get("since"))
    except ValueError as exc:
        raise CheckError(f"log '{check['log']}': {exc}") from exc
    if window is not None and ctx is not None:
        window = ctx.window(window)    # --since: only what happened after the fix
    try:
        keep = max(0, int(check.get("last", DEFAULT_LAST)))
    except (TypeError, ValueError) as exc:
        raise CheckError(f"last must be a whole number, not {check.get('last')!r}") from exc
    return Request(pattern, ignore_case, window, keep, compiled)


def run(check: LogCheck, ctx: Context) -> Outcome:
    from diagnose.logscan.passes import LogPasses
    from diagnose.logscan.timestamps import TimestampParser, UnknownTimezone, zone

    spec = ctx.log(check["log"])
    name = check["log"]
    wanted = request(check, ctx)
    try:
        stamps = TimestampParser(zone(spec.timezone), ctx.now)
    except UnknownTimezone as exc:
        raise CheckError(f"log '{name}': {exc}") from exc
    passes = cast("LogPasses[Context]", ctx.shared.get("log-passes", lambda: LogPasses(
        ctx.shared.planned, lambda planned, c: planned_requests(cast(LogCheck, planned), c))))  # validated: a LogCheck
    after_time, marker_lines = None, 0
    if check.get("after"):   # count from the last line matching `after` on
        marker = request(marker_check(check), ctx)
        marked = passes.results(name, spec, marker, stamps, ctx)
        after_time = max((r.last_time for _, r in marked if r.last_time), default=None)
        marker_lines = sum(r.count for _, r in marked)
        if after_time is not None:
            # strictly after the start line: a line stamped the same moment (a log with whole seconds
            # cannot order them) is taken as written before it, like the crash that preceded a restart
            window = ctx.now - after_time - timedelta(microseconds=1)
            wanted = replace(wanted, window=min(wanted.window, window) if wanted.window else window)
    own = _own_attempts(ctx) if check.get("exclude_own") else []
    found = passes.results(name, spec, wanted, stamps, ctx)
    outcome = _outcome(check, found, wanted.keep, not spec.command, own)
    if wanted.window is not None:
        _say_what_the_window_could_not_do(outcome, check, found, ctx.now)
    if check.get("params"):  # the values it was judged against, for its messages (never over its own)
        for name, value in resolve_params(check["params"], ctx).items():
            outcome.vars.setdefault(name, value)
    nominal = parse_since(check.get("since"))
    if nominal is not None and ctx.window(nominal) < nominal:   # --since: the message names the real window
        outcome.vars["since"] = f"{ago(ctx.window(nominal))} (from --since, not {check['since']})"
        note = since_note(ctx.window(nominal), check["since"])
        outcome.caveat = f"{outcome.caveat}; {note}" if outcome.caveat else note
    if check.get("after"):
        outcome.vars["after_time"] = _iso(after_time)
        scope = "window" if check.get("since") else "log"
        outcome.evidence[0].title += (f"; counted after the last /{check['after']}/ line ({_iso(after_time)})"
                                      if after_time else f"; no /{check['after']}/ line with a time: counted the whole {scope}")
        if after_time is None and marker_lines and outcome.vars["count"]:
            # the start line is there but has no time: what came before it cannot be told apart
            note = f"the last /{check['after']}/ line has no time: lines before it were counted too"
            outcome.caveat = f"{outcome.caveat}; {note}" if outcome.caveat else note
            outcome.conclusive = False
    return outcome


def _say_what_the_window_could_not_do(outcome: Outcome, check: LogCheck, found: list[tuple[str, ScanResult]],
                                      now: datetime) -> None:
    """A window is only claimed where it was applied. Lines counted without a known time (no
    timestamp, none on a line before them) make a caveat in the message and the evidence; when
    the verdict of the count rests on them, the result is not conclusive. A file last modified
    before the window was not read at all (its time bounds every line in it): the evidence says so."""
    evidence = outcome.evidence[0]
    for label, result in found:
        if result.before_window and result.modified is not None:
            evidence.title += (f"; {_short(label)} last written {ago(now - result.modified)} ago, before the "
                               "window: nothing in it counted")
    untimed = sum(r.untimed for _, r in found)
    if not untimed:
        return
    where = []
    for label, result in found:
        if not result.untimed:
            continue
        if result.modified is not None:
            where.append(f"no timestamps in {_short(label)}: counted the whole file, last written "
                         f"{ago(now - result.modified)} ago")
        else:
            where.append(f"no timestamps in the output of {label}: counted all of it")
    count = outcome.vars["count"]
    window = f"the {check['since']} window" if check.get("since") else "the window"
    outcome.caveat = (f"{'; '.join(where)}; {window} could not be applied to {untimed} of the {count} "
                      "matching line(s)")
    spec = DEFAULT_EXPECT if check.get("expect") is None else check["expect"]
    outcome.conclusive = _same_for_every_count(spec, count - untimed, count)
    outcome.vars["untimed"] = untimed
    evidence.title += f"; {untimed} of them without a time: {window} could not be applied to them"


def _same_for_every_count(spec: Any, low: int, high: int) -> bool:
    """Does the expectation judge every count from ``low`` to ``high`` alike (the true count in the
    window is one of them)? ``min`` or ``max`` alone is decided by the two ends; a range, ``equals``, ``in``
    and the like by each count between (beyond a bound, not conclusive)."""
    ends = {expectations.holds(low, spec), expectations.holds(high, spec)}
    if len(ends) > 1:
        return False
    if isinstance(spec, dict) and set(spec) in ({"min"}, {"max"}):   # monotone: the ends decide
        return True
    if high - low > 100_000:
        return False
    return all(expectations.holds(n, spec) in ends for n in range(low + 1, high))


def _short(label: str) -> str:
    """A file's name as a caveat shows it (the evidence lines carry the whole path)."""
    import os

    return os.path.basename(label) or label


def planned_requests(check: LogCheck, ctx: Context) -> list[Request]:
    """What a planned check will ask of its log (its pattern and, with ``after``, the line it counts
    from), for the run's shared pass; a check whose fields or params are invalid asks nothing here (it
    reports that itself when it runs)."""
    from .base import SkipCheck

    found = []
    for one in [check] + ([marker_check(check)] if check.get("after") else []):
        try:
            found.append(request(one, ctx))
        except (KeyError, CheckError, SkipCheck):
            continue
    return found


def marker_check(check: LogCheck) -> LogCheck:
    """The request of a check's ``after`` line: the same log and window, its own pattern."""
    marker: LogCheck = {"log": check["log"], "pattern": check["after"], "last": 1}
    if "ignore_case" in check:
        marker["ignore_case"] = check["ignore_case"]
    if "since" in check:
        marker["since"] = check["since"]
    return marker


def _own_attempts(ctx: Context) -> list[datetime]:
    """When the servers of this run refused diagnose's own connections (see :mod:`.sql_session`)."""
    from .sql_pool import SqlPool

    return list(ctx.shared.get("sql", SqlPool).refused_at)


def _without_own(matches: list[tuple[str, Any]], own: list[datetime]) -> tuple[list[tuple[str, Any]], int]:
    """``matches`` without one line per own attempt, the newest line timed from 2 s before to 5 s
    after it (the server logs the refusal as it happens; clocks may differ a little)."""
    pending, kept, excluded = sorted(own), [], 0
    for label, match in reversed(matches):
        hit = next((t for t in pending if match.time is not None and match.time.tzinfo is not None
                    and -2 <= (match.time - t).total_seconds() <= 5), None)
        if hit is not None:
            pending.remove(hit)
            excluded += 1
        else:
            kept.append((label, match))
    return list(reversed(kept)), excluded


def _line(label: str, match, in_file: bool) -> dict[str, Any]:
    """Evidence of one line: where and what. ``line`` is ``None`` when a window skipped the
    start of the file (the number is unknown); in a file the byte ``offset`` of the line is
    always there (``tail -c +$((OFFSET + 1))`` shows it), a command's output has none."""
    if in_file:
        return {"file": label, "line": match.line, "offset": match.offset, "text": match.text}
    return {"file": label, "line": match.line, "text": match.text}


def _outcome(check: LogCheck, results: list[tuple[str, ScanResult]], keep: int, in_file: bool,
             own: list[datetime] | None = None) -> Outcome:
    count = sum(r.count for _, r in results)
    everything = [(label, m) for label, r in results for m in r.last]
    everything, excluded = _without_own(everything, own or [])
    count -= excluded
    matches = everything[-keep:] if keep else []
    times = [t for _, r in results for t in (r.first_time, r.last_time) if t is not None]
    last_text = everything[-1][1].text if everything else ""  # whole: the report masks, then clips it
    since = str(check.get("since") or "")
    variables = {
        "count": count,
        "last": last_text,
        "first_time": _iso(min(times)) if times else "",
        "last_time": _iso(max(times)) if times else "",
        "since": since,
        "files": len(results),
        "pattern": str(check["pattern"]),
    }
    variables["excluded"] = excluded
    window = f" in the last {since}" if since else ""
    title = f"{count} line(s) matching /{check['pattern']}/ in log '{check['log']}'{window}"
    if excluded:
        title += f"; {excluded} line(s) about diagnose's own refused connection attempt(s) not counted"
    if count > len(matches):
        title += f" (last {len(matches)} shown)"
    evidence = Evidence(kind="lines", title=title, total=count,
                        lines=[_line(label, m, in_file) for label, m in matches])
    spec = check.get("expect")
    spec = DEFAULT_EXPECT if spec is None else spec
    return Outcome(passed=expectations.holds(count, spec), vars=variables, evidence=[evidence])
