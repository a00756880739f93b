"""``diagnose docs build`` / ``serve``: mkdocs, in-process, with a ``mkdocs.yml`` or without one.

With a configuration (``--config-file``, else ``./mkdocs.yml``) the site is the one plain
``mkdocs build`` gives: its ``diagnose`` plugin (:mod:`diagnose.site.plugin`) adds the pages of the
packs; ``--checks`` / ``--no-builtin`` reach it as ``$DIAGNOSE_CHECKS`` / ``$DIAGNOSE_NO_BUILTIN``.
Without one, a whole configuration is written to a temporary folder (mkdocs-material, search, tags,
the plugin with the packs chosen; the docs folder is the pack's own ``docs/`` when it has one, else
empty), so ``pip install 'diagnose[docs]'`` and ``diagnose docs build --checks PACK -o DIR`` make a
site of any pack. This module also shows mkdocs' messages and turns its failures into one-line
errors: exit 2 for a usage, configuration or knowledge-base error, 1 for a build that failed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from diagnose.kb.loader import PackChoice

DEFAULT_CONFIG = "mkdocs.yml"
DEFAULT_ADDR = "127.0.0.1:8000"
EXIT_BUILD_FAILED = 1
EXIT_USAGE = 2


class SiteError(Exception):
    """The site cannot be built or served; the message is one line (or a short list), ``code`` the exit code."""

    def __init__(self, message: str, code: int = EXIT_BUILD_FAILED) -> None:
        super().__init__(message)
        self.code = code


def find_config(config_file: Path | None) -> Path | None:
    """The configuration to use: ``config_file`` (which must exist), else ./mkdocs.yml, else None (generate one)."""
    if config_file is not None:
        path = Path(config_file)
        if not path.is_file():
            raise SiteError(f"--config-file {path}: no such file", EXIT_USAGE)
        return path
    return Path(DEFAULT_CONFIG) if Path(DEFAULT_CONFIG).is_file() else None


def _require_mkdocs() -> None:
    try:
        import material  # noqa: F401
        import mkdocs  # noqa: F401
    except ImportError:
        raise SiteError("the FAQ site needs mkdocs-material: pip install 'diagnose[docs]'", EXIT_USAGE) from None


def _load_packs(checks: PackChoice | None) -> Any:
    """The packs of a generated configuration, loaded first so a broken one is exit 2 with every problem."""
    from diagnose.kb.loader import KnowledgeBaseError, load_packs

    choice_paths = tuple(checks.paths) if checks is not None else ()
    try:
        return load_packs(choice_paths, builtin=checks.builtin if checks is not None else True)
    except KnowledgeBaseError as exc:
        raise SiteError(_problems_text(exc.problems), EXIT_USAGE) from None


def _problems_text(problems: list[Any]) -> str:
    return "\n".join([f"the knowledge base has {len(problems)} problem(s):", *(f"  {p}" for p in problems),
                      "run `diagnose lint` for details after fixing these"])


@contextlib.contextmanager
def _configuration(config_file: Path | None, checks: PackChoice | None, site_dir: Path | None) -> Iterator[Path]:
    """The path of the mkdocs configuration to use; a generated one lives until the block ends."""
    found = find_config(config_file)
    if found is not None:
        yield found
        return
    import yaml

    from diagnose.site.siteconfig import home_pack, mkdocs_config

    pack = _load_packs(checks)
    own_docs = home_pack(pack).root / "docs"
    with tempfile.TemporaryDirectory(prefix="diagnose-site-") as tmp:
        docs = own_docs if own_docs.is_dir() else Path(tmp) / "docs"
        docs.mkdir(exist_ok=True)
        config = mkdocs_config(pack, checks=[Path(p).resolve() for p in (checks.paths if checks else ())],
                               builtin=checks.builtin if checks is not None else True, docs_dir=docs.resolve(),
                               site_dir=Path(site_dir or "site").resolve())
        path = Path(tmp) / DEFAULT_CONFIG
        path.write_text("# written by `diagnose docs build` (no mkdocs.yml in this folder)\n"
                        + yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
        logging.getLogger("mkdocs").info("diagnose: no %s here: a generated configuration (%s, docs: %s)",
                                         DEFAULT_CONFIG, pack.name, docs)
        yield path


@contextlib.contextmanager
def _environment(checks: PackChoice | None, quiet: bool) -> Iterator[None]:
    """``$DIAGNOSE_CHECKS`` / ``$DIAGNOSE_NO_BUILTIN`` for the plugin, mkdocs' log on stderr, all undone afterwards."""
    saved = {k: os.environ.get(k) for k in ("DIAGNOSE_CHECKS", "DIAGNOSE_NO_BUILTIN", "NO_MKDOCS_2_WARNING")}
    if checks is not None:
        os.environ["DIAGNOSE_CHECKS"] = os.pathsep.join(str(Path(p).resolve()) for p in checks.paths)
        if checks.builtin:
            os.environ.pop("DIAGNOSE_NO_BUILTIN", None)
        else:
            os.environ["DIAGNOSE_NO_BUILTIN"] = "1"
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


def _kb_problems(config: Any) -> list[Any]:
    """The knowledge-base problems the diagnose plugin stopped the build on (none: another failure)."""
    plugin = config.plugins.get("diagnose") if config is not None else None
    return list(getattr(plugin, "problems", None) or [])


def build_site(config_file: Path | None = None, site_dir: Path | None = None, *, strict: bool = False,
               checks: PackChoice | None = None, quiet: bool = False) -> Path:
    """Build the site into ``site_dir`` (default: the configuration's ``site_dir``, ./site); returns that folder."""
    _require_mkdocs()
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    with _environment(checks, quiet), _configuration(config_file, checks, site_dir) as config_path:
        overrides = {"site_dir": str(Path(site_dir).resolve())} if site_dir else {}
        try:
            config = load_config(config_file=str(config_path), strict=strict, **overrides)
        except MkDocsException as exc:
            raise SiteError(f"{config_path}: {_one_line(exc)}", EXIT_USAGE) from None
        try:
            config.plugins.on_startup(command="build", dirty=False)
            try:
                build(config)
            finally:
                config.plugins.on_shutdown()
        except MkDocsException as exc:
            problems = _kb_problems(config)
            if problems:   # mkdocs has printed them, one a line
                raise SiteError(f"the site was not built: the knowledge base has {len(problems)} problem(s) "
                                "(listed above; `diagnose lint` checks a pack)", EXIT_USAGE) from None
            raise SiteError(_one_line(exc)) from None
    return Path(config.site_dir)


def serve_site(config_file: Path | None = None, dev_addr: str = DEFAULT_ADDR, *, checks: PackChoice | None = None,
               open_browser: bool = False) -> None:
    """Serve the site with live reload until interrupted (knowledge-base edits rebuild it)."""
    _require_mkdocs()
    from mkdocs.commands.serve import serve
    from mkdocs.exceptions import MkDocsException

    with _environment(checks, quiet=False), _configuration(config_file, checks, None) as config_path:
        try:
            serve(config_file=str(config_path), dev_addr=dev_addr, open_in_browser=open_browser)
        except MkDocsException as exc:
            raise SiteError(_one_line(exc)) from None
