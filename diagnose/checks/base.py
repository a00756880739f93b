"""The one small interface every check kind implements.

A check kind is a module (``diagnose/checks/sql.py``, or another package's, registered through the
``diagnose.kinds`` entry point) that implements :class:`CheckKind`:

``KIND``
    the name used in YAML (``kind: sql``).
``SOURCE``
    the YAML field naming the data source it reads (``database``, ``log``, ``env``,
    ``endpoint``), or ``None``.
``SCHEMA``
    a JSON-Schema fragment: the kind-specific properties of a check (merged into the
    knowledge-base schema, so editors and ``diagnose lint`` validate them).
``run(check, ctx) -> Outcome``
    does the probe. It reads only through ``ctx`` (which resolves source names through
    the target profile) and never writes to the system being diagnosed.
``lint(check) -> list[tuple[str, str]]`` (optional)
    static problems as ``(relative path, message)``, e.g. a regex that does not compile.
``manual(check) -> str`` (optional)
    the equivalent command a human would type (psql / grep / curl), used when the YAML
    entry gives no ``manual`` of its own.
``prepare(checks, ctx)`` (optional)
    once per run, before any probe, with all the run's checks of the kind (the SQL kind opens
    its sessions there).
``PRELOAD`` (optional)
    the modules ``run`` imports lazily, e.g. ``("psycopg",)``: a run that has checks of the kind starts
    importing them on a helper thread as soon as it knows its checks (:func:`diagnose.probes.preload`).

How a check is typed: a kind sees a check only after it has been validated against the
common fields (:data:`diagnose.kb.schema.CHECK_COMMON`) and the kind's ``SCHEMA``, so a kind
declares the check's shape as a ``typing.TypedDict`` next to ``SCHEMA`` (``total=False``, with
``Required[...]`` for the keys ``SCHEMA`` requires; the kind's own properties, plus the common
fields it reads, such as ``id``) and types its hooks with it::

    class EnvCheck(TypedDict, total=False):
        env: Required[str]
        key: str
        ...

    def run(check: EnvCheck, ctx: Context) -> Outcome: ...

:class:`CheckKind` is generic in that type (``CheckKind[EnvCheck]``; ``CheckKind[Any]`` for a
caller that knows no kind's fields), so mypy holds a kind module to the protocol whatever its
TypedDict; a plugin may declare its own the same way, or take ``Mapping[str, Any]``. The
built-in kinds' TypedDicts are held to their schemas by ``tests/checks/test_kind_types.py``.
The types are for mypy only: at run time a check is the YAML mapping (a ``dict``).

Kinds signal the non-pass outcomes by raising: :class:`SkipCheck` (source not configured),
:class:`CheckError` (the probe could not be done), :class:`CheckTimeout` (it ran out of
time). Anything else that escapes is caught by the runner and reported as an error: one
broken check never takes the report down.
"""

from __future__ import annotations

import enum
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Callable, Mapping, Protocol, TypeVar

# kinds import the three outcomes of a probe that reached no finding from here
from diagnose.failures import CheckError, CheckTimeout, SkipCheck  # noqa: F401

if TYPE_CHECKING:
    from diagnose.sources.log import LogSpec


class Status(str, enum.Enum):
    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"
    TIMEOUT = "timeout"
    SKIP = "skip"

    def __str__(self) -> str:  # so templates print "fail", not "Status.FAIL"
        return self.value


@dataclass
class Evidence:
    """One piece of evidence, in a shape every report format can render.

    ``kind`` is one of:

    * ``rows``: ``columns`` and ``rows`` (lists of JSON-able scalars), e.g. SQL results;
    * ``lines``: ``lines`` as dicts ``{"file", "line", "text"}``, e.g. matching log lines;
    * ``values``: ``values`` as a dict of probed names to values, e.g. env keys, HTTP status;
    * ``text``: free ``text``, e.g. a WebSocket reply.

    ``total`` is the full count when the list was truncated to keep the report readable.
    """

    kind: str
    title: str = ""
    columns: list[str] | None = None
    rows: list[list[Any]] | None = None
    lines: list[dict[str, Any]] | None = None
    values: dict[str, Any] | None = None
    text: str | None = None
    total: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass
class Outcome:
    """What a kind's ``run`` returns: pass or fail, the template variables, the evidence."""

    passed: bool
    vars: dict[str, Any] = field(default_factory=dict)
    evidence: list[Evidence] = field(default_factory=list)
    #: what limits the finding, said with its message ("no timestamps in backend.log: ...")
    caveat: str | None = None
    #: False when pass or fail rests on what the check could not establish (lines whose time is
    #: unknown decided a windowed count): the result is shown, but it alone decides no verdict
    conclusive: bool = True


@dataclass
class CheckResult:
    """A finished check, as the runner hands it to reports and the terminal."""

    id: str
    title: str
    kind: str
    status: Status
    message: str
    cause: list[str]
    duration: float
    source: str | None = None
    manual: str | None = None
    evidence: list[Evidence] = field(default_factory=list)
    #: what a failure means: "symptom" (the symptom itself is there), "cause" (a cause, not the symptom:
    #: alone, a risk), "history" (a past event that names the cause of a present symptom: alone, nothing)
    #: or "context" (neither: it only helps read the others)
    role: str = "cause"

    @property
    def symptom(self) -> bool:
        return self.role == "symptom"
    #: the message template and its values, so a report can render the message from masked values
    #: (``message`` is rendered from the raw ones, for in-process use); not part of :meth:`to_dict`
    template: str | None = None
    vars: dict[str, Any] = field(default_factory=dict)
    caveat: str | None = None       # see :class:`Outcome`
    conclusive: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "kind": self.kind,
            "source": self.source,
            "status": self.status.value,
            "message": self.message,
            "cause": self.cause,
            "role": self.role,
            "caveat": self.caveat,
            "conclusive": self.conclusive,
            "duration_ms": round(self.duration * 1000, 1),
            "manual": self.manual,
            "evidence": [e.to_dict() for e in self.evidence],
        }


