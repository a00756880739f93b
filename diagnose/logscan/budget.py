"""What a log scan needs of the check that runs it: the time it has left, and the run's "now".

A scan stops when its check's budget is spent, and a ``since`` window counts back from the run's time.
That is all it asks of :class:`diagnose.checks.base.Context`, so the scanner states it here as a protocol
rather than importing the check kinds' layer it serves (any object with these members will do: the
benchmarks' and the tests' too).
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Budget(Protocol):
    """The time a scan may take (:meth:`check_time` raises ``CheckTimeout`` once it is spent) and the run's
    time (``now``, what windows count back from)."""

    @property
    def now(self) -> datetime: ...

    def remaining(self) -> float:
        """Seconds left."""
        ...

    def check_time(self) -> None:
        """Raise :class:`diagnose.failures.CheckTimeout` when no time is left (or the run was cancelled)."""
        ...
