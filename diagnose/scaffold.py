"""Scaffolding: a knowledge pack of one's own (``diagnose init``) and an entry skeleton (``diagnose new``).

``init DIR`` writes a small project laid out like this repository::

    DIR/checks/pack.yaml                the pack: name, description, categories, source names
    DIR/checks/<category>/<id>.yaml     one entry: a log check, a broken and a healthy example
    DIR/diagnose.yaml                   the profile: packs: [checks], every source type commented
    DIR/mkdocs.yml                      the FAQ site: the `diagnose` plugin with this pack alone
    DIR/docs/                           hand-written pages of the site (none yet)

The entry needs no external service to prove itself (its worlds are log files), so a fresh
``init`` passes ``diagnose lint checks``, ``diagnose selftest --checks checks`` and ``diagnose docs
build --strict`` unedited. Its id is made from the folder's name, so it clashes with no other pack.

``new ID`` writes ``<category>/<ID>.yaml``: the fields every entry has, with empty lists where the
author's knowledge goes and a commented template under each; ``diagnose lint`` lists what is still
missing, one line each.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

PACK_DIR = "checks"
DEFAULT_CATEGORY = ("general", "General")
ID_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
MAX_ID = 64


def slug(name: str, fallback: str = "my-pack") -> str:
    """``name`` as a kebab-case id part (at most 40 characters)."""
    text = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40].strip("-")
    return text or fallback


def example_id(project: Path, taken: Any) -> str:
    """The scaffolded entry's id: ``<folder>-example``, else ``example-symptom`` (when that is taken)."""
    for candidate in (f"{slug(project.resolve().name)}-example", "example-symptom"):
        if candidate not in taken:
            return candidate
    n = 2
    while f"example-symptom-{n}" in taken:
        n += 1
    return f"example-symptom-{n}"


def project_files(project: Path, *, name: str, entry_id: str) -> dict[str, str]:
    """``path relative to the project -> text`` of every file ``diagnose init`` writes."""
    category, category_title = DEFAULT_CATEGORY
    return {
        f"{PACK_DIR}/pack.yaml": pack_yaml(name, category, category_title),
        f"{PACK_DIR}/{category}/{entry_id}.yaml": example_entry(entry_id, category),
        "diagnose.yaml": profile_yaml(entry_id),
        "mkdocs.yml": mkdocs_yml(name),
        "docs/.gitkeep": "",
    }


def _q(text: str) -> str:
    """A YAML scalar for ``text`` (quoted when it needs to be)."""
    return yaml.safe_dump(text, allow_unicode=True, default_style=None, width=10_000).strip().removesuffix("\n...")


def pack_yaml(name: str, category: str, category_title: str) -> str:
    return f"""\
# The knowledge pack {name}: one YAML file per symptom, in <category>/<id>.yaml.
#
#   diagnose lint {PACK_DIR}                   every problem, with file:line (also: clashes with the built-in pack)
#   diagnose selftest --checks {PACK_DIR}      builds each example world and proves the checks on it
#   diagnose new ID                      adds an entry skeleton (in the first category below)
#   diagnose docs show entry-format      every field of an entry and of this file
name: {_q(name)}
# the pack's name for people: the title of the FAQ site and of its home page
title: {_q(name.replace("-", " ").capitalize())}
version: "0.1.0"
description: {_q(f"Symptoms of {name}: how to diagnose them by hand or with one command, their causes and fixes.")}
# where the FAQ site is published (`diagnose docs serve` serves it here); reports link to <site_url>/faq/<id>/
site_url: "http://127.0.0.1:8000/"
# the pack in Chinese too: each entry gets its <id>.zh.yaml beside it, and lint reports a missing or stale
# one (the page "writing an entry", Translations); the site then has /zh/
# languages: [en, zh]
# category id -> title, in the order lists and the site show them; an entry lives in the folder of its category
categories:
  {category}: {_q(category_title)}
# the source names checks may use; where they are is each deployment's profile (diagnose.yaml)
sources:
  logs:
    app:
      description: log of the application's background worker
      example: /var/log/app/worker*.log
  # databases:
  #   app:
  #     description: the application's PostgreSQL database
  #     example: postgresql://diagnose@db:5432/app
  # env:
  #   app:
  #     description: the application's .env file
  #     example: /srv/app/.env
  # endpoints:
  #   api:
  #     description: the application's HTTP API
  #     example: http://127.0.0.1:8000
# SQL checks run, in the self-test, on a throwaway PostgreSQL loaded with the tables of this file:
# reference_schemas:
#   app: schemas/app.sql
"""


