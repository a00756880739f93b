"""``diagnose selftest [SYMPTOM]...``: prove every check against its broken and healthy worlds."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from diagnose.cli.options import (PackChoice, Seconds, checks_option, fail, find_entry_or_exit, load_pack_or_exit,
                                  packs_profile_option, profile_or_exit)

EXIT_FAILED = 1
EXIT_CANNOT_RUN = 3


@click.command(epilog="Exit codes: 0 every example holds, 1 some example does not, 2 knowledge-base or "
                      "usage error, 3 no PostgreSQL to run on.")
@click.argument("symptoms", nargs=-1, metavar="[SYMPTOM]...")
@click.option("--example", "only", metavar="NAME", help="Run only the examples with this name.")
@click.option("--jobs", "-j", type=click.IntRange(1, 16), default=4, show_default=True,
              help="Examples built and run at the same time.")
@click.option("--timeout", type=Seconds(0.1, 600), default=10.0, show_default=True,
              help="Seconds each check may take, unless its entry sets its own.")
@click.option("--verbose", "-v", is_flag=True, help="Show every check's result, not only for failures.")
@checks_option
@packs_profile_option
def selftest(symptoms: tuple[str, ...], only: str | None, jobs: int, timeout: float, verbose: bool,
             checks: PackChoice, profile_path: Path | None) -> None:
    """Build each example world of SYMPTOM (default: every entry) for real and check the verdict.

    A throwaway PostgreSQL is started when an example needs one (system binaries when
    installed, else the embedded wheel) and loaded with the pack's reference schemas (an
    example whose world says `server:` runs on a dedicated one); each example's world (SQL, held
    sessions, logs, env files, HTTP/WebSocket/TCP servers on 127.0.0.1) is built, the entry is
    run as `diagnose SYMPTOM` would, and the verdict, the failing checks (`fails`) and the
    top cause (`causes`) must be exactly what the example says. With --checks (or the profile's
    packs:), the examples of those packs run (the built-in pack is still loaded, so a clash with it
    is found).
    """
    from diagnose.pg.binaries import PostgresUnavailable
    from diagnose.pg.server import PostgresStartError, ServerPool
    from diagnose.selftest import examples_of, needs_postgres, run_selftest

    profile = profile_or_exit(profile_path)
    pack = load_pack_or_exit(checks, profile)
    named = {p.resolve() for p in (*profile.packs, *checks.paths)}
    entries = ([find_entry_or_exit(pack, s) for s in symptoms] if symptoms else
               [e for e in pack.entries if not named or pack.layer_of(e).root.resolve() in named])
    todo = examples_of(entries, only)
    if not todo:
        fail(f"--example {only}: no such example in {', '.join(e.id for e in entries)}")
    started = time.monotonic()
    click.echo(f"selftest: {len(todo)} example(s) of {len(entries)} entr{'y' if len(entries) == 1 else 'ies'}",
               err=True)
    try:
        with ServerPool() as servers:
            if any(needs_postgres(pack, e, x) for e, x in todo):
                binaries = servers.binaries()
                click.echo(f"selftest: PostgreSQL {binaries.version} from {binaries.bin_dir}", err=True)
            else:
                click.echo("selftest: no example needs PostgreSQL: none is started", err=True)
            outcomes = run_selftest(pack, entries, servers, jobs=jobs, timeout=timeout, only=only,
                                    on_outcome=lambda o: _print(o, verbose))
    except (PostgresUnavailable, PostgresStartError) as exc:
        fail(f"cannot run the self-test: {exc}", EXIT_CANNOT_RUN)
    bad = [o for o in outcomes if not o.ok]
    took = time.monotonic() - started
    if bad:
        click.echo(f"\nselftest: {len(bad)} of {len(outcomes)} example(s) FAILED ({took:.1f}s): "
                   + ", ".join(o.name for o in bad))
        sys.exit(EXIT_FAILED)
    click.echo(f"\nselftest: all {len(outcomes)} example(s) hold ({took:.1f}s)")


def _print(outcome, verbose: bool) -> None:
    mark = "ok  " if outcome.ok else "FAIL"
    causes = f" [{', '.join(outcome.causes[:3])}]" if outcome.causes else ""
    fixed = f" fixed by {outcome.proven}" if outcome.proven else ""
    server = f" on a {outcome.server}" if outcome.server else ""
    click.echo(f"{mark} {outcome.name:<48} {outcome.verdict:<12}{causes}{fixed}{server} {outcome.duration:.1f}s")
    for problem in outcome.problems:
        click.echo(f"       - {problem}")
    if verbose or not outcome.ok:
        for r in outcome.results:
            click.echo(f"       {r.status.value:<7} {r.id}: {r.message}")
