"""The knowledge base as Python objects: a pack of entries, each a symptom with its checks.

These are plain read-only views over validated YAML (validation lives in
:mod:`diagnose.kb.schema`); the raw dicts are kept because check kinds read their own
fields from them, so a new kind needs no change here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from diagnose.kb.problems import Problem

SEVERITIES = ("low", "medium", "high", "critical")
#: problem: the symptom is there (a failed check that shows it); risk: a cause is there but not (yet) the
#: symptom; inconclusive: nothing failed but a check could not conclude; healthy: every check passed
VERDICTS = ("problem", "risk", "healthy", "inconclusive")


@dataclass(frozen=True)
class Provenance:
    """Where a claim comes from (see :data:`diagnose.kb.schema.PROVENANCE_FROM`)."""

    source: str                     # seed | reference | vendor | general | assumed
    ref: str = ""
    note: str = ""


def provenance_of(data: dict[str, Any] | None) -> Provenance | None:
    """A ``provenance:`` mapping of the YAML as a :class:`Provenance` (``None`` when absent)."""
    return Provenance(data["from"], data.get("ref", ""), data.get("note", "")) if data else None


@dataclass(frozen=True)
class Cause:
    id: str
    title: str
    text: str
    provenance: Provenance | None = None


#: what running a step can do, least to most: nothing (read-only), a change with an undo beside it
#: (reversible), something that trades or changes risk (trading: mode, orders, positions, locks, main
#: contracts), an interruption of a service others use (outage)
RISKS = ("read-only", "reversible", "trading", "outage")
CHANGES = RISKS[1:]


@dataclass(frozen=True)
class Fill:
    """A ``{name}`` placeholder of a step, filled from the values of ``column`` in ``check``'s rows."""

    check: str
    column: str


@dataclass(frozen=True)
class Step:
    """One step of a solution: what it does, what it can break, where it runs, how to undo and verify it."""

    do: str
    risk: str
    where: str | None = None
    sql: str | None = None
    shell: str | None = None
    env: dict[str, Any] | None = None      # {source, set: {KEY: value}, unset: [KEY]}
    scope: str | None = None
    fill: dict[str, Fill] = field(default_factory=dict)
    rows: int | str | None = None
    #: what the operator confirms per filled id before running it (the fill lists candidates)
    confirm: str | None = None
    undo: str | None = None
    verify: tuple[str, ...] | str | None = None
    approve: str | None = None
    when: str | None = None
    requires: tuple[str, ...] = ()
    provenance: Provenance | None = None
    #: its SQL's statements as PostgreSQL's parser reads them (``UpdateStmt``...), found when the pack was
    #: validated and cached with it, so rendering a step needs no parser (None: not known)
    kinds: tuple[str, ...] | None = None

    @property
    def changes(self) -> bool:
        return self.risk in CHANGES


@dataclass(frozen=True)
class Solution:
    id: str
    title: str
    steps: tuple[Step, ...]
    causes: tuple[str, ...] = ()    # the causes this solution fixes (empty: all)

    @property
    def risk(self) -> str:
        """The highest risk of its steps (the order of :data:`RISKS`)."""
        return max((s.risk for s in self.steps), key=RISKS.index)


@dataclass(frozen=True)
class Avoid:
    """What not to do while fixing a symptom, and what it would break."""

    dont: str
    why: str
    provenance: Provenance | None = None


@dataclass(frozen=True)
class Check:
    id: str
    kind: str
    title: str
    expects: str                    # human text of what a healthy system shows
    causes: tuple[str, ...]         # what a failure points to (empty: confirms the symptom only)
    messages: dict[str, str]        # status -> template ("pass", "fail")
    manual: str | None
    timeout: float | None
    weight: float
    raw: dict[str, Any]             # the YAML mapping, read by the kind module

    @property
    def symptom(self) -> bool:
        """Does a failure show the symptom itself? Explicit ``symptom:``, else "has no cause"."""
        return bool(self.raw.get("symptom", not self.causes))

    @property
    def role(self) -> str:
        """What a failure means: ``symptom``; ``cause`` (alone, a risk); ``history`` (``history: true``:
        a past event, a crash or a kill, that names the cause of a present symptom but alone is neither a
        problem nor a risk); ``context`` (``symptom: false`` and no cause: it helps read the others)."""
        if self.symptom:
            return "symptom"
        if self.causes:
            return "history" if self.raw.get("history") else "cause"
        return "context"

    @property
    def provenance(self) -> Provenance | None:
        """Where the check's pattern or fact comes from (``provenance:``)."""
        return provenance_of(self.raw.get("provenance"))

    @property
    def source(self) -> tuple[str, str] | None:
        """``(field, name)`` of the data source this check reads, e.g. ``("database", "trading")``."""
        from diagnose.sources import fields

        for key in fields():
            if key in self.raw:
                return key, self.raw[key]
        return None


