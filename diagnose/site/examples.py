"""Each symptom's "what the report looks like": the real report of its broken example.

At build time every entry's first broken example world is built for real (reference schemas
on a throwaway PostgreSQL, log and env files, small servers on 127.0.0.1, exactly as
``diagnose selftest`` does), the entry runs as ``diagnose SYMPTOM`` would, and the report is
rendered in every format. Nothing is mocked, so a page cannot show a report the tool would
not write.

That costs a PostgreSQL start and a few seconds, so each entry's report is cached in the cache
folder (:func:`diagnose.cache.cache_dir`) under a key made of that entry's file and
translations, its pack's shared files (pack.yaml, schemas, worlds), the language and the source of
the ``diagnose`` package: a rebuild with the same knowledge base and code starts no server, and
editing one entry rebuilds that entry's report alone. When no PostgreSQL can start, every entry gets an :class:`ExampleReport` whose
``problem`` says why; the pages show that instead of a report and the build still succeeds.
Failures are never cached, so the next build tries again.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from diagnose.kb.model import Entry, Example, Pack

CACHE_FORMAT = 2
#: what a report shows instead of the build machine's own host name and temporary folders
EXAMPLE_HOST = "example-host"
EXAMPLE_DIR = "/srv/example"
log = logging.getLogger("mkdocs.plugins.diagnose")


@dataclass
class ExampleReport:
    entry: str
    example: str = ""
    description: str = ""
    verdict: str = ""
    markdown: str = ""
    html: str = ""
    json: str = ""
    #: why there is no report (one line), or "" when there is one
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem


def broken_example(entry: Entry) -> Example | None:
    """The example a page shows: the first one with a problem (else the first one)."""
    return next((x for x in entry.examples if x.verdict == "problem"), entry.examples[0] if entry.examples else None)


#: parts of the package that do not change what a report says (page layout, the command line)
_NOT_IN_REPORTS = ("site", "cli")


def code_digest() -> str:
    """The source that runs checks and renders reports: changing it may change every report."""
    h = hashlib.sha256()
    package = Path(__file__).resolve().parent.parent
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package)
        if rel.parts[0] in _NOT_IN_REPORTS and path != Path(__file__).resolve():
            continue
        h.update(str(rel).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def pack_inputs(root: Path) -> str:
    """A digest of what every report of a pack depends on besides its own entry: pack.yaml and its
    translations (site address, approvers, preconditions), the reference schemas and the worlds its examples
    build on."""
    h = hashlib.sha256()
    for path in sorted([*root.glob("pack*.yaml"), *(root / "schemas").rglob("*"), *(root / "worlds").rglob("*")]):
        if path.is_file():
            h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def cache_key(pack: Pack, entry: Entry, code: str | None = None, shared: dict[Path, str] | None = None) -> str:
    """What ``entry``'s example report is made from: its own file and translations, its pack's shared files,
    the language, and the code. Another entry's edit leaves it as it is, so editing one entry (``docs serve``)
    rebuilds one report, not all. ``code`` and ``shared`` (:func:`code_digest`, :func:`pack_inputs` per pack
    root), when given, are those digests made once for all the entries."""
    from diagnose.i18n import language
    from diagnose.kb.translations import overlay_path

    layer = pack.layer_of(entry)
    h = hashlib.sha256(f"{CACHE_FORMAT}\0{code or code_digest()}\0{pack.lang}\0{language()}\0".encode())
    h.update((shared[layer.root] if shared and layer.root in shared else pack_inputs(layer.root)).encode())
    for path in (entry.path, *(overlay_path(entry.path, lang) for lang in layer.languages)):
        if path.is_file():
            h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:32]


def example_reports(pack: Pack, *, jobs: int = 4, timeout: float = 10.0,
                    use_cache: bool = True) -> dict[str, ExampleReport]:
    """``entry id -> ExampleReport`` for every entry of ``pack``: each from the cache when its inputs are
    unchanged, the others built together on one throwaway PostgreSQL."""
    from diagnose.cache import cache_dir

    code, shared = code_digest(), {layer.root: pack_inputs(layer.root) for layer in pack.packs}
    files = {e.id: cache_dir() / f"site-example-{cache_key(pack, e, code, shared)}.json" for e in pack.entries}
    reports: dict[str, ExampleReport] = {}
    if use_cache:
        for entry_id, path in files.items():
            cached = _read_cache(path)
            if cached is not None and cached.entry == entry_id:
                reports[entry_id] = cached
    missing = [e for e in pack.entries if e.id not in reports]
    if reports:
        log.info("diagnose: %d example report(s) from the cache", len(reports))
    if missing:
        built = build_reports(pack, entries=missing, jobs=jobs, timeout=timeout)
        for entry_id, report in built.items():
            if use_cache and report.ok:
                _write_cache(files[entry_id], report)
        reports.update(built)
    return {e.id: reports[e.id] for e in pack.entries}


def build_reports(pack: Pack, *, entries: list[Entry] | None = None, jobs: int = 4,
                  timeout: float = 10.0) -> dict[str, ExampleReport]:
    """Build the broken example of each of ``entries`` (default: every entry) on one throwaway PostgreSQL
    and render its report."""
    from diagnose.pg.binaries import PostgresUnavailable
    from diagnose.pg.server import PostgresStartError, TempPostgres
    from diagnose.world.build import reference_database

    todo = [(entry, broken_example(entry)) for entry in (pack.entries if entries is None else entries)]
    try:
        with _server(TempPostgres) as pg, tempfile.TemporaryDirectory(prefix="diagnose-site-") as tmp:
            log.info("diagnose: building %d example report(s) on PostgreSQL %s", len(todo), pg.version)
            for name in sorted(pack.reference_schemas):
                reference_database(pg, pack, name)

            def one(i: int) -> ExampleReport:
                entry, example = todo[i]
                if example is None:
                    return ExampleReport(entry.id, problem="the entry has no example")
                return _report(pack, entry, example, pg, Path(tmp) / f"{i:03d}-{entry.id}", timeout)

            with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
                return {r.entry: r for r in pool.map(one, range(len(todo)))}
    except (PostgresUnavailable, PostgresStartError) as exc:
        reason = (str(exc).strip().splitlines() or ["PostgreSQL could not start"])[0]
        log.info("diagnose: no example reports: %s", reason)
        return {entry.id: ExampleReport(entry.id, example.name if example else "",
                                        example.description if example else "",
                                        example.verdict if example else "",
                                        problem=f"no PostgreSQL could start to build the example: {reason}")
                for entry, example in todo}


#: the server that builds example reports while a site is served (``docs serve``): started on the first need and
#: kept until the process exits, so an entry's edit builds its world without starting PostgreSQL (~1 s)
_KEPT: dict[str, Any] = {}


def keep_server(on: bool = True) -> None:
    """From now on, keep the PostgreSQL server of the example reports running between builds (a served site);
    ``on=False`` stops the one kept."""
    if on:
        _KEPT.setdefault("wanted", True)
        return
    server = _KEPT.pop("server", None)
    _KEPT.clear()
    if server is not None:
        server.stop()


@contextlib.contextmanager
def _server(make: Any) -> Iterator[Any]:
    """A throwaway PostgreSQL for one build, or the one kept for the served site's builds."""
    if not _KEPT.get("wanted"):
        with make() as pg:
            yield pg
        return
    pg = _KEPT.get("server")
    if pg is None or pg.process is None or pg.process.poll() is not None:
        pg = _KEPT["server"] = make().start()   # TempPostgres stops it at exit (atexit)
    yield pg


