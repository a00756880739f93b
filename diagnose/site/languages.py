"""The FAQ site in each language of its pack: English at ``/``, each other language at ``/<lang>/``.

One configuration gives both sites: the ``diagnose`` plugin builds the English site, then (after it) the
same configuration again for each other language the pack declares, with the pack's texts, the generated
pages' sentences and Material's own labels in that language, into ``<site_dir>/<lang>/``. The language
switcher of every page (Material's ``extra.alternate``) is pointed, page by page, at the same page in the
other language, so switching never drops the reader on a home page.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

from diagnose.i18n import DEFAULT, LANGUAGES, NAMES
from diagnose.kb.translations import FENCE

log = logging.getLogger("mkdocs.plugins.diagnose")

#: Chinese characters and the full-width punctuation written between them
_CJK = "\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef"
_SOFT_BREAK = re.compile(rf"(?<=[{_CJK}])[ \t]*\n[ \t]*(?=[{_CJK}])")
#: the fonts Chinese readers' systems have, tried before the theme's own (no font is downloaded)
CJK_FONTS = ('"PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", '
             '"WenQuanYi Micro Hei"')
CJK_CSS = "assets/diagnose-cjk.css"


def site_root(lang: str) -> str:
    """Where a language's site lives, relative to the English one."""
    return "" if lang == DEFAULT else f"{lang}/"


def alternates_for(languages: tuple[str, ...]) -> list[dict[str, str]]:
    """Material's ``extra.alternate``: one entry per language (links set per page)."""
    return [{"name": NAMES.get(lang, lang), "link": site_root(lang) or "./", "lang": lang} for lang in languages]


def point_alternates_at(alternates: list[dict[str, Any]], page_url: str, lang: str, site_url: str | None) -> None:
    """Each switcher entry made to lead to ``page_url`` (a page of the ``lang`` site, whose address is
    ``site_url``) in its own language: ``href`` relative to the page (what the switcher uses: it works
    wherever the site is served, and from disk), ``link`` an absolute path when the site's address is known
    (the page head's ``<link rel="alternate">``, and the 404 page, which is served at any address)."""
    from urllib.parse import urlsplit

    base = urlsplit(site_url).path if site_url else ""
    if base and lang != DEFAULT and base.endswith(f"/{site_root(lang)}"):
        base = base[: -len(site_root(lang))]
    to_english_root = "../" * (page_url.count("/") + site_root(lang).count("/"))
    for alternate in alternates:
        if alternate.get("lang") in LANGUAGES:
            target = site_root(alternate["lang"]) + page_url
            alternate["href"] = (to_english_root + target) or "./"
            alternate["link"] = (base.rstrip("/") + "/" + target) if base else (target or "./")


def use_switcher(config: Any) -> None:
    """Put the plugin's switcher partial (page-relative links) in front of Material's own, behind a
    site's ``custom_dir`` (whose own partial, if any, still wins)."""
    overrides = str(Path(__file__).with_name("overrides"))
    dirs = config.theme.dirs
    if overrides not in dirs:
        dirs.insert(1 if config.theme.custom_dir else 0, overrides)


def translated_pages(files: Files, config: Any, lang: str) -> Files:
    """The hand-written pages of a build in ``lang``: ``X.<lang>.md`` takes the place of ``X.md``; pages
    written for another language are left out (the English ``X.md`` stays where there is no translation)."""
    for file in list(files):
        stem, dot, suffix = file.src_uri.rpartition(".")
        written_in = Path(stem).suffix[1:] if dot and suffix == "md" else ""
        if written_in not in LANGUAGES:
            continue
        files.remove(file)
        if written_in == lang:
            source = f"{Path(stem).with_suffix('').as_posix()}.md"
            english = files.get_file_from_path(source)
            if english is not None:
                files.remove(english)
            files.append(File.generated(config, source, content=file.content_string))
    return files


def join_cjk_lines(markdown: str) -> str:
    """A Chinese paragraph wrapped over several lines, joined: browsers show a line break between two Chinese
    characters as a space, which Chinese does not have. Code blocks are left as they are."""
    out, last = [], 0
    for block in FENCE.finditer(markdown):
        out.append(_SOFT_BREAK.sub("", markdown[last:block.start()]))
        out.append(block.group(0))
        last = block.end()
    out.append(_SOFT_BREAK.sub("", markdown[last:]))
    return "".join(out)


def cjk_css() -> str:
    """The Chinese site's stylesheet: Chinese fonts first in Material's own font variable."""
    return ("/* diagnose: Chinese text in the fonts readers' systems have (no font is downloaded) */\n"
            f":root {{ --md-text-font: {CJK_FONTS}; }}\n")


def build_language(config: Any, lang: str, command: str) -> None:
    """Build the site of ``config`` again in ``lang`` into ``<site_dir>/<lang>/`` (its ``site_url`` below the
    English one's)."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    site_dir = Path(config.site_dir) / lang
    overrides: dict[str, Any] = {"site_dir": str(site_dir)}
    if config.site_url:
        overrides["site_url"] = config.site_url.rstrip("/") + f"/{lang}/"
    if config.get("dev_addr") is not None and command == "serve":
        overrides["dev_addr"] = str(config.dev_addr)
    other = load_config(config_file=config.config_file_path, strict=config.strict, **overrides)
    other.theme["language"] = lang
    plugin = other.plugins.get("diagnose")
    if plugin is None:   # pragma: no cover - this build is the diagnose plugin's own
        return
    plugin.config.lang = lang
    plugin.config.alternates = False
    log.info("diagnose: the %s site (%s)", NAMES.get(lang, lang), site_dir)
    other.plugins.on_startup(command="serve" if command == "serve" else "build", dirty=False)
    try:
        build(other)
    finally:
        other.plugins.on_shutdown()
