"""``diagnose demo``: the embedded default, end to end, on a throwaway reference stack.

The stack comes from the pack's ``worlds/stack.yaml`` (a healthy deployment of every system
the pack covers, plus named faults). By default several faults are planted and ``diagnose
triage`` must find them; ``--fault NAME`` plants one and runs its symptom's diagnosis.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from diagnose.cli.options import PackChoice, checks_option, fail, find_entry_or_exit, load_pack_or_exit, report_options

if TYPE_CHECKING:
    from diagnose.kb.model import Entry, Example, Pack
    from diagnose.profile import Profile
    from diagnose.world.stack import Fault


@click.command(epilog="Exit code 0 when the diagnosis found exactly what the demo planted, 1 otherwise, "
                      "2 usage error or no PostgreSQL.")
@click.option("--fault", "faults", multiple=True, metavar="NAME",
              help="Plant this fault (repeatable; `--list` shows them). One fault: run its symptom.")
@click.option("--triage", "force_triage", is_flag=True, help="Run `diagnose triage` even for a single fault.")
@click.option("--healthy", is_flag=True, help="Plant nothing: triage must find a healthy stack.")
@click.option("--example", "example_ref", metavar="SYMPTOM/NAME",
              help="Build one of an entry's own example worlds instead (knowledge authors).")
@click.option("--list", "list_faults", is_flag=True, help="List the faults the demo can plant and exit.")
@checks_option
@report_options
def demo(faults: tuple[str, ...], force_triage: bool, healthy: bool, example_ref: str | None, list_faults: bool,
         checks: PackChoice, fmt: str, output: Path | None, bundle: Path | None, timeout: float,
         deadline: float | None, quiet: bool) -> None:
    """Plant faults in a throwaway reference stack and diagnose them.

    Starts a private PostgreSQL (system binaries when installed, else the embedded wheel; as
    root, the server runs as an unprivileged user), loads the reference schemas, builds a
    healthy stack (data, logs, env files, small HTTP/WebSocket/TCP services on 127.0.0.1),
    plants the faults, runs the diagnosis, prints it, and removes everything but the report.
    """
    from diagnose.world.stack import StackError, load_stack

    pack = load_pack_or_exit(checks)
    if example_ref:
        entry, example = _entry_example(pack, example_ref)
        plan = _Plan(f"the '{example.name}' example of {entry.id}", example, entry, None, [])
    else:
        try:
            stack = load_stack(pack)
        except StackError as exc:
            fail(str(exc))
        if list_faults:
            for f in stack.faults:
                click.echo(f"{f.name:<24} {f.title}  (symptom: {f.symptom})")
            return
        if healthy and faults:
            fail("--healthy plants nothing: leave out --fault")
        chosen = [] if healthy else list(faults or stack.default)
        for name in chosen:
            if stack.fault(name) is None:
                fail(f"--fault {name}: no such fault (known: {', '.join(f.name for f in stack.faults)})")
        planted = [f for f in map(stack.fault, chosen) if f is not None]   # none is, after the loop above
        single = len(faults) == 1 and not force_triage
        symptom = find_entry_or_exit(pack, planted[0].symptom) if single else None
        what = ", ".join(f"{f.name} ({f.title})" for f in planted) or "nothing (healthy stack)"
        plan = _Plan(f"the reference stack with: {what}", stack.example(chosen), symptom,
                     planted[0] if single else None, planted)
    from diagnose.cli.run import refuse_bad_targets, signalled_exit

    refuse_bad_targets(output, bundle)
    code = _run(pack, plan, fmt, output, timeout, quiet, deadline, bundle)
    sys.exit(signalled_exit(code))


class _Plan:
    def __init__(self, title: str, example: Example, entry: Entry | None, fault: Fault | None, planted: list[Fault]):
        self.title, self.example, self.entry, self.fault, self.planted = title, example, entry, fault, planted


def _run(pack: Pack, plan: _Plan, fmt: str, output: Path | None, timeout: float, quiet: bool,
         deadline: float | None = None, bundle: Path | None = None) -> int:
    from diagnose.pg.binaries import PostgresUnavailable
    from diagnose.pg.server import PostgresStartError, TempPostgres
    from diagnose.world.build import World

    say = (lambda *_: None) if quiet else (lambda text: click.echo(text, err=True))
    say(f"diagnose demo: building {plan.title}")
    started = time.monotonic()
    try:
        with TempPostgres() as pg, tempfile.TemporaryDirectory(prefix="diagnose-demo-") as workdir:
            say(f"  PostgreSQL {pg.version} from {pg.bin_dir} on 127.0.0.1 ({time.monotonic() - started:.1f}s)")
            with World(pack.layer_of(plan.entry) if plan.entry else pack, plan.example, pg, Path(workdir)) as world:
                sources = ", ".join(f"{len(names)} {kind}" for kind, names in world.profile.sources.items() if names)
                say(f"  built: {sources} ({time.monotonic() - started:.1f}s)")
                ok = _diagnose(pack, plan, world.profile, fmt, output, timeout, quiet, say, deadline, bundle)
    except (PostgresUnavailable, PostgresStartError) as exc:
        fail(str(exc))
    say(f"\ndiagnose demo: done in {time.monotonic() - started:.1f}s; the throwaway database and files are gone.")
    return 0 if ok else 1


def _diagnose(pack: Pack, plan: _Plan, profile: Profile, fmt: str, output: Path | None, timeout: float, quiet: bool,
              say: Any, deadline: float | None = None, bundle: Path | None = None) -> bool:
    from diagnose.cli.run import diagnose_entry
    from diagnose.cli.triage import triage_pack

    if plan.entry is not None:
        say(f"  running: diagnose {plan.entry.id}\n")
        code = diagnose_entry(pack, plan.entry, profile, fmt=fmt, output=output, timeout=timeout, quiet=quiet,
                              deadline=deadline, bundle=bundle)
        expected = {"problem": 1, "healthy": 0, "inconclusive": 3, "risk": 4}[
            plan.example.verdict if plan.fault is None else "problem"]
        if code != expected:
            say(f"diagnose demo: expected exit {expected}, got {code}")
        return code == expected
    say("  running: diagnose triage\n")
    found: list[str] = []
    code = triage_pack(pack, profile, fmt=fmt, output=output, timeout=timeout, quiet=quiet, deadline=deadline,
                       bundle=bundle,
                       on_document=lambda doc: found.extend(s["id"] for s in doc["symptoms"]
                                                            if s["verdict"] == "problem"))
    wanted = [f.symptom for f in plan.planted]
    missing = [s for s in wanted if s not in found]
    if missing:
        say(f"diagnose demo: planted faults not found: {', '.join(missing)}")
    if not wanted and code != 0:
        say(f"diagnose demo: the healthy stack should triage healthy, got exit {code}")
    return not missing and (code == 0 if not wanted else code == 1)


def _entry_example(pack: Pack, ref: str) -> tuple[Entry, Example]:
    symptom, _, name = ref.partition("/")
    entry = find_entry_or_exit(pack, symptom)
    for example in entry.examples:
        if example.name == name or (not name and example.verdict in ("problem", "risk")):
            return entry, example
    fail(f"--example {ref}: {entry.id} has no such example (has: {', '.join(x.name for x in entry.examples)})")
    raise AssertionError  # fail() exits
