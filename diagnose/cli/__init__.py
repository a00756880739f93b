"""The ``diagnose`` command line.

``diagnose SYMPTOM`` is the main use, so the group treats any word that is not a subcommand as
a symptom to run. Subcommands live in small modules imported only when invoked, which keeps
``diagnose --help`` and shell completion fast.
"""

from __future__ import annotations

import importlib
import sys
from typing import IO, cast

import click

from diagnose import __version__
from diagnose.i18n import LANGUAGES
from diagnose.plugins import PluginError

#: subcommand -> (module, attribute, one-line help); help is here so --help imports nothing
COMMANDS: dict[str, tuple[str, str, str]] = {
    "run": ("diagnose.cli.run", "run", "Run the checks of SYMPTOM (same as `diagnose SYMPTOM`)."),
    "list": ("diagnose.cli.browse", "list_cmd", "List the symptoms of the knowledge base by category."),
    "show": ("diagnose.cli.browse", "show", "Show a symptom's FAQ entry in the terminal."),
    "explain": ("diagnose.cli.browse", "explain", "Find the symptoms that explain an error message."),
    "triage": ("diagnose.cli.triage", "triage", "Run every symptom's checks and rank what was found."),
    "lint": ("diagnose.cli.lint", "lint", "Validate a knowledge base; list every problem with file:line."),
    "schema": ("diagnose.cli.lint", "schema", "Print the JSON Schema of knowledge-base entries."),
    "selftest": ("diagnose.cli.selftest", "selftest", "Prove the checks against their example worlds on a real PostgreSQL."),
    "init": ("diagnose.cli.init", "init", "Scaffold a knowledge pack of your own: one entry, a profile, a site."),
    "new": ("diagnose.cli.init", "new", "Add an entry skeleton to a pack."),
    "report": ("diagnose.cli.report", "report", "Re-render a support bundle's report offline, in any format."),
    "demo": ("diagnose.cli.demo", "demo", "Plant faults in a throwaway reference stack and diagnose them."),
    "docs": ("diagnose.cli.docs", "docs", "Build or serve the FAQ site generated from the knowledge base."),
}

EPILOG = """\b
Examples:
  diagnose stale-positions --profile diagnose.yaml
  diagnose stale-positions --dsn trading=postgresql://app@db/trading --format html
  diagnose explain "order rejected: position_mutex_blocked (BTCUSDT 1h)"
  diagnose triage --profile diagnose.yaml --bundle triage.tar.gz
  diagnose report triage.tar.gz --format html -o triage.html
  diagnose list
  diagnose demo

\b
Exit codes: 0 no problem found, 1 a problem found, 2 usage or knowledge-base
error, 3 inconclusive (nothing failed, but a check errored, timed out or was skipped),
130 / 143 / 129 stopped by Ctrl-C / SIGTERM / SIGHUP (the report of what finished is
still written, marked interrupted), 141 the reader of the output went away (| head).
"""


class SymptomGroup(click.Group):
    """A group whose unknown first word is a symptom: ``diagnose X`` means ``diagnose run X``."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attr, _ = COMMANDS[name]
        return with_lang_option(getattr(importlib.import_module(module), attr))

    def resolve_command(self, ctx: click.Context, args: list[str]):
        name = args[0] if args else ""
        if name in COMMANDS or name.startswith("-"):
            return super().resolve_command(ctx, args)
        return "run", self.get_command(ctx, "run"), args

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, help_) for name, (_, _, help_) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _choose_language(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    from diagnose import i18n

    if value is not None:
        i18n.set_language(value)


def lang_option() -> click.Option:
    """``--lang en|zh``: the language of the output, the knowledge pack's texts included (default: the
    locale, ``LC_ALL`` / ``LC_MESSAGES`` / ``LANG``). Eager, so it is in force before anything prints."""
    return click.Option(["--lang"], type=click.Choice(list(LANGUAGES)), expose_value=False, is_eager=True,
                        callback=_choose_language,
                        help="Language of the output and of the knowledge base's texts: en or zh (default: "
                             "from LC_ALL / LANG, zh_CN.UTF-8 is zh).")


def with_lang_option(command: click.Command) -> click.Command:
    """``command`` (and each subcommand of a group) with ``--lang``: every command has it, added here once."""
    if not any(p.name == "lang" for p in command.params):
        command.params.append(lang_option())
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            with_lang_option(sub)
    return command


@click.group(cls=SymptomGroup, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"],
                                                                  "max_content_width": 100})
@click.version_option(__version__, "-V", "--version", prog_name="diagnose")
def cli() -> None:
    """Diagnose a symptom: run the knowledge base's checks against your environment.

    Type the symptom you see (`diagnose stale-positions`); the checks attached to it run
    concurrently against the databases, logs, env files and endpoints of your profile; the
    summary names the cause found, with evidence and the fix, and a report is written for
    the ticket. Run `diagnose list` to see the symptoms.
    """


cli.params.append(lang_option())     # `diagnose --lang zh list` as well as `diagnose list --lang zh`


class _MaskedStream:
    """stderr for click's own messages (a bad option value may be a password), secrets masked."""

    def __init__(self, stream) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        from diagnose.cli.options import mask_for_stderr

        return self._stream.write(mask_for_stderr(text))

    def flush(self) -> None:
        self._stream.flush()

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def main() -> None:
    """Run the command line (the program starts in :func:`diagnose.console.main`)."""
    try:
        cli.main(prog_name="diagnose", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show(file=cast(IO[str], _MaskedStream(sys.stderr)))   # a stream by duck typing: click only writes
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except PluginError as exc:     # an installed plugin that cannot be used: its entry point, and why
        from diagnose.cli.options import fail

        fail(str(exc))
    except KeyboardInterrupt:  # pragma: no cover - interactive
        click.echo("interrupted", err=True)
        sys.exit(130)
