"""``reference/check-kinds.md``: what each check kind does, from the kind modules themselves.

A kind's module docstring explains its semantics and outcomes, its ``SCHEMA`` lists its
fields, its ``manual()`` gives the command a human would type. The page quotes all three, and
shows one real check of the pack per kind with the manual command the site prints for it, so
a new kind is documented by writing its module, and a changed kind cannot leave stale docs.
"""

from __future__ import annotations

import yaml

from diagnose.kb.model import Pack
from diagnose.site import entry_page
from diagnose.site.manual import manual_markdown
from diagnose.site.mdtext import docstring_markdown, fence
from diagnose.site.schemadoc import field_table, fields


class _BlockDumper(yaml.SafeDumper):
    """YAML as authors write it: multi-line text (queries, commands) as ``|`` blocks."""


_BlockDumper.add_representer(str, lambda dumper, value: dumper.represent_scalar(
    "tag:yaml.org,2002:str", value, style="|" if "\n" in value else None))


def as_yaml(value: object) -> str:
    return yaml.dump(value, Dumper=_BlockDumper, allow_unicode=True, sort_keys=False, width=10**6).rstrip()


def check_kinds_page(pack: Pack) -> str:
    from diagnose.checks import load_kind, usable_kind_names
    from diagnose.kb.schema import check_schema

    common = {f.path for f in fields(check_schema())}
    out = ["---", "title: Check kinds", "description: What each check kind probes, its fields, and the command "
           "that does the same by hand.", "---", "", "# Check kinds", "",
           "A check is one probe of one data source, named in the entry (`database: trading`) and located by "
           "the [target profile](profile.md). Every kind only reads: SQL runs in a read-only transaction that "
           "is rolled back, HTTP uses GET or HEAD, nothing is ever written to the system being diagnosed.", "",
           "Outcomes: **pass** and **fail** are findings; **skip** means the source is not in the profile; "
           "**error** means the probe could not be made as configured; **timeout** means no answer in time. "
           "A symptom's verdict is *problem* when a check that shows the symptom failed, *risk* when only "
           "checks pointing to a cause failed (the cause is there, the symptom not yet), *inconclusive* when "
           "none failed but one could not conclude, *healthy* otherwise (a failed check of a past event, "
           "`history: true`, or of context, `symptom: false` without a cause, changes no verdict).", "",
           "| Kind | Reads | Fields | Used by |", "|---|---|---|---|"]
    used: dict[str, list[tuple[str, str]]] = {k: [] for k in usable_kind_names()}
    for entry in pack.entries:
        for check in entry.checks:
            used.setdefault(check.kind, []).append((entry.id, check.id))
    for kind in usable_kind_names():
        module = load_kind(kind)
        own = [f.path for f in fields(check_schema(kind)) if f.path not in common and "." not in f.path]
        out.append(f"| [{kind}](#{kind}) | `{module.SOURCE}` | {', '.join(f'`{p}`' for p in own)} | "
                   f"{len(used.get(kind, []))} check(s) |")
    out.append("")
    for kind in usable_kind_names():
        out += _kind_section(kind, pack, common, used.get(kind, []))
    return "\n".join(out)


def _kind_section(kind: str, pack: Pack, common: set[str], used: list[tuple[str, str]]) -> list[str]:
    from diagnose.checks import load_kind
    from diagnose.kb.schema import check_schema

    module = load_kind(kind)
    out = [f"## {kind} {{ #{kind} }}", "", docstring_markdown(module.__doc__), "",
           f"The source is named by `{module.SOURCE}:`.", "",
           f"### Fields {{ #{kind}-fields }}", "",
           field_table(check_schema(kind), skip=common), ""]
    if used:
        entry_id, check_id = used[0]
        entry = pack.get(entry_id)
        assert entry is not None   # ``used`` was read from the pack's entries
        check = next(c for c in entry.checks if c.id == check_id)
        shown = {k: v for k, v in check.raw.items() if k not in ("message",)}
        out += [f"### Example {{ #{kind}-example }}", "",
                f"From [{entry_id}](../{entry_page(entry_id)}#check-{check_id}):", "",
                fence(as_yaml([shown]), "yaml"), "",
                manual_markdown(check, entry), ""]
        entries = sorted({e for e, _ in used})
        out += ["Used by: " + ", ".join(f"[{e}](../{entry_page(e)})" for e in entries), ""]
    return out
