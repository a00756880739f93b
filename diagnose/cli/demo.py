"""``diagnose demo``: the embedded default, end to end, on a throwaway reference stack."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import click

from diagnose.cli.options import checks_option, fail, find_entry_or_exit, load_pack_or_exit, report_options


@click.command(epilog="Exit code 0 when the diagnosis found what the demo planted, 1 otherwise.")
@click.option("--fault", default="stale-positions", show_default=True, metavar="SYMPTOM",
              help="The symptom whose fault to plant.")
@click.option("--example", "example_name", metavar="NAME",
              help="Which of the symptom's example worlds to build (default: its first broken one).")
@click.option("--healthy", is_flag=True, help="Build the symptom's healthy world instead of a broken one.")
@checks_option
@report_options
def demo(fault: str, example_name: str | None, healthy: bool, checks_path: Path | None, fmt: str,
         output: Path | None, timeout: float, quiet: bool) -> None:
    """Plant a fault in a throwaway reference stack and diagnose it.

    Starts a private PostgreSQL (system binaries when installed, else the embedded wheel; as
    root, the server runs as an unprivileged user), loads the reference schemas, plants the
    fault with demo log and env files and a fake api service, runs `diagnose SYMPTOM` against
    it, prints the summary and the report path, and removes everything but the report.
    """
    from diagnose.cli.run import diagnose_entry
    from diagnose.pg.binaries import PostgresUnavailable
    from diagnose.pg.server import PostgresStartError, TempPostgres
    from diagnose.world.build import World

    pack = load_pack_or_exit(checks_path)
    entry = find_entry_or_exit(pack, fault)
    example = _pick_example(entry, example_name, healthy)
    say = (lambda *_: None) if quiet else (lambda text: click.echo(text, err=True))
    say(f"diagnose demo: building the '{example.name}' world of {entry.id}: {example.description or example.verdict}")
    started = time.monotonic()
    try:
        with TempPostgres() as pg, tempfile.TemporaryDirectory(prefix="diagnose-demo-") as workdir:
            say(f"  PostgreSQL {pg.version} from {pg.bin_dir} on 127.0.0.1 ({time.monotonic() - started:.1f}s)")
            with World(pack, example, pg, Path(workdir)) as world:
                planted = ", ".join(f"{kind} {name}" for kind, names in world.profile.sources.items() for name in names)
                say(f"  planted: {planted}")
                say(f"  running: diagnose {entry.id}\n")
                code = diagnose_entry(pack, entry, world.profile, fmt=fmt, output=output, timeout=timeout,
                                      quiet=quiet)
    except (PostgresUnavailable, PostgresStartError) as exc:
        fail(str(exc))
    expected = {"problem": 1, "healthy": 0, "inconclusive": 3}[example.verdict]
    say(f"\ndiagnose demo: done in {time.monotonic() - started:.1f}s; the throwaway database and files are gone.")
    if code != expected:
        say(f"diagnose demo: expected verdict '{example.verdict}' (exit {expected}), got exit {code}")
        sys.exit(1)


def _pick_example(entry, name: str | None, healthy: bool):
    if name:
        for example in entry.examples:
            if example.name == name:
                return example
        fail(f"--example {name}: {entry.id} has no such example (has: {', '.join(x.name for x in entry.examples)})")
    wanted = "healthy" if healthy else "problem"
    for example in entry.examples:
        if example.verdict == wanted:
            return example
    fail(f"{entry.id} has no {wanted} example to build")
