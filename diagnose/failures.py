"""How a probe says it did not reach a finding, shared by check kinds and source types.

:class:`SkipCheck`: the check cannot run here (its source is not configured, a variable it needs is
unset): skipped, never failed. :class:`CheckError`: the probe itself failed (connection refused, bad
SQL, an unreadable file). :class:`CheckTimeout`: it ran out of its time budget. A source type raises
them while resolving a source, a kind while probing it; the runner turns them into the statuses
``skip``, ``error`` and ``timeout``.
"""

from __future__ import annotations


class SkipCheck(Exception):
    """The check cannot run here (its source is not configured): skipped, never failed."""


class CheckError(Exception):
    """The probe itself failed (connection refused, bad SQL, unreadable file...)."""


class CheckTimeout(Exception):
    """The probe ran out of its time budget."""
