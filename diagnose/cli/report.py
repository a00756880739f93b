"""``diagnose report BUNDLE``: re-render a support bundle's report offline, in any format.

Support staff receive a bundle written with ``--bundle`` and may want the report as HTML
although the operator chose Markdown, or as JSON for a script. Nothing is probed again: no
profile, no database, only the masked document the bundle carries, checked against its
manifest first. A bundle is untrusted input, so every way it can be broken is one line and
exit code 2, never a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from diagnose.cli.options import fail, format_option


@click.command(epilog="Exit codes: 0 rendered, 2 the bundle is missing, truncated, corrupt, changed since it "
                      "was written or not a bundle, or the output cannot be written.")
@click.argument("bundle", type=click.Path(path_type=Path))
@format_option("Report format to render")
@click.option("--output", "-o", type=click.Path(path_type=Path),
              help="Write the report to this file (a folder: <symptom>-<UTC time>.<format> inside it) "
                   "instead of printing it.")
def report(bundle: Path, fmt: str, output: Path | None) -> None:
    """Re-render the report of a support BUNDLE (from `--bundle`) offline, in any format.

    The report speaks the language the run was in (its JSON's `lang`), unless --lang asks for
    another: then the tool's headings and labels change, and what the run wrote (the knowledge
    base's texts, the solutions' steps) stays as it was, with a note on stderr saying so.

    Every member is checked against the bundle's manifest (sizes and sha256) before
    anything is rendered, so a changed or damaged bundle is refused. The report is
    printed, or written with --output.

    \b
    Examples:
      diagnose report stale-positions-20261121T081502Z.tar.gz --format html -o report.html
      diagnose report triage.tar.gz --format json | jq '.symptoms[0]'
    """
    from diagnose.reports import render
    from diagnose.reports.bundle import BundleError, read_bundle, safe_name
    from diagnose.reports.formats import FormatError

    from diagnose import i18n

    try:
        document = read_bundle(bundle)
    except BundleError as exc:
        fail(str(exc))
    written_in: str = document["lang"] if document.get("lang") in i18n.LANGUAGES else i18n.DEFAULT
    if i18n.chosen() is None:
        i18n.set_language(written_in)      # the whole report in the language it was run in
    elif i18n.chosen() != written_in:
        click.echo(i18n.t("diagnose: note: this report was run in {written}: its knowledge base's texts (titles, "
                          "messages, causes) and its solutions' steps stay as the run wrote them; run the symptom "
                          "again with --lang {wanted} to have them in {wanted_name}",
                          written=i18n.NAMES[written_in], wanted=i18n.chosen(),
                          wanted_name=i18n.NAMES[i18n.chosen() or i18n.DEFAULT]), err=True)
    try:
        text = render(document, fmt)
    except FormatError as exc:
        fail(str(exc))
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        detail = (str(exc).strip().splitlines() or [""])[0][:160]
        fail(f"{bundle}: its report cannot be rendered as {fmt} ({type(exc).__name__}: {detail})")
    if output is None:
        click.echo(text, nl=False)
        sys.exit(0)
    from diagnose.cli.run import write_text

    name = safe_name("triage" if document.get("kind") == "triage" else document["symptom"]["id"])
    click.echo(f"Report: {write_text(text, name, fmt, output)}")
    sys.exit(0)
