"""The ``diagnose`` mkdocs plugin: a FAQ site of any knowledge pack, from any ``mkdocs.yml``.

Installed with the package (entry point ``mkdocs.plugins: diagnose``), so a site needs no path
into site-packages::

    site_name: Our FAQ
    theme: material
    plugins:
      - search
      - diagnose:
          checks: [checks]      # pack folders, relative to this file (default: none)
          builtin: false        # leave the built-in pack out (default: true)

Plain ``mkdocs build`` / ``serve`` and ``diagnose docs build`` / ``serve`` give the same site.
``$DIAGNOSE_CHECKS`` adds packs and ``$DIAGNOSE_NO_BUILTIN`` leaves the built-in pack out (what
``diagnose docs build --checks`` / ``--no-builtin`` set).

* ``on_config`` loads the packs (a broken one stops the build with every problem listed), takes
  ``site_url`` from ``pack.yaml`` so the links reports print resolve on this site (``serve``
  keeps its own address), and adds the Markdown extensions the generated pages are written for
  that the configuration lacks;
* ``on_files`` adds the generated pages and the example report files as virtual files (never
  written into the docs folder), building the example reports first (cached; see
  :mod:`diagnose.site.examples`); the hand-written reference pages shipped with the package
  (a docs page of the same path replaces one); a home page from the pack's title and
  description when the docs have no ``index.md``, a tags page when the tags plugin is on and
  there is none; and the navigation: the configured one with every symptom page put under its
  category, or a whole one when the configuration has none;
* ``on_serve`` also watches the packs, so editing an entry refreshes its page.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mkdocs.config import base
from mkdocs.config import config_options as c
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import File, Files

if TYPE_CHECKING:
    from diagnose.kb.model import Pack

log = logging.getLogger("mkdocs.plugins.diagnose")


class DiagnoseConfig(base.Config):
    checks = c.ListOfItems(c.Type(str), default=[])
    """Knowledge-pack folders, relative to mkdocs.yml, layered after the built-in pack."""
    builtin = c.Type(bool, default=True)
    """Include the built-in pack."""


class DiagnosePlugin(BasePlugin[DiagnoseConfig]):
    def __init__(self) -> None:
        self.command = "build"
        self.pack: Pack | None = None
        #: the knowledge-base problems that stopped the last build (``diagnose docs build`` exits 2 on them)
        self.problems: list[Any] = []

    def on_startup(self, *, command: str, dirty: bool) -> None:
        self.command = command

    def roots(self, config: Any) -> list[Path]:
        base_dir = Path(config.config_file_path).parent if config.config_file_path else Path.cwd()
        return [(base_dir / p) for p in self.config.checks]

    def on_config(self, config: Any) -> Any:
        from diagnose.kb.loader import KnowledgeBaseError
        from diagnose.site.generate import load_site_pack
        from diagnose.site.siteconfig import add_markdown_extensions

        self.problems = []
        try:
            pack = load_site_pack(self.roots(config), builtin=self.config.builtin)
        except KnowledgeBaseError as exc:
            self.problems = list(exc.problems)
            problems = "\n".join(f"  {p}" for p in exc.problems)
            raise PluginError(f"the knowledge base has {len(exc.problems)} problem(s) "
                              f"(run `diagnose lint`):\n{problems}") from None
        self.pack = pack
        wanted = pack.site_url.rstrip("/") + "/" if pack.site_url else None
        if wanted and self.command != "serve" and (config.site_url or "").rstrip("/") + "/" != wanted:
            log.info("diagnose: site_url %s from %s/pack.yaml (reports link there)", wanted, pack.root)
            config.site_url = wanted
        added = add_markdown_extensions(config)
        if added:
            log.info("diagnose: Markdown extensions added for the generated pages: %s", ", ".join(added))
        return config

    def on_files(self, files: Files, *, config: Any) -> Files:
        from diagnose.site.examples import example_reports
        from diagnose.site.generate import expand_nav, site_files
        from diagnose.site.siteconfig import (
            HOME_PAGE,
            TAGS_PAGE,
            default_nav,
            home_page,
            shipped_pages,
            tags_page,
        )

        pack = self.pack
        if pack is None:  # pragma: no cover - on_config always runs first
            raise PluginError("diagnose plugin: the knowledge base was not loaded")
        hand_written = [f.src_uri for f in files.documentation_pages()]
        reports = example_reports(pack)
        try:
            generated = site_files(pack, reports)
            shipped = shipped_pages()
        except ValueError as exc:
            raise PluginError(f"diagnose: {exc}") from None
        for src_uri, content in generated.items():
            if files.get_file_from_path(src_uri) is not None:
                raise PluginError(f"{config.docs_dir}/{src_uri} is generated from the knowledge base: "
                                  "remove the hand-written file")
            files.append(File.generated(config, src_uri, content=content))
        extra = dict(shipped)
        extra[HOME_PAGE] = home_page(pack)
        tags = any(name == "tags" or name.endswith("/tags") for name in config.plugins)
        if tags:
            extra[TAGS_PAGE] = tags_page()
        for src_uri, content in extra.items():
            if files.get_file_from_path(src_uri) is None:   # a page of the docs folder takes its place
                files.append(File.generated(config, src_uri, content=content))
        config.nav = expand_nav(config.nav, pack) if config.nav else default_nav(pack, hand_written, tags=tags)
        log.info("diagnose: %d generated file(s) from %s %s", len(generated), pack.name, pack.version)
        return files

    def on_serve(self, server: Any, *, config: Any, builder: Any) -> Any:
        if self.pack is not None:
            for layer in self.pack.packs:
                server.watch(str(layer.root))
        return server