def example_entry(entry_id: str, category: str) -> str:
    return f"""\
# A symptom: what users see, the checks that tell its causes apart, the causes, the fixes, and
# example worlds that prove the checks (`diagnose selftest --checks {PACK_DIR} {entry_id}`).
# Rename it (the file name is its id) and make it yours; `diagnose docs show writing-an-entry` walks
# through writing one.
id: {entry_id}
title: Background jobs fail
category: {category}
severity: medium
summary: |
  Work queued for the background worker is never done: exports and e-mails do not arrive, and
  the worker's log says `job ... failed`.
# messages exactly as users report them
seen:
  - "my export never arrived"
# regexes of the error messages this symptom explains (`diagnose explain "job 42 failed: ..."`)
error_patterns:
  - 'job \\S+ failed: .+'
causes:
  - id: worker-failing
    title: The worker fails every job it takes
    text: |
      The worker starts jobs and each ends with an error: a service it calls is down, its
      configuration changed, or a release broke it. The text after `failed:` says which.
checks:
  - id: failed-jobs
    kind: log
    title: Failed jobs in the worker's log in the last hour
    expects: no job failed in the last hour
    log: app
    pattern: 'job \\S+ failed'
    since: 1h
    cause: worker-failing
    symptom: true
    message:
      pass: No job failed in the last {{since}}
      fail: "{{count}} job(s) failed in the last {{since}}; last: {{last}}"
  # A check on a database (declare `databases: app` under `sources` in pack.yaml, and the tables in
  # `reference_schemas`; a broken example then gives `world: databases: app: <SQL run on them>`):
  # - id: failed-job-rows
  #   kind: sql
  #   title: Jobs marked failed in the last hour
  #   expects: no job marked failed in the last hour
  #   database: app
  #   query: |
  #     SELECT id, error, finished_at FROM jobs
  #      WHERE status = 'failed' AND finished_at > now() - %(window)s::interval
  #   params: {{window: 1 hour}}
  #   expect: {{rows: {{max: 0}}}}
  #   cause: worker-failing
  #   message:
  #     fail: "{{count}} job(s) failed in the last hour"
solutions:
  - id: read-the-errors
    title: Read the worker's errors and fix what they name
    steps:
      - do: Read the last failures; the text after `failed:` names the service or setting at fault.
        risk: read-only
        where: host
        shell: grep 'failed' /var/log/app/worker.log | tail -n 20
examples:
  - name: broken
    description: Two jobs failed half an hour ago.
    verdict: problem
    causes: [worker-failing]
    fails: [failed-jobs]
    world:
      logs:
        app: |
          {{now-40m}} INFO worker: job 41 done
          {{now-30m}} ERROR worker: job 42 failed: connection refused (smtp.internal:25)
          {{now-20m}} ERROR worker: job 43 failed: connection refused (smtp.internal:25)
  - name: healthy
    description: Every job of the last hour was done.
    verdict: healthy
    world:
      logs:
        app: |
          {{now-30m}} INFO worker: job 42 done
          {{now-20m}} INFO worker: job 43 done
  # a log without timestamps (print(), `docker compose logs` without --timestamps): the 1h window
  # cannot be applied, so its failures are counted and said so, and alone they conclude nothing
  - name: untimed-log
    description: The worker's log has no times; a failure in it cannot be placed in the last hour.
    verdict: inconclusive
    fails: [failed-jobs]
    world:
      logs:
        app: |
          worker: job 42 failed: connection refused (smtp.internal:25)
          worker: job 43 done
"""


