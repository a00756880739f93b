"""mkdocs hook: the FAQ site's generated pages, added to every build (``hooks:`` in mkdocs.yml).

So plain ``mkdocs build`` / ``mkdocs serve`` work as well as ``diagnose docs build`` / ``serve``:

* ``on_config`` loads the knowledge base (``$DIAGNOSE_CHECKS`` or the built-in pack; a broken
  one stops the build with every problem listed), takes ``site_url`` from ``pack.yaml`` so the
  links reports print resolve on this site (``serve`` keeps its own address), and puts the
  symptom pages into the navigation;
* ``on_files`` adds the generated pages and the example report files as virtual files (never
  written into ``docs/``), building the example reports first (cached; see
  :mod:`diagnose.site.examples`);
* ``on_serve`` also watches the knowledge base, so editing an entry refreshes its page.

mkdocs loads this file by path, so it makes sure the ``diagnose`` package it sits in is
importable even when mkdocs runs from an environment where it is not installed.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

try:
    import diagnose  # noqa: F401
except ImportError:  # pragma: no cover - mkdocs run from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

log = logging.getLogger("mkdocs.plugins.diagnose")
_state: dict[str, Any] = {}


def on_startup(command: str, dirty: bool) -> None:
    _state["command"] = command


def on_config(config: Any) -> Any:
    from diagnose.kb.loader import KnowledgeBaseError
    from diagnose.site.generate import expand_nav, load_site_pack

    try:
        pack = load_site_pack()
    except KnowledgeBaseError as exc:
        problems = "\n".join(f"  {p}" for p in exc.problems)
        raise PluginError(f"the knowledge base has {len(exc.problems)} problem(s) "
                          f"(run `diagnose lint`):\n{problems}") from None
    _state["pack"] = pack
    wanted = pack.site_url.rstrip("/") + "/" if pack.site_url else None
    if wanted and _state.get("command") != "serve" and (config.site_url or "").rstrip("/") + "/" != wanted:
        log.info("diagnose: site_url %s from %s/pack.yaml (reports link there)", wanted, pack.root)
        config.site_url = wanted
    config.nav = expand_nav(config.nav, pack)
    return config


def on_files(files: Files, config: Any) -> Files:
    from diagnose.site.examples import example_reports
    from diagnose.site.generate import site_files

    pack = _state.get("pack")
    if pack is None:  # pragma: no cover - on_config always runs first
        raise PluginError("diagnose hook: the knowledge base was not loaded")
    reports = example_reports(pack)
    try:
        generated = site_files(pack, reports)
    except ValueError as exc:
        raise PluginError(f"diagnose: {exc}") from None
    for src_uri, content in generated.items():
        if files.get_file_from_path(src_uri) is not None:
            raise PluginError(f"docs/{src_uri} is generated from the knowledge base: remove the hand-written file")
        files.append(File.generated(config, src_uri, content=content))
    log.info("diagnose: %d generated file(s) from %s %s", len(generated), pack.name, pack.version)
    return files


def on_serve(server: Any, config: Any, builder: Any) -> Any:
    pack = _state.get("pack")
    if pack is not None:
        server.watch(str(pack.root))
    server.watch(str(Path(__file__).resolve().parent))
    return server