class RunResources:
    """Things the checks of one run may share (one run = one symptom, or one triage).

    A kind asks for a resource by name (``resources.get("sql", SqlPool)``); the runner
    closes them all when the run ends, so e.g. database connections are opened once per
    run and database, not once per check.
    """

    def __init__(self, planned: list[dict[str, Any]] | None = None, since: datetime | None = None) -> None:
        self._items: dict[str, Any] = {}
        #: ``--since``: no window of this run starts earlier (what happened after a fix, only)
        self.since = since
        self._lock = threading.Lock()
        #: the check dicts this run will probe, so a kind can serve several in one go
        #: (the log kind reads each file once for all of its patterns)
        self.planned: list[dict[str, Any]] = planned or []
        self._notes: dict[str, str] = {}

    def note(self, key: str, text: str) -> None:
        """Tell the report something about how the run went that no single check's result says
        (the role diagnose connected as, connections it held back from a busy server...). A later
        note with the same ``key`` replaces the earlier one."""
        with self._lock:
            self._notes[key] = text

    @property
    def notes(self) -> list[str]:
        """The notes, in the order they were first made (still readable after :meth:`close`)."""
        with self._lock:
            return list(self._notes.values())

    def get(self, name: str, factory: Callable[[], Any]) -> Any:
        with self._lock:
            if name not in self._items:
                self._items[name] = factory()
            return self._items[name]

    def close(self) -> None:
        with self._lock:
            items, self._items = list(self._items.values()), {}
        for item in items:
            try:
                item.close()
            except Exception:  # closing is best effort: the run's results are what matter
                pass


@dataclass
class Context:
    """What a check may read, and how long it may take.

    Source lookups go through the resolver functions (filled in by the runner from the
    target profile); an unconfigured name raises :class:`SkipCheck` with a reason the
    user can act on.
    """

    timeout: float
    now: datetime
    resolve: Callable[[str, str], Any]
    cancel: threading.Event = field(default_factory=threading.Event)
    started: float = field(default_factory=time.monotonic)
    #: resources shared by the checks of one run (e.g. database connections), closed by the runner
    shared: "RunResources" = field(default_factory=lambda: RunResources())

    @property
    def deadline(self) -> float:
        return self.started + self.timeout

    def remaining(self) -> float:
        """Seconds left before this check's timeout (never below a small floor)."""
        return max(0.05, self.deadline - time.monotonic())

    def check_time(self) -> None:
        """Raise :class:`CheckTimeout` once the budget is spent; long loops call this."""
        if self.cancel.is_set() or time.monotonic() > self.deadline:
            raise CheckTimeout(f"did not finish within {self.timeout:g}s")

    @property
    def since(self) -> datetime | None:
        """The run's ``--since``: a windowed check counts nothing before it (a window starts at the later
        of its own start and this); checks that read a whole log or a table's state are unchanged."""
        return self.shared.since

    def window(self, span: timedelta) -> timedelta:
        """``span`` back from now, shortened to end at ``--since`` when that is later (never negative)."""
        if self.since is None:
            return span
        return max(timedelta(0), min(span, self.now - self.since))

    def source(self, field: str, name: str) -> Any:
        """The source a check names with ``field: name`` (``database: trading``), as its source type
        resolves it (:mod:`diagnose.sources`); kinds of plugin source types read through this."""
        from diagnose.sources import fields

        return self.resolve(fields()[field], name)

    def database(self, name: str) -> str:
        """The DSN of the named database."""
        return self.resolve("databases", name)

    def log(self, name: str) -> LogSpec:
        """The named log source: a ``LogSpec`` (paths or a command)."""
        return self.resolve("logs", name)

    def env(self, name: str) -> dict[str, str]:
        """The parsed key/value pairs of the named env file (or the process environment)."""
        return self.resolve("env", name)

    def endpoint(self, name: str) -> str:
        """The base URL (or ``host:port``) of the named endpoint."""
        return self.resolve("endpoints", name)


#: the check a kind's hooks take: a kind narrows it to its own TypedDict (see the module docstring)
CheckT_contra = TypeVar("CheckT_contra", bound=Mapping[str, Any], contravariant=True)


class CheckKind(Protocol[CheckT_contra]):
    """What a kind module provides (a module satisfies it structurally; see the module docstring).

    ``CheckT_contra`` is the type of the check the kind's hooks take: its TypedDict (``CheckKind[EnvCheck]``),
    or ``Any`` for a caller that knows no kind's fields. ``lint(check) -> list[tuple[str, str]]``,
    ``manual(check) -> str`` and ``prepare(checks, ctx)`` (``checks`` a list of them) are optional and looked
    up with ``getattr``; :func:`diagnose.checks.protocol_problems` says what a plugin lacks. The attributes are
    read-only here, so a module's ``SOURCE = "env"`` (a ``str``) satisfies ``str | None``.
    """

    @property
    def KIND(self) -> str: ...

    @property
    def SOURCE(self) -> str | None: ...

    @property
    def SCHEMA(self) -> dict[str, Any]: ...

    def run(self, check: CheckT_contra, ctx: Context) -> Outcome: ...