#: the profile's fields, each as commented lines showing every form it takes
_PROFILE_FIELDS: dict[str, list[str]] = {
    "logs": ["# logs: a file, a glob (rotated and .gz siblings are read too), a list of them, or a command;",
             "# uncomment one `app:` line and `diagnose SYMPTOM` reads it",
             "# logs:",
             "#   app: /var/log/app/worker*.log",
             "#   app: [/var/log/app/worker.log, /var/log/app/worker-*.log.gz]",
             '#   app: {command: "docker compose logs --no-color --timestamps worker"}',
             '#   app: {command: "journalctl -u worker --output short-iso"}',
             "#   app: {paths: /var/log/app/worker.log, timezone: UTC}"],
    "databases": ["# databases: PostgreSQL DSNs (a read-only role is enough: `diagnose docs show least-privilege`)",
                  "# databases:",
                  '#   app: "postgresql://diagnose:${APP_DB_PASSWORD}@db:5432/app"'],
    "env": ["# env: .env files (read as docker compose reads them), or this process's environment",
            "# env:",
            "#   app: /srv/app/.env",
            "#   worker: {process: true}"],
    "endpoints": ["# endpoints: base URLs (http, websocket) or host:port (tcp)",
                  "# endpoints:",
                  "#   api: http://127.0.0.1:8000"],
    "timezone": ["# timezone: Europe/Paris          # of log timestamps that carry none (default: local)"],
    "mask": ["# mask: ['acct-[0-9]{6}']          # extra regexes whose matches reports mask"],
    "settings": ["# settings:                        # this deployment's thresholds (each entry's page lists them)",
                 "#   ENTRY-ID: {NAME: VALUE}"],
    "approvers": ["# approvers:                       # who signs off steps that trade or stop something",
                  "#   ROLE: the on-call engineer (#ops)"],
}


def profile_yaml(entry_id: str) -> str:
    """The profile: ``packs: [checks]`` and every other field of the profile schema, commented."""
    properties = profile_fields()
    out = [
        "# Target profile: where THIS deployment's sources are. Checks name sources (`log: app`); this file",
        "# says where they are. `diagnose SYMPTOM` reads ./diagnose.yaml (or --profile FILE, $DIAGNOSE_PROFILE);",
        "# a check whose source is not here is skipped, never failed. ${VAR} and ${VAR:-default} expand from",
        "# the environment: keep secrets out of this file. Every field: `diagnose docs show profile`.",
        f"#   diagnose {entry_id}          # runs with the packs below",
        "",
        "# knowledge packs used with the built-in one, relative to this file (as --checks)",
        f"packs: [{PACK_DIR}]",
        "",
    ]
    for key in [*_PROFILE_FIELDS, *(k for k in properties if k not in _PROFILE_FIELDS and k != "packs")]:
        if key in _PROFILE_FIELDS:
            out += _PROFILE_FIELDS[key]
        else:   # a field this template does not know yet: its own description
            about = " ".join(str(properties[key].get("description", "")).split())
            out.append(f"# {key}:" + (f"  # {about}" if about else ""))
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def profile_fields() -> dict[str, Any]:
    """The profile schema's fields (every source type's section, the plugins' too, and the others)."""
    try:
        from diagnose import profile
    except ImportError:   # pragma: no cover - the template's own fields still cover every built-in source type
        return {}
    schema = profile.schema() if callable(getattr(profile, "schema", None)) else getattr(profile, "SCHEMA", {})
    return dict(schema.get("properties", {}))


def mkdocs_yml(name: str) -> str:
    return f"""\
# The FAQ site of this pack: one page per symptom, generated from {PACK_DIR}/ at build time.
#   diagnose docs build --strict -o site      (or: mkdocs build --strict)
#   diagnose docs serve                       (or: mkdocs serve)
# The `diagnose` plugin adds the symptom, guide and reference pages, a home page from pack.yaml's
# name and description (a docs/index.md replaces it), and the navigation (with a `nav:` here, the
# symptoms are put under their category pages). Hand-written pages go into docs/.
site_name: {_q(f"{name} FAQ")}
docs_dir: docs
theme:
  name: material
  font: false            # no Google Fonts: the site makes no request to another host
  features: [navigation.tabs, navigation.sections, navigation.indexes, search.suggest, content.code.copy,
             content.tabs.link]
plugins:
  - search
  - tags
  - diagnose:
      checks: [{PACK_DIR}]   # pack folders, relative to this file
      builtin: false     # true: the built-in pack's pages too
validation:
  omitted_files: warn
  unrecognized_links: warn
  anchors: warn
"""


