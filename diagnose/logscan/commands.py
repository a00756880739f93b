"""Log commands that can apply a time window themselves: the rule, declared once.

A log source given as a command (``docker compose logs backend``) prints the whole history, and
without ``--timestamps`` its lines carry no time, so a check's window could not be applied to
them (:mod:`diagnose.checks.log` says so). The commands below take the window themselves; for a
windowed pass diagnose adds it, and asks for timestamps where the command can print them:

=========================================  ========================================  ===================
command (``argv[0]``, then the word)         window added (the window's start)         timestamps added
=========================================  ========================================  ===================
``docker ... logs``, ``docker compose ...  ``--since 2026-12-05T10:00:00Z``            ``--timestamps``
logs``, ``docker-compose logs``,
``podman ... logs``, ``podman-compose
logs``
``kubectl ... logs``                        ``--since-time=2026-12-05T10:00:00Z``       ``--timestamps``
``journalctl``                              ``--since=@1764928800`` (seconds since      ``--output=short-iso``
                                            the epoch)                                  (its lines have times)
=========================================  ========================================  ===================

The subcommand is read as the program reads it: options before it are skipped with their values
(``kubectl -n logs logs backend``: the namespace is named ``logs``), and the words must be the
subcommand's (``docker compose -f desk.yml logs``); anything else (``docker exec x cat logs``,
``sudo docker logs``) is run as written. Nothing is added when the command already has that
option (``--since``, ``-t``...): the user's own choice stands, and the window is then not claimed
for lines without a time. ``window: false`` on the log source turns the rule off.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Sequence


@dataclass(frozen=True)
class Rule:
    """How one family of log commands takes a window."""

    programs: frozenset[str]          # basenames of argv[0]
    path: tuple[tuple[str, ...], ...]  # the subcommand words that lead to the logs command (() : none)
    since: Callable[[datetime], list[str]]
    since_options: tuple[str, ...]    # options that already set a window
    timestamps: tuple[str, ...]       # added unless one of timestamp_options is there
    timestamp_options: tuple[str, ...]
    #: options before the subcommand that take their value as the next argument (``-n desk``)
    valued: frozenset[str] = frozenset()


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


_DOCKER_VALUED = frozenset({"--config", "-c", "--context", "-H", "--host", "-l", "--log-level", "--tlscacert",
                            "--tlscert", "--tlskey", "--url", "--connection", "--root", "--runroot",
                            # docker compose's own, before `logs`
                            "-f", "--file", "-p", "--project-name", "--profile", "--env-file",
                            "--project-directory", "--ansi", "--parallel", "--progress"})
_KUBECTL_VALUED = frozenset({"-n", "--namespace", "--context", "--cluster", "--user", "-s", "--server",
                             "--kubeconfig", "--token", "--as", "--as-group", "--request-timeout", "-v",
                             "--certificate-authority", "--client-certificate", "--client-key",
                             "--tls-server-name", "--cache-dir"})

RULES = (
    Rule(frozenset({"docker", "podman"}), (("logs",), ("compose", "logs")),
         lambda since: ["--since", _rfc3339(since)], ("--since",), ("--timestamps",), ("--timestamps", "-t"),
         _DOCKER_VALUED),
    Rule(frozenset({"docker-compose", "podman-compose"}), (("logs",),),
         lambda since: ["--since", _rfc3339(since)], ("--since",), ("--timestamps",), ("--timestamps", "-t"),
         _DOCKER_VALUED),
    Rule(frozenset({"kubectl"}), (("logs",),),
         lambda since: [f"--since-time={_rfc3339(since)}"], ("--since", "--since-time"),
         ("--timestamps",), ("--timestamps",), _KUBECTL_VALUED),
    Rule(frozenset({"journalctl"}), ((),),
         lambda since: [f"--since=@{int(since.timestamp())}"], ("--since", "-S"),
         ("--output=short-iso",), ("--output", "-o")),
)


@dataclass(frozen=True)
class Windowed:
    """A command with the window added: what to run, and whether it applies the window itself."""

    argv: list[str]
    applies_window: bool


def with_window(argv: Sequence[str], since: datetime) -> Windowed:
    """``argv`` taking the window that starts at ``since``, by the first rule that fits it."""
    argv = list(argv)
    if not argv:
        return Windowed(argv, False)
    program = os.path.basename(argv[0])
    for rule in RULES:
        if program not in rule.programs:
            continue
        at = _after_subcommand(argv, rule)
        if at is None:
            return Windowed(argv, False)
        given = argv[at:]
        if any(_has(given, option) for option in rule.since_options):
            return Windowed(argv, False)      # the user's own window: theirs, not claimed
        added = list(rule.since(since))
        if not any(_has(given, option) for option in rule.timestamp_options):
            added += list(rule.timestamps)
        return Windowed(argv[:at] + added + argv[at:], True)
    return Windowed(argv, False)


def _after_subcommand(argv: list[str], rule: Rule) -> int | None:
    """Where the logs subcommand's own options start: after the words of one of ``rule.path``, the
    options before them skipped (with their values); None when the command is not a logs command."""
    for path in rule.path:
        i, words = 1, list(path)
        while words:
            if i >= len(argv):
                break
            token = argv[i]
            if token.startswith("-"):
                i += 2 if token in rule.valued else 1
                continue
            if token != words[0]:
                break
            words.pop(0)
            i += 1
        else:
            return i
    return None


def _has(args: list[str], option: str) -> bool:
    return any(a == option or a.startswith(option + "=") or (len(option) == 2 and a.startswith(option) and
                                                           not a.startswith("--")) for a in args)
