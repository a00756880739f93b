"""Report formats: one module each behind :class:`ReportFormat`, and the one list that registers them.

A format renders either kind of report document (a symptom's run, or a triage of every symptom:
``document["kind"]``) to text. It only ever sees the masked document, so it cannot leak what
masking removed. Everything that offers formats asks this registry: ``--format`` (its choices and
help), the writer (the file's extension), support bundles (``report.<extension>`` for every
format) and ``diagnose report``.

A format of another installed package registers itself with an entry point in the
``diagnose.formats`` group (``[project.entry-points."diagnose.formats"] text = "diagnose_disk.text"``):
the name is its ``--format``, the value its module. Built-in names win; a plugin that cannot be
imported or does not implement the protocol is a :class:`FormatError` naming its entry point,
raised where it is chosen (``--format``, or a bundle, which holds every format).

Names are known without importing anything (``diagnose --help`` stays fast); a format's module is
imported when it is chosen, described (``--help``) or bundled.
"""

from __future__ import annotations

import functools
import importlib
import re
from types import ModuleType
from typing import TYPE_CHECKING, Protocol, cast

from diagnose.plugins import PluginError, entry_points_of, import_plugin, where

if TYPE_CHECKING:
    from diagnose.reports.document import Document

#: format name (``--format``) -> its module, in the order help and bundles list them. One module per
#: format; its line here is its registration.
BUILTIN_FORMATS: dict[str, str] = {
    "md": "diagnose.reports.markdown",
    "html": "diagnose.reports.html",
    "json": "diagnose.reports.json_format",
}
DEFAULT_FORMAT = "md"
#: the entry-point group through which other packages add formats
ENTRY_POINT_GROUP = "diagnose.formats"
_EXTENSION = re.compile(r"[a-z0-9]+(\.[a-z0-9]+)*")


class ReportFormat(Protocol):
    """What a format module provides (a module satisfies it structurally)."""

    #: its ``--format`` name: ``md``
    NAME: str
    #: the extension of its files, without the dot: ``md`` (reports, and ``report.md`` in a bundle)
    EXTENSION: str
    #: one line for ``--help`` and the docs: ``Markdown, readable raw in a ticket``
    DESCRIPTION: str

    def render(self, document: Document) -> str:
        """The report of ``document``, of either kind: dispatch on ``document["kind"]`` (``triage``, or
        absent for a symptom's run); parts both kinds have read the same in both."""
        ...


class FormatError(PluginError, ValueError):
    """A format that does not exist, or a plugin format that cannot be used; one line saying which and why."""


@functools.cache
def plugin_formats() -> dict[str, str]:
    """Format name -> module of every installed plugin, sorted by name (a built-in name is never replaced)."""
    return entry_points_of(ENTRY_POINT_GROUP, BUILTIN_FORMATS)


def format_names() -> list[str]:
    """Every name ``--format`` accepts: the built-in formats, then the plugins'."""
    return [*BUILTIN_FORMATS, *plugin_formats()]


@functools.cache
def report_format(name: str) -> ReportFormat:
    """The format called ``name``; :class:`FormatError` for an unknown name or a plugin that is not a format."""
    if name in BUILTIN_FORMATS:
        module = importlib.import_module(BUILTIN_FORMATS[name])
        problems = protocol_problems(module, name)
        if problems:  # a bug of diagnose itself: the tests prove every built-in format
            raise AssertionError(f"{BUILTIN_FORMATS[name]}: {'; '.join(problems)}")
        return cast(ReportFormat, module)
    target = plugin_formats().get(name)
    if target is None:
        raise FormatError(f"unknown report format {name!r}: use one of {', '.join(format_names())}")
    named = where("format", name, ENTRY_POINT_GROUP, target)
    try:
        module = import_plugin("format", name, ENTRY_POINT_GROUP, target)
    except PluginError as exc:
        raise FormatError(str(exc)) from None
    problems = protocol_problems(module, name)
    if not problems:
        problems = [f"EXTENSION {module.EXTENSION!r} is taken by format {other!r}" for other in BUILTIN_FORMATS
                    if report_format(other).EXTENSION == module.EXTENSION]
    if problems:
        raise FormatError(f"{named} is not a report format: {'; '.join(problems)}")
    return cast(ReportFormat, module)


def report_formats() -> list[ReportFormat]:
    """Every format, loaded (a bundle holds them all): FormatError for the first plugin that cannot be
    used, or one whose extension another plugin already has."""
    formats: list[ReportFormat] = []
    for name in format_names():
        fmt = report_format(name)
        clash = next((other.NAME for other in formats if other.EXTENSION == fmt.EXTENSION), None)
        if clash:
            raise FormatError(f"{where('format', name, ENTRY_POINT_GROUP, plugin_formats()[name])} is not a report "
                              f"format: EXTENSION {fmt.EXTENSION!r} is taken by format {clash!r}")
        formats.append(fmt)
    return formats


def describe(name: str) -> str:
    """``md: Markdown, readable raw in a ticket``: one format for ``--help`` (a broken plugin says so, and
    ``--format`` NAME says why)."""
    try:
        return f"{name}: {report_format(name).DESCRIPTION}"
    except FormatError:
        return f"{name}: a plugin that cannot be loaded (--format {name} says why)"


def protocol_problems(module: ModuleType, name: str) -> list[str]:
    """What ``module`` lacks of the :class:`ReportFormat` protocol (empty: nothing)."""
    problems = []
    if getattr(module, "NAME", None) != name:
        problems.append(f"NAME must be {name!r} (its entry point's name), not {getattr(module, 'NAME', None)!r}")
    extension = getattr(module, "EXTENSION", None)
    if not isinstance(extension, str) or not _EXTENSION.fullmatch(extension):
        problems.append(f"EXTENSION must be a file extension without the dot (txt, tar.gz), not {extension!r}")
    description = getattr(module, "DESCRIPTION", None)
    if not isinstance(description, str) or not description.strip() or "\n" in description:
        problems.append("DESCRIPTION must be one line of text")
    if not callable(getattr(module, "render", None)):
        problems.append("render must be a function: render(document) -> str")
    return problems

