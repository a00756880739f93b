"""``diagnose docs build`` / ``serve``: mkdocs with the repository's ``mkdocs.yml``, in-process.

The configuration is the same one plain ``mkdocs build`` reads, so the two cannot produce
different sites; this module only finds it, points the hook at another knowledge base when
asked (``$DIAGNOSE_CHECKS``, read by :func:`diagnose.site.generate.load_site_pack`), shows
mkdocs' messages, and turns mkdocs' failures into one-line errors.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path

DEFAULT_CONFIG = "mkdocs.yml"
DEFAULT_ADDR = "127.0.0.1:8000"


class SiteError(Exception):
    """The site cannot be built or served; the message is one line (or a short list)."""


def find_config(config_file: Path | None) -> Path:
    path = Path(config_file) if config_file else Path(DEFAULT_CONFIG)
    if not path.is_file():
        where = f"{path}" if config_file else f"{DEFAULT_CONFIG} in {Path.cwd()}"
        raise SiteError(f"no {where}: run from the repository root (where mkdocs.yml is) or give --config-file")
    return path


def _require_mkdocs() -> None:
    try:
        import material  # noqa: F401
        import mkdocs  # noqa: F401
    except ImportError:
        raise SiteError("the FAQ site needs mkdocs-material: pip install 'diagnose[docs]'") from None


@contextlib.contextmanager
def _environment(checks: Path | None, quiet: bool) -> Iterator[None]:
    """``$DIAGNOSE_CHECKS`` for the hook, mkdocs' log on stderr, both undone afterwards."""
    saved = {k: os.environ.get(k) for k in ("DIAGNOSE_CHECKS", "NO_MKDOCS_2_WARNING")}
    if checks is not None:
        os.environ["DIAGNOSE_CHECKS"] = str(Path(checks).resolve())
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")  # a notice about mkdocs' future, not about this site
    logger = logging.getLogger("mkdocs")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)-7s -  %(message)s"))
    handler.setLevel(logging.WARNING if quiet else logging.INFO)
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _one_line(exc: Exception) -> str:
    """mkdocs' "Aborted with a BuildError!" comes after the real errors it logged: point at them."""
    text = str(exc).strip() or type(exc).__name__
    if text.startswith("Aborted with "):
        return f"the site was not built: {text[len('Aborted with '):].rstrip('!')} (see the messages above)"
    return text


def build_site(config_file: Path | None = None, site_dir: Path | None = None, *, strict: bool = False,
               checks: Path | None = None, quiet: bool = False) -> Path:
    """Build the site into ``site_dir`` (default: mkdocs.yml's, ``site/``); returns that folder."""
    _require_mkdocs()
    config_path = find_config(config_file)
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    with _environment(checks, quiet):
        try:
            overrides = {"site_dir": str(Path(site_dir).resolve())} if site_dir else {}
            config = load_config(config_file=str(config_path), strict=strict, **overrides)
            config.plugins.on_startup(command="build", dirty=False)
            try:
                build(config)
            finally:
                config.plugins.on_shutdown()
        except MkDocsException as exc:
            raise SiteError(_one_line(exc)) from None
    return Path(config.site_dir)


def serve_site(config_file: Path | None = None, dev_addr: str = DEFAULT_ADDR, *, checks: Path | None = None,
               open_browser: bool = False) -> None:
    """Serve the site with live reload until interrupted (knowledge-base edits rebuild it)."""
    _require_mkdocs()
    config_path = find_config(config_file)
    from mkdocs.commands.serve import serve
    from mkdocs.exceptions import MkDocsException

    with _environment(checks, quiet=False):
        try:
            serve(config_file=str(config_path), dev_addr=dev_addr, open_in_browser=open_browser)
        except MkDocsException as exc:
            raise SiteError(_one_line(exc)) from None
