"""``diagnose docs build`` / ``serve`` / ``show``: the FAQ site, generated from the knowledge base, and its
reference pages in the terminal.

mkdocs is imported only when a site is built or served (it is heavy and an optional dependency:
``pip install 'diagnose[docs]'``); ``show`` needs none of it.
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from diagnose.cli.options import PackChoice, checks_option, fail, load_pack_or_exit

_config_option = click.option("--config-file", "-f", type=click.Path(path_type=Path),
                              help="mkdocs configuration (default: ./mkdocs.yml; without one, a configuration "
                                   "is generated for the packs chosen).")


@click.group()
def docs() -> None:
    """Build or serve the FAQ site: one page per symptom, generated from the same YAML.

    Uses ./mkdocs.yml when there is one (its `diagnose` plugin adds the pages, so `mkdocs build`
    and `mkdocs serve` give the same site); without one, it generates a configuration for the
    packs of --checks (mkdocs-material, search, tags; the pack's own docs/ folder, if any, for
    hand-written pages). Each symptom's example report is produced on a throwaway PostgreSQL
    during the build and cached; without PostgreSQL the site still builds and says so on each
    page. `diagnose docs show` prints the format reference in the terminal, offline.
    """


@docs.command("build")
@click.option("--output", "-o", "output", type=click.Path(path_type=Path), metavar="DIR",
              help="Folder to write the site to (default: mkdocs.yml's site_dir, ./site).")
@click.option("--site-dir", "-d", "site_dir", type=click.Path(path_type=Path), hidden=True)
@click.option("--strict", is_flag=True, help="Fail on any warning: a broken link, an unknown anchor, a missing page.")
@click.option("--quiet", "-q", is_flag=True, help="Print warnings and errors only.")
@_config_option
@checks_option
def build(output: Path | None, site_dir: Path | None, strict: bool, quiet: bool, config_file: Path | None,
          checks: PackChoice) -> None:
    """Build the FAQ site into a folder of static HTML (works offline, no outside requests).

    Exit codes: 0 built, 1 the build failed (with --strict: a warning), 2 usage, configuration or
    knowledge-base error.
    """
    from diagnose.site.build import SiteError, build_site

    if output and site_dir and output != site_dir:
        fail(f"--output {output} and --site-dir {site_dir}: give one")
    started = time.monotonic()
    try:
        target = build_site(config_file, output or site_dir, strict=strict, checks=checks, quiet=quiet)
    except SiteError as exc:
        fail(str(exc), exc.code)
    if not quiet:
        click.echo(f"diagnose docs: site built in {time.monotonic() - started:.1f}s: {target}/index.html")


@docs.command("serve")
@click.option("--dev-addr", "-a", "addr", default="127.0.0.1:8000", show_default=True, metavar="IP:PORT",
              help="Address to serve on (reports link to the site_url of pack.yaml).")
@click.option("--open", "open_browser", is_flag=True, help="Open the site in a browser.")
@_config_option
@checks_option
def serve(addr: str, open_browser: bool, config_file: Path | None, checks: PackChoice) -> None:
    """Serve the FAQ site with live reload; editing an entry refreshes its page."""
    from diagnose.site.build import SiteError, serve_site

    try:
        serve_site(config_file, addr, checks=checks, open_browser=open_browser)
    except SiteError as exc:
        fail(str(exc), exc.code)


@docs.command("show")
@click.argument("page", required=False, metavar="[PAGE]")
@checks_option
def show(page: str | None, checks: PackChoice) -> None:
    """Print a reference page of the site as Markdown (offline); without PAGE, list them.

    The pages are generated from the code and schemas they describe, exactly as on the site:
    e.g. `diagnose docs show entry-format | less`, `diagnose docs show check-kinds`.
    """
    from diagnose.site.reference_text import PAGES, page_markdown

    if page is None:
        width = max(map(len, PAGES))
        for name, (_, about) in PAGES.items():
            click.echo(f"{name:<{width}}  {about}")
        return
    name = page.removeprefix("reference/").removesuffix(".md")
    if name not in PAGES:
        fail(f"no reference page '{page}' (one of: {', '.join(PAGES)})")
    pack = load_pack_or_exit(checks, ad_hoc=True) if PAGES[name][0] else None
    try:
        click.echo(page_markdown(name, pack))
    except ValueError as exc:
        fail(str(exc))
