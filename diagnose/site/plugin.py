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
* ``on_env`` lets Material's search plugin skip the pages it read before, unchanged
  (:mod:`diagnose.site.search_memo`); under ``serve``, a page whose Markdown did not change is not
  converted again either (:mod:`diagnose.site.render_memo`);
* ``on_serve`` also watches the packs, so editing an entry refreshes its page.

**Languages.** A pack that declares ``languages: [en, zh]`` gets its site in each: English at ``/``, Chinese
at ``/zh/`` (``on_post_build`` builds it with the same configuration, the pack's texts in Chinese, the theme
in Chinese, into ``<site_dir>/zh``). Every page's language switcher (Material's ``extra.alternate``, set per
page) lands on the same page in the other language. A hand-written page ``docs/X.zh.md`` is the Chinese of
``docs/X.md`` (an English page without one stays English in the Chinese site). Chinese search works because
Material's search plugin segments the pages with jieba at build time and the search separator includes the
zero-width space it puts between words.
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
    lang = c.Choice(["en", "zh"], default="en")
    """The language of this build (the site of the other languages is built under /<lang>/)."""
    alternates = c.Type(bool, default=True)
    """Also build the site in the pack's other languages (``languages:`` of pack.yaml), each under /<lang>/."""


class DiagnosePlugin(BasePlugin[DiagnoseConfig]):
    def __init__(self) -> None:
        self.command = "build"
        self.pack: Pack | None = None
        #: the other languages this build makes a site in, after its own (``/<lang>/``)
        self.others: list[str] = []
        self.previous_language: str | None = None
        #: this build's language switcher is the plugin's (a site's own ``extra.alternate`` is left as written)
        self.switcher = False
        #: the knowledge-base problems that stopped the last build (``diagnose docs build`` exits 2 on them)
        self.problems: list[Any] = []
        #: what Material's search plugin read of each page, kept for the next build (:mod:`diagnose.site.search_memo`)
        self.search_memo: Any = None
        #: under ``serve``, the last build's pages (kept from the build before, converted)
        self.rendered: tuple[int, int] = (0, 0)

    def on_startup(self, *, command: str, dirty: bool) -> None:
        self.command = command
        if command == "serve":   # rebuilds convert only the pages that changed (never a published build)
            from diagnose.kb import lint
            from diagnose.site import examples, render_memo

            render_memo.install()
            examples.keep_server()   # and build an edited entry's example without starting PostgreSQL
            lint.remember()          # and validate only the edited entries again

    def roots(self, config: Any) -> list[Path]:
        base_dir = Path(config.config_file_path).parent if config.config_file_path else Path.cwd()
        return [(base_dir / p) for p in self.config.checks]

    def on_config(self, config: Any) -> Any:
        from diagnose import i18n
        from diagnose.kb.loader import KnowledgeBaseError
        from diagnose.site.generate import load_site_pack
        from diagnose.site.languages import CJK_CSS, alternates_for, point_alternates_at, site_root, use_switcher
        from diagnose.site.siteconfig import add_markdown_extensions, home_pack

        self.problems = []
        logging.getLogger("jieba").setLevel(logging.WARNING)   # its "Building prefix dict" is not news
        self.previous_language = i18n.chosen()
        i18n.set_language(self.config.lang)          # the generated pages' own sentences (restored after)
        try:
            pack = load_site_pack(self.roots(config), builtin=self.config.builtin, lang=self.config.lang)
        except KnowledgeBaseError as exc:
            self.problems = list(exc.problems)
            problems = "\n".join(f"  {p}" for p in exc.problems)
            raise PluginError(f"the knowledge base has {len(exc.problems)} problem(s) "
                              f"(run `diagnose lint`):\n{problems}") from None
        self.pack = pack
        wanted = pack.site_url.rstrip("/") + "/" + site_root(self.config.lang) if pack.site_url else None
        if wanted and self.command != "serve" and (config.site_url or "").rstrip("/") + "/" != wanted:
            log.info("diagnose: site_url %s from %s/pack.yaml (reports link there)", wanted, pack.root)
            config.site_url = wanted
        languages = home_pack(pack).languages
        self.others = [x for x in languages if x != self.config.lang] \
            if self.config.lang == "en" and self.config.alternates else []
        self.switcher = len(languages) > 1 and not config.extra.get("alternate")
        if self.switcher:
            config.extra["alternate"] = alternates_for(languages)
            # until a page points them at itself: each language's home (the 404 page is built first)
            point_alternates_at(config.extra["alternate"], "", self.config.lang, config.site_url)
            use_switcher(config)
        if self.config.lang == "zh" and CJK_CSS not in config.extra_css:
            config.extra_css.append(CJK_CSS)
        added = add_markdown_extensions(config)
        if added:
            log.info("diagnose: Markdown extensions added for the generated pages: %s", ", ".join(added))
        return config

    def on_files(self, files: Files, *, config: Any) -> Files:
        from diagnose.site.examples import example_reports
        from diagnose.site.generate import expand_nav, site_files
        from diagnose.site.languages import CJK_CSS, cjk_css, translated_pages
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
        files = translated_pages(files, config, self.config.lang)
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
        if self.config.lang == "zh":
            files.append(File.generated(config, CJK_CSS, content=cjk_css()))
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

    def on_env(self, env: Any, *, config: Any, files: Files) -> Any:
        from diagnose.site.search_memo import attach

        self.search_memo = attach(config)
        if self.command == "serve" and getattr(env, "bytecode_cache", None) is None:
            from diagnose.site.render_memo import template_cache

            env.bytecode_cache = template_cache()
        return env

    def on_page_markdown(self, markdown: str, *, page: Any, config: Any, files: Files) -> str:
        from diagnose.site.languages import join_cjk_lines

        return join_cjk_lines(markdown) if self.config.lang == "zh" else markdown

    def on_page_context(self, context: Any, *, page: Any, config: Any, nav: Any) -> Any:
        from diagnose.site.languages import point_alternates_at

        if self.switcher:
            point_alternates_at(config.extra["alternate"], page.url, self.config.lang, config.site_url)
        return context

    def on_post_build(self, *, config: Any) -> None:
        from diagnose import i18n
        from diagnose.site.languages import build_language

        i18n.set_language(self.previous_language)
        if self.search_memo is not None:
            self.search_memo.save()
        if self.command == "serve":
            from diagnose.site import render_memo

            self.rendered = kept, converted = render_memo.counts()
            if kept:
                log.info("diagnose: %d page(s) unchanged, not converted again (%d converted)", kept, converted)
        for lang in self.others:
            build_language(config, lang, self.command)

    def on_build_error(self, *, error: Exception) -> None:
        from diagnose import i18n

        i18n.set_language(self.previous_language)

    def on_serve(self, server: Any, *, config: Any, builder: Any) -> Any:
        if self.pack is not None:
            for layer in self.pack.packs:
                server.watch(str(layer.root))
        return server
