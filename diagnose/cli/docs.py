"""``diagnose docs build`` / ``diagnose docs serve``: the FAQ site, generated from the knowledge base.

mkdocs is imported only when one of these runs (it is heavy and an optional dependency:
``pip install 'diagnose[docs]'``).
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from diagnose.cli.options import checks_option, fail

EXIT_BUILD_FAILED = 1

_config_option = click.option("--config-file", "-f", type=click.Path(path_type=Path),
                              help="mkdocs configuration (default: ./mkdocs.yml).")


@click.group()
def docs() -> None:
    """Build or serve the FAQ site: one page per symptom, generated from the same YAML.

    Uses the mkdocs.yml of the repository root, so `mkdocs build` and `mkdocs serve` give the
    same site. Each symptom's example report is produced on a throwaway PostgreSQL during the
    build and cached; without PostgreSQL the site still builds and says so on each page.
    """


@docs.command("build")
@click.option("--site-dir", "-d", type=click.Path(path_type=Path),
              help="Folder to write the site to (default: mkdocs.yml's site_dir, ./site).")
@click.option("--strict", is_flag=True, help="Fail on any warning: a broken link, an unknown anchor, a missing page.")
@click.option("--quiet", "-q", is_flag=True, help="Print warnings and errors only.")
@_config_option
@checks_option
def build(site_dir: Path | None, strict: bool, quiet: bool, config_file: Path | None, checks_path: Path | None) -> None:
    """Build the FAQ site into a folder of static HTML (works offline, no outside requests)."""
    from diagnose.site.build import SiteError, build_site

    started = time.monotonic()
    try:
        target = build_site(config_file, site_dir, strict=strict, checks=checks_path, quiet=quiet)
    except SiteError as exc:
        fail(str(exc), EXIT_BUILD_FAILED)
    if not quiet:
        click.echo(f"diagnose docs: site built in {time.monotonic() - started:.1f}s: {target}/index.html")


@docs.command("serve")
@click.option("--dev-addr", "-a", "addr", default="127.0.0.1:8000", show_default=True, metavar="IP:PORT",
              help="Address to serve on (reports link to the site_url of pack.yaml).")
@click.option("--open", "open_browser", is_flag=True, help="Open the site in a browser.")
@_config_option
@checks_option
def serve(addr: str, open_browser: bool, config_file: Path | None, checks_path: Path | None) -> None:
    """Serve the FAQ site with live reload; editing an entry refreshes its page."""
    from diagnose.site.build import SiteError, serve_site

    try:
        serve_site(config_file, addr, checks=checks_path, open_browser=open_browser)
    except SiteError as exc:
        fail(str(exc), EXIT_BUILD_FAILED)
