"""``reference/cli.md``: every ``diagnose`` command, generated from the click commands.

The page walks :data:`diagnose.cli.COMMANDS` (and the subcommands of groups such as ``docs``)
and prints each command's usage line, help text, options with their defaults, and epilog,
exactly as click knows them; a new command or option is documented by existing.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator

import click

from diagnose.site.mdtext import cell, fence

_CODE_SPAN = re.compile(r"(`+)(.+?)\1")
#: what Python-Markdown would read as markup in help text: emphasis, links, attribute lists, HTML
_MARKUP = re.compile(r"([\\*_\[\]{}#])")


def prose(text: str) -> str:
    """click help text as Markdown that shows exactly that text: code spans (`diagnose lint`) stay
    code, everything else is literal (``<symptom>-<UTC time>.<format>`` is not an HTML tag,
    ``execution*.log`` no emphasis, ``{name}`` no attribute list)."""
    out, pos = [], 0
    for match in _CODE_SPAN.finditer(text):
        out += [_literal(text[pos:match.start()]), match.group(0)]
        pos = match.end()
    out.append(_literal(text[pos:]))
    return "".join(out)


def _literal(text: str) -> str:
    return _MARKUP.sub(r"\\\1", text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def commands() -> Iterator[tuple[str, click.Command, click.Context]]:
    """``(full name, command, its context)`` for every command and subcommand, in help order."""
    from diagnose.cli import COMMANDS, cli

    root = click.Context(cli, info_name="diagnose")
    for name in COMMANDS:
        command = cli.get_command(root, name)
        if command is None:
            continue
        yield from _walk(command, f"diagnose {name}", click.Context(command, info_name=name, parent=root))


def _walk(command: click.Command, full: str, ctx: click.Context) -> Iterator[tuple[str, click.Command, click.Context]]:
    yield full, command, ctx
    if isinstance(command, click.Group):
        for sub in command.list_commands(ctx):
            child = command.get_command(ctx, sub)
            if child is not None:
                yield from _walk(child, f"{full} {sub}", click.Context(child, info_name=sub, parent=ctx))


def help_markdown(text: str | None) -> str:
    """click help text as Markdown: ``\\b`` paragraphs (kept as typed) become code blocks."""
    paragraphs = inspect.cleandoc(text or "").split("\n\n")
    out = []
    for paragraph in paragraphs:
        if paragraph.startswith("\b"):
            out.append(fence(paragraph.lstrip("\b").strip("\n"), "text"))
        elif paragraph.strip():
            out.append(prose(" ".join(paragraph.split())))
    return "\n\n".join(out)


def anchor(full_name: str) -> str:
    return full_name.replace(" ", "-")


def options_table(command: click.Command, ctx: click.Context) -> str:
    rows = []
    for param in command.get_params(ctx):
        if isinstance(param, click.Option) and not param.hidden:
            record = param.get_help_record(ctx)
            if record:
                rows.append(f"| `{record[0]}` | {cell(prose(record[1]))} |")
    if not rows:
        return ""
    return "\n".join(["| Option | What it does |", "|---|---|", *rows])


def command_section(full: str, command: click.Command, ctx: click.Context) -> list[str]:
    usage = " ".join([full, *command.collect_usage_pieces(ctx)])
    level = "###" if full.count(" ") > 1 else "##"
    out = [f"{level} {full} {{ #{anchor(full)} }}", "", fence(usage, "text"), "", help_markdown(command.help), ""]
    if isinstance(command, click.Group):
        out += ["Subcommands: " + ", ".join(f"[`{full} {sub}`](#{anchor(f'{full} {sub}')})"
                                            for sub in command.list_commands(ctx)), ""]
    table = options_table(command, ctx)
    if table:
        out += [table, ""]
    if command.epilog:
        out += [help_markdown(command.epilog), ""]
    return out


def cli_page() -> str:
    from diagnose.cli import cli

    root = click.Context(cli, info_name="diagnose")
    out = ["---", "title: Command line", "description: Every diagnose command and option.", "---", "",
           "# Command line", "", fence("diagnose [OPTIONS] SYMPTOM\ndiagnose [OPTIONS] COMMAND [ARGS]...", "text"), "",
           help_markdown(cli.help), "",
           "Any first word that is not a command is a symptom: `diagnose stale-positions` is "
           "`diagnose run stale-positions`.", "",
           options_table(cli, root), "", help_markdown(cli.epilog), "",
           "| Command | What it does |", "|---|---|"]
    listed = list(commands())
    out += [f"| [`{full}`](#{anchor(full)}) | {cell(prose(command.get_short_help_str(200)))} |"
            for full, command, _ in listed]
    out.append("")
    for full, command, ctx in listed:
        out += command_section(full, command, ctx)
    return "\n".join(out)