@dataclass(frozen=True)
class Example:
    """A world for the self-test: data to build, and the verdict the entry must reach in it."""

    name: str
    verdict: str
    causes: tuple[str, ...]
    world: dict[str, Any]
    description: str = ""
    #: the checks that must fail in this world, exactly (None: not stated)
    fails: tuple[str, ...] | None = None
    #: the checks that must be skipped in this world, exactly (what it lacks makes them inapplicable)
    skips: tuple[str, ...] = ()
    #: the solution the self-test applies to this world, then requires the entry healthy
    fix: str | None = None
    #: values for the ``<placeholders>`` of that solution's env edits
    fix_values: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Setting:
    """A named threshold of an entry (``settings:``): its default, what it means, and the value a run uses.

    A check binds it with ``params: {NAME: {setting: SETTING}}``; a deployment's profile may override the
    default (``settings: {<entry id>: {SETTING: value}}``), and every report says which value was used.
    """

    name: str
    default: Any
    description: str
    type: str                       # integer | number | string | interval | boolean
    unit: str = ""
    minimum: float | None = None
    maximum: float | None = None
    #: the value a run uses, and where it comes from: ``default`` or ``profile``
    value: Any = None
    source: str = "default"

    @property
    def changed(self) -> bool:
        """Does the value used differ from the entry's default?"""
        return self.source != "default" and self.value != self.default


@dataclass(frozen=True)
class Entry:
    id: str
    title: str
    category: str
    severity: str
    aliases: tuple[str, ...]
    summary: str
    error_patterns: tuple[str, ...]
    causes: tuple[Cause, ...]
    checks: tuple[Check, ...]
    solutions: tuple[Solution, ...]
    prevention: str
    related: tuple[str, ...]
    examples: tuple[Example, ...]
    path: Path
    seen: tuple[str, ...] = ()      # what the user sees, in their words (messages, screens)
    #: symptoms this one follows from: when one of them is a problem too, triage ranks it after that one
    follows: tuple[str, ...] = ()
    avoid: tuple[Avoid, ...] = ()
    #: named thresholds its checks bind (``settings:``), with the values in force (see :class:`Setting`)
    settings: tuple[Setting, ...] = ()

    def cause(self, cause_id: str) -> Cause | None:
        return next((c for c in self.causes if c.id == cause_id), None)


@dataclass(frozen=True)
class Source:
    """A data-source name the pack's checks may use, declared in ``pack.yaml``."""

    kind: str          # databases | logs | env | endpoints
    name: str
    description: str
    example: str = ""


@dataclass(frozen=True)
class Precondition:
    """A read-only query that must return no rows before a step that requires it runs."""

    id: str
    title: str
    database: str
    sql: str
    why: str


@dataclass(frozen=True)
class FixPolicy:
    """What a pack declares about its fixes: who approves, when, what is checked before a restart."""

    approvers: dict[str, str] = field(default_factory=dict)      # role -> what it signs off
    windows: dict[str, str] = field(default_factory=dict)        # id -> when
    preconditions: dict[str, Precondition] = field(default_factory=dict)
    restarts: dict[str, tuple[str, ...]] = field(default_factory=dict)  # service -> precondition ids
    commands: dict[str, tuple[str, ...]] = field(default_factory=dict)  # host|container -> command names


@dataclass(frozen=True)
class Term:
    """A domain word of a pack in both languages, and the other words operators use for it
    (``glossary.yaml``, :mod:`diagnose.kb.glossary`)."""

    zh: str
    en: str
    also: tuple[str, ...] = ()
    note: str = ""

    @property
    def words(self) -> tuple[str, ...]:
        """Every word of the term, the pack's own two first."""
        return (self.en, self.zh, *self.also)


