"""The ``diagnose`` program's first lines: signals are claimed before anything is imported.

A run must end with its report whenever a signal arrives after the program starts (see
:mod:`diagnose.cli.signals`); importing the command line (click, rich...) already takes tens of
milliseconds, so the handlers are installed here, from the standard library alone, and only
then is the command line imported and run.
"""

from __future__ import annotations

import io
import os
import sys

#: exit codes when standard output fails: 2 as for a report that cannot be written; 141 (128 +
#: SIGPIPE, as a shell reports a program killed by it) when the reader went away (``| head -1``)
EXIT_OUTPUT_FAILED = 2
EXIT_BROKEN_PIPE = 141


class OutputError(Exception):
    """Writing standard output failed; not an OSError, so no handler mistakes it for its own."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


class _StdoutFile(io.FileIO):
    def write(self, data):
        try:
            return super().write(data)
        except OSError as exc:
            raise OutputError(exc) from None


def main() -> None:
    from diagnose.cli.signals import claim

    if _writes_a_report(sys.argv[1:]):
        claim()
    _hold_closed_std_fds()
    if sys.stdout is None:   # started with stdout closed (>&-): refuse before anything runs
        _say("standard output is closed (redirect it to /dev/null to discard the summary)")
        sys.exit(EXIT_OUTPUT_FAILED)
    _watch_stdout()
    _readable_stderr()
    try:
        try:
            from diagnose.cli import main as run_cli

            run_cli()
        finally:
            sys.stdout.flush()   # what is still buffered fails here, not in the interpreter's exit
    except OutputError as exc:
        sys.exit(_output_failed(exc.error))


def _hold_closed_std_fds() -> None:
    """A closed fd 0, 1 or 2 gets /dev/null, so no file or socket opened later becomes one of them
    (and then receives what is printed, or what child processes write)."""
    for fd, flags in ((0, os.O_RDONLY), (1, os.O_WRONLY), (2, os.O_WRONLY)):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, flags)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)


def _errors_for(stream: object) -> str | None:
    """How a terminal whose encoding cannot write every character (Big5, Latin-1: Chinese text, a log
    line's symbols) shows the rest: as ``?``, never a UnicodeEncodeError half-way through the output."""
    encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "").replace("_", "")
    return getattr(stream, "errors", None) if encoding in ("utf8", "utf16", "utf32", "gb18030") else "replace"


def _readable_stderr() -> None:
    """stderr with the same rule as stdout (see :func:`_errors_for`)."""
    try:
        if sys.stderr is not None and _errors_for(sys.stderr) == "replace":
            sys.stderr.reconfigure(errors="replace")    # type: ignore[union-attr]  # a TextIOWrapper here
    except (AttributeError, ValueError):   # replaced by a test harness: leave it alone
        pass


def _watch_stdout() -> None:
    """Standard output whose write failures raise :class:`OutputError` (from rich, click or print)."""
    stdout = sys.stdout
    try:
        if stdout.fileno() != 1:
            return
    except (AttributeError, OSError, ValueError):   # replaced by a test harness: leave it alone
        return
    stdout.flush()
    sys.stdout = io.TextIOWrapper(io.BufferedWriter(_StdoutFile(1, "w", closefd=False)),
                                  encoding=stdout.encoding, errors=_errors_for(stdout),
                                  newline=None if os.name == "nt" else "\n",
                                  line_buffering=bool(stdout.line_buffering),
                                  write_through=getattr(stdout, "write_through", False))


def _output_failed(error: OSError) -> int:
    """After a failed write to stdout: /dev/null takes its place (so the exit's flush cannot fail
    again), one line on stderr unless the reader just went away, and the exit code."""
    import errno

    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.close(null)
    if error.errno == errno.EPIPE:
        return EXIT_BROKEN_PIPE
    _say(f"cannot write to standard output: {error.strerror or error}")
    return EXIT_OUTPUT_FAILED


def _say(message: str) -> None:
    try:
        if sys.stderr is not None:
            sys.stderr.write(f"diagnose: {message}\n")
            sys.stderr.flush()
    except (OSError, ValueError):   # stderr is unusable too: the exit code says it
        pass


def _writes_a_report(argv: list[str]) -> bool:
    """``diagnose SYMPTOM``, ``run``, ``triage`` and ``demo`` write a report; other commands and
    options keep Python's own Ctrl-C (``docs serve`` stops on it)."""
    from diagnose.cli.signals import REPORTING, NOT_REPORTING

    first = argv[0] if argv else ""
    return bool(first) and not first.startswith("-") and (first in REPORTING or first not in NOT_REPORTING)
