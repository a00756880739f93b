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

    try:
        document = read_bundle(bundle)
    except BundleError as exc:
        fail(str(exc))
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