@dataclass
class Pack:
    """A loaded knowledge base: its entries plus the metadata reports cite."""

    root: Path
    name: str
    version: str
    site_url: str
    digest: str
    sources: dict[str, dict[str, Source]]
    entries: list[Entry] = field(default_factory=list)
    #: database -> its schema file (absolute: a layered pack keeps each layer's own)
    reference_schemas: dict[str, Path] = field(default_factory=dict)
    fixes: FixPolicy = field(default_factory=FixPolicy)
    description: str = ""
    #: the pack's name for people (``title:`` of pack.yaml, else its name)
    title: str = ""
    #: category id -> title, in the order the pack lists them (``categories:`` of pack.yaml)
    categories: dict[str, str] = field(default_factory=dict)
    #: the packs a layered pack is made of, in order (the built-in first); empty for one pack
    layers: tuple[Pack, ...] = ()
    #: what unfinished entries still lack (loaded with ``allow_unfinished``), each naming its file
    unfinished: list[Problem] = field(default_factory=list)
    #: the language its texts are in (English where a translation is missing or stale), the languages it
    #: declares complete, and what lint says of its translations (:mod:`diagnose.kb.translations`)
    lang: str = "en"
    languages: tuple[str, ...] = ("en",)
    translation_problems: list[Problem] = field(default_factory=list)
    #: the pack's domain terms in both languages (``glossary.yaml``)
    glossary: tuple[Term, ...] = ()

    def unfinished_of(self, entry: Entry) -> list[Problem]:
        """What ``entry`` still lacks (empty for a finished entry)."""
        return [p for p in self.unfinished if entry.path.as_posix().endswith(Path(p.file).as_posix())]

    @property
    def packs(self) -> tuple[Pack, ...]:
        """The single packs behind this one: its layers, or itself."""
        return self.layers or (self,)

    def layer_of(self, entry: Entry) -> Pack:
        """The pack ``entry`` comes from (its worlds, schemas and stack are that pack's)."""
        return next((p for p in self.layers if entry.path.is_relative_to(p.root)), self)

    def policy_of(self, entry: Entry) -> FixPolicy:
        """The fix policy ``entry``'s steps are held to: its own pack's."""
        return self.layer_of(entry).fixes

    def get(self, entry_id: str) -> Entry | None:
        return next((e for e in self.entries if e.id == entry_id), None)

    def by_category(self) -> dict[str, list[Entry]]:
        """Entries grouped in the order the packs declare their categories, by id within a group."""
        groups: dict[str, list[Entry]] = {}
        rank = {c: i for i, c in enumerate(self.categories)}
        for entry in sorted(self.entries, key=lambda e: (rank.get(e.category, len(rank)), e.category, e.id)):
            groups.setdefault(entry.category, []).append(entry)
        return groups

    def category_title(self, category: str) -> str:
        return self.categories.get(category) or category.replace("-", " ").capitalize()

    def page_url(self, entry_id: str) -> str:
        """Where the FAQ page of ``entry_id`` is published: the ``site_url`` of the pack it comes from (a
        team publishes its own pack's site), else this pack's; the page in the pack's language when that
        pack is complete in it (``/zh/faq/<id>/``)."""
        entry = self.get(entry_id)
        layer = self.layer_of(entry) if entry is not None else self
        site = layer.site_url or self.site_url
        # a pack complete in the language in force has its site in it too, at /<lang>/
        language = f"/{self.lang}" if self.lang != "en" and self.lang in layer.languages else ""
        return f"{site.rstrip('/')}{language}/faq/{entry_id}/"


#: a ``{name}`` a message template is filled at (by :func:`render_message`; a translation keeps each one)
MESSAGE_FIELD = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.]*)\}")


#: how a message shows a value that is not there
NONE_SHOWN = "(none)"


def with_caveat(message: str, caveat: str | None) -> str:
    """A check's message with what limits it, so no reader takes it without (``... [caveat]``)."""
    return f"{message} [{caveat}]" if caveat else message


def render_message(template: str, variables: dict[str, Any]) -> str:
    """Fill a check's message template: ``{name}`` fields from ``variables``; unknown names stay
    visible as ``{name}``; a value that is not there (SQL NULL, no such row) reads ``(none)``, never
    an empty gap in the sentence.

    Deliberately not ``str.format``: templates come from knowledge packs, and format's
    attribute access (``{x.__class__}``) is not something a YAML file should reach.
    """

    def value(match: re.Match) -> str:
        name = match.group(1)
        if name in variables:
            v = variables[name]
            return NONE_SHOWN if v is None else str(v)
        return match.group(0)

    return MESSAGE_FIELD.sub(value, template)