def _report(pack: Pack, entry: Entry, example: Example, pg: Any, workdir: Path, timeout: float) -> ExampleReport:
    """One example's report in every format; a world that cannot be built gives its reason."""
    from diagnose.masking import Masker
    from diagnose.profile import Resolver
    from diagnose.reports import render
    from diagnose.reports.document import build_document
    from diagnose.runner import run_entry
    from diagnose.world.build import World

    report = ExampleReport(entry.id, example.name, example.description, example.verdict)
    try:
        with World(pack, example, pg, workdir) as world:
            resolver = Resolver(world.profile)
            run = run_entry(entry, pack, resolver, world.profile.view(), default_timeout=timeout)
            run.host = EXAMPLE_HOST
            masker = Masker(patterns=world.profile.mask)
            resolver.register_secrets(masker)
            document = build_document(run, masker)
    except Exception as exc:  # a broken example is shown as such on its page, never a failed build
        first = (str(exc).strip().splitlines() or [""])[0]
        report.problem = f"the example world could not be built: {type(exc).__name__}: {first}"
        return report
    document = _replace_strings(document, {str(workdir): EXAMPLE_DIR, str(pack.root): pack.root.name})
    report.markdown = render(document, "md")
    report.html = render(document, "html")
    report.json = render(document, "json")
    return report


def _replace_strings(value: Any, replacements: dict[str, str]) -> Any:
    """``value`` with every string's temporary paths replaced (lists and dicts walked)."""
    if isinstance(value, str):
        for old, new in replacements.items():
            value = value.replace(old, new)
        return value
    if isinstance(value, list):
        return [_replace_strings(v, replacements) for v in value]
    if isinstance(value, dict):
        return {k: _replace_strings(v, replacements) for k, v in value.items()}
    return value


def _read_cache(path: Path) -> ExampleReport | None:
    from diagnose.cache import read_cache_file

    data = read_cache_file(path)   # a report someone else could have written would be published as is: not read
    if not isinstance(data, dict) or data.get("format") != CACHE_FORMAT:
        return None
    try:
        return ExampleReport(**data["report"])
    except (KeyError, TypeError):
        return None


def _write_cache(path: Path, report: ExampleReport) -> None:
    from diagnose.cache import write_cache_file

    write_cache_file(path, {"format": CACHE_FORMAT, "report": asdict(report)})