def entry_skeleton(entry_id: str, category: str) -> str:
    """A new entry: every field it needs, lists empty with a commented template under each, so
    ``diagnose lint`` lists what is missing."""
    title = entry_id.replace("-", " ").capitalize()
    return f"""\
# {entry_id}: a new entry. Fill in the lists below (each has a commented template), then
#   diagnose lint PACK                          until it lists nothing
#   diagnose selftest --checks PACK {entry_id}
# Every field: `diagnose docs show entry-format`; a walk through one: `diagnose docs show writing-an-entry`.
id: {entry_id}
title: {_q(title)}            # the symptom as users would say it
category: {category}
severity: medium                 # low | medium | high | critical
summary: |
  What users see, in their words.
seen: []                         # messages exactly as users report them
error_patterns: []               # regexes of the error messages this symptom explains
causes: []
#  - id: the-cause
#    title: One line naming the cause
#    text: Why it happens (Markdown).
checks: []
#  - id: the-check
#    kind: log                   # sql | log | env | http | tcp | websocket: `diagnose docs show check-kinds`
#    title: What the check looks at
#    expects: what a healthy system shows
#    log: app                    # a source name declared in pack.yaml
#    pattern: 'ERROR .*'
#    since: 1h
#    cause: the-cause
solutions: []
#  - id: the-fix
#    title: What the fix does
#    steps:
#      - do: What to do and why.
#        risk: read-only         # read-only | reversible | trading | outage
#        where: host
#        shell: tail -n 50 /var/log/app/app.log
examples: []
#  - name: broken                # the world where the symptom is there: the checks that must fail
#    verdict: problem
#    causes: [the-cause]
#    fails: [the-check]
#    world:
#      logs:
#        app: |
#          {{now-10m}} ERROR the message the check finds
#  - name: healthy
#    verdict: healthy
#    world:
#      logs:
#        app: |
#          {{now-10m}} INFO all is well
"""


def pack_names(root: Path) -> dict[str, Path]:
    """``id or alias -> its file`` for every entry file under ``root``, read leniently (an unfinished or
    broken entry still holds its names); a file's name counts as an id."""
    from diagnose.kb.loader import entry_files

    names: dict[str, Path] = {}
    if not root.is_dir():
        return names
    for path in entry_files(root):
        names.setdefault(path.stem, path)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        if isinstance(data, dict):
            aliases = data.get("aliases")
            for value in [data.get("id"), *(aliases if isinstance(aliases, list) else [])]:
                if isinstance(value, str) and value:
                    names.setdefault(value, path)
    return names


def pack_categories(root: Path) -> list[str]:
    """The categories of the pack at ``root``: declared in pack.yaml, else its folders holding entries."""
    from diagnose.kb.loader import entry_files

    try:
        manifest = yaml.safe_load((root / "pack.yaml").read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        manifest = {}
    declared = manifest.get("categories") if isinstance(manifest, dict) else None
    if isinstance(declared, dict) and declared:
        return [str(c) for c in declared]
    return sorted({p.relative_to(root).parts[0] for p in entry_files(root) if len(p.relative_to(root).parts) > 1})


def id_problem(entry_id: str) -> str | None:
    """Why ``entry_id`` cannot be an entry id (None when it can)."""
    from diagnose.kb.lint import RESERVED
    from diagnose.site.generate import RESERVED_IDS

    if not ID_PATTERN.match(entry_id) or len(entry_id) > MAX_ID:
        return (f"'{entry_id}' is not a kebab-case id (lower-case words and digits joined by '-', "
                f"at most {MAX_ID} characters)")
    if entry_id in RESERVED:
        return f"'{entry_id}' is a subcommand name: `diagnose {entry_id}` could never reach the entry"
    if entry_id in RESERVED_IDS:
        return f"'{entry_id}' cannot have a page on the site (faq/{entry_id}/ is reserved)"
    return None
