"""Support bundles: one ``.tar.gz`` holding a run's report in every format, for a ticket.

A bundle has the report in every format of :mod:`diagnose.reports.formats` (``report.json``,
the document :func:`read_bundle` reads back, then ``report.md``, ``report.html`` and any installed
plugin's ``report.<extension>``), the evidence of every check as files a support engineer can
open or load (``evidence/<check>.log`` for log lines, ``.csv`` for SQL rows, ``.json`` for probed
values, ``.txt`` for free text; triage bundles use ``evidence/<symptom>/<check>.<ext>``),
``profile.yaml`` and ``manifest.json`` (each member's size and sha256, plus version, time,
symptom, verdict, exit code).

Everything is derived from the *masked* report document, never from raw results, so a bundle
cannot hold a secret the report does not. Bundles are reproducible: the same document gives
the same bytes (fixed member order, times, owners, gzip header). :func:`read_bundle` treats a
bundle as untrusted input: it refuses unsafe members, caps sizes and verifies every checksum.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import os
import re
import tarfile
import zlib
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from diagnose.reports.document import Document

FORMAT = "diagnose-bundle"
BUNDLE_VERSION = 1
MANIFEST = "manifest.json"
REPORT_JSON = "report.json"
SUFFIX = ".tar.gz"
MAX_MEMBER_BYTES = 50 * 1024 * 1024      # any member larger than this is refused
MAX_TOTAL_BYTES = 200 * 1024 * 1024
MAX_MEMBERS = 10_000
# what a report document may be, so that rendering one costs bounded memory and time (a 160 KB bundle
# once held a 50 MB report.json whose rendering took 540 MB): its size, its values, how deep it nests
MAX_REPORT_BYTES = 16 * 1024 * 1024
MAX_REPORT_NODES = 250_000
MAX_REPORT_DEPTH = 32
# tar's extension headers (GNU long name/link, PAX) come before the member they describe and tarfile reads
# their whole payload into memory: a 1 MB bundle whose long name was 1 GiB took 2.1 GB. Bounded per member
# and per bundle (diagnose writes none: its names are short), before tarfile reads them.
MAX_HEADER_BYTES = 64 * 1024
MAX_ALL_HEADER_BYTES = 1024 * 1024
_UNSAFE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


class BundleError(Exception):
    """A bundle cannot be written or read; the message is one line naming the file."""


class _HeaderRefused(Exception):
    """A tar header :class:`_BundleTar` will not process (not a ``TarError``: tarfile must not swallow it)."""


_EXTENSION_TYPES = (tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK, tarfile.XHDTYPE, tarfile.SOLARIS_XHDTYPE)


class _BoundedTarInfo(tarfile.TarInfo):
    """Refuses, before tarfile reads their payload, the headers whose reading costs unbounded memory:
    extension headers (GNU long name/link, PAX) over :data:`MAX_HEADER_BYTES` for one member or
    :data:`MAX_ALL_HEADER_BYTES` in all, global PAX headers (copied into every later member),
    sparse members (their maps are read block after block) and negative sizes."""

    def _proc_member(self, tar: Any) -> Any:  # the override point tarfile documents in its source
        where = f"at offset {self.offset}"
        if self.size < 0:
            raise _HeaderRefused(f"a tar header {where} has a negative size")
        if self.type == tarfile.XGLTYPE:
            raise _HeaderRefused(f"a global PAX header {where}")
        if self.type == tarfile.GNUTYPE_SPARSE:
            raise _HeaderRefused(f"a sparse member {where}")
        if self.type in _EXTENSION_TYPES:
            cost = tarfile.BLOCKSIZE + -(-self.size // tarfile.BLOCKSIZE) * tarfile.BLOCKSIZE
            tar.header_bytes += cost
            tar.all_header_bytes += cost
            if tar.header_bytes > MAX_HEADER_BYTES or tar.all_header_bytes > MAX_ALL_HEADER_BYTES:
                raise _HeaderRefused(f"extended tar headers {where} are too large (at most {MAX_HEADER_BYTES} "
                                     f"bytes for a member, {MAX_ALL_HEADER_BYTES} in all)")
        else:  # the member's own header ends its chain of extension headers
            tar.header_bytes = 0
        return super()._proc_member(tar)  # type: ignore[misc]  # private in tarfile, so not in typeshed

    def _proc_gnusparse_10(self, *args: Any) -> Any:  # a PAX sparse map 1.0 is read from the data, unbounded
        raise _HeaderRefused(f"a sparse member at offset {self.offset}")


class _BundleTar(tarfile.TarFile):
    """A tar reader that bounds the memory headers take (see :class:`_BoundedTarInfo`)."""

    tarinfo = _BoundedTarInfo
    header_bytes = 0       # extension headers before the member being read
    all_header_bytes = 0   # all of them so far


def bundle_members(document: Document) -> list[tuple[str, bytes, dict[str, Any]]]:
    """``(name, bytes, manifest extras)`` of every member but the manifest, in bundle order; FormatError
    when a plugin format cannot be loaded."""
    from diagnose.reports.formats import BUILTIN_FORMATS, FormatError, report_format, report_formats

    report_json = report_format("json").render(document)
    plain = json.loads(report_json)  # JSON-only data: what report.json holds
    members: list[tuple[str, bytes, dict[str, Any]]] = [(REPORT_JSON, report_json.encode(), {})]
    for fmt in report_formats():
        if fmt.NAME == "json":
            continue
        try:
            text = fmt.render(document)
        except Exception as exc:
            if fmt.NAME in BUILTIN_FORMATS:
                raise              # a bug of diagnose's own
            raise FormatError(f"format {fmt.NAME!r} failed to render the report: {type(exc).__name__}: {exc}") \
                from None
        members.append((f"report.{fmt.EXTENSION}", text.encode(), {}))
    members.append(("profile.yaml", _yaml(plain.get("profile") or {}), {}))
    taken = {name for name, _, _ in members}
    for folder, symptom_id, checks in _check_groups(plain):
        for check in checks:
            for evidence in check.get("evidence") or []:
                ext, data = evidence_file(evidence)
                name = _free_name(f"{folder}{safe_name(str(check.get('id', 'check')))}", ext, taken)
                extras = {"check": check.get("id"), "evidence": evidence.get("kind"),
                          "title": evidence.get("title", "")}
                if symptom_id is not None:
                    extras = {"symptom": symptom_id, **extras}
                members.append((name, data, extras))
    return members


def evidence_file(evidence: dict[str, Any]) -> tuple[str, bytes]:
    """The file extension and content of one (masked) evidence item."""
    kind = evidence.get("kind")
    if kind == "rows":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(evidence.get("columns") or [])
        writer.writerows([_cell(v) for v in row] for row in evidence.get("rows") or [])
        return "csv", out.getvalue().encode()
    if kind == "lines":
        from diagnose.reports.document import log_line

        return "log", "".join(log_line(line) + "\n" for line in evidence.get("lines") or []).encode()
    if kind == "text":
        return "txt", str(evidence.get("text") or "").encode()
    payload = evidence.get("values") if kind == "values" else evidence
    return "json", (json.dumps(payload, indent=2, ensure_ascii=False) + "\n").encode()


def manifest(document: Document, members: list[tuple[str, bytes, dict[str, Any]]]) -> dict[str, Any]:
    kind = document.get("kind", "symptom")
    return {
        "format": FORMAT, "bundle_version": BUNDLE_VERSION,
        "diagnose_version": (document.get("tool") or {}).get("version"),
        "schema_version": document.get("schema_version"),
        "generated_at": document.get("generated_at"),
        "kind": kind,
        "symptom": None if kind == "triage" else (document.get("symptom") or {}).get("id"),
        "verdict": document.get("verdict"), "exit_code": document.get("exit_code"),
        "knowledge_base": document.get("knowledge_base"),
        "members": [{"name": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest(), **extras}
                    for name, data, extras in members],
    }


def bundle_bytes(document: Document) -> bytes:
    """The bundle as bytes: the manifest first, then the members; the same document, the same bytes."""
    members = bundle_members(document)
    index = (json.dumps(manifest(document, members), indent=2, ensure_ascii=False) + "\n").encode()
    mtime = _epoch(document.get("generated_at"))
    raw = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
        with tarfile.open(fileobj=gz, mode="w", format=tarfile.GNU_FORMAT) as tar:
            for name, data in [(MANIFEST, index), *((n, d) for n, d, _ in members)]:
                info = tarfile.TarInfo(name)
                info.size, info.mtime, info.mode, info.type = len(data), mtime, 0o644, tarfile.REGTYPE
                info.uid = info.gid = 0
                info.uname = info.gname = "diagnose"
                tar.addfile(info, io.BytesIO(data))
    return raw.getvalue()


def bundle_path(option: str | os.PathLike, name: str, now: datetime | None = None) -> tuple[Path, bool]:
    """Where ``--bundle`` writes, and whether overwriting is allowed: an existing directory gets
    ``<name>-<UTC time>.tar.gz`` inside (never overwriting), any other path is that exact file."""
    path = Path(option).expanduser()
    if not path.is_dir():
        return path, True
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return path / f"{safe_name(name)}-{now:%Y%m%dT%H%M%SZ}{SUFFIX}", False


def write_bundle(document: Document, path: str | os.PathLike, *, overwrite: bool = True) -> Path:
    """Write the bundle of ``document`` atomically (temp file + rename); returns the path written.

    With ``overwrite=False`` an existing file is kept and the bundle takes the first free
    ``<stem>-2.tar.gz``... name. On any error nothing is left behind and :class:`BundleError` says why.
    """
    from diagnose.reports.formats import FormatError
    from diagnose.reports.writer import write_atomic

    path = Path(path)
    problem = _too_big(document)
    if problem:  # a bundle that `diagnose report` would refuse is not written
        raise BundleError(f"cannot write bundle {path}: the report {problem}")
    try:
        data = bundle_bytes(document)
    except FormatError as exc:  # a plugin format that cannot be loaded: the bundle would lack it
        raise BundleError(f"cannot write bundle {path}: {exc}") from None
    try:
        return write_atomic(data, path, overwrite=overwrite, suffix=SUFFIX)
    except OSError as exc:
        blocker = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
        detail = f"{blocker} is a file, not a folder" if blocker else exc.strerror or exc
        raise BundleError(f"cannot write bundle {path}: {detail}") from None


def read_bundle(path: str | os.PathLike) -> Document:
    """The report document of a bundle, after checking every member against the manifest.

    Raises :class:`BundleError` (one line naming the file) for a missing, truncated, corrupt,
    tampered or unsafe bundle, or one whose ``report.json`` is not a valid report.
    """
    path = Path(path)
    try:
        with _open_regular(path) as raw, _BundleTar.open(fileobj=raw, mode="r:gz") as tar:
            contents, digests = _read_members(tar, path)
    except BundleError:
        raise
    except _HeaderRefused as exc:
        raise BundleError(f"{path}: refused: {exc}") from None
    except (tarfile.TarError, EOFError, zlib.error) as exc:
        raise BundleError(f"{path}: not a readable diagnose bundle ({_line(exc) or 'truncated or corrupt'})") from None
    except OSError as exc:
        raise BundleError(f"{path}: cannot read bundle: {exc.strerror or _line(exc)}") from None
    index = _json_member(path, contents, MANIFEST, "not a diagnose bundle (no manifest.json)")
    if not isinstance(index, dict) or index.get("format") != FORMAT or not isinstance(index.get("members"), list):
        raise BundleError(f"{path}: not a diagnose bundle (manifest.json is not a bundle manifest)")
    _verify(path, index["members"], digests)
    document = _json_member(path, contents, REPORT_JSON, "the bundle has no report.json")
    _validate(path, document)
    return upgrade(document)


def upgrade(document: Document) -> Document:
    """A ``schema_version`` 1 document (solution steps as one Markdown text, alternatives as variants)
    in the shape the renderers read: each solution's ``markdown``."""
    symptoms = document.get("symptoms") if document.get("kind") == "triage" else [document]
    for symptom in symptoms or []:
        for solution in symptom.get("solutions") or []:
            if isinstance(solution.get("steps"), str) and "markdown" not in solution:
                parts = [solution["steps"]] + [f"**{v.get('label', '')}**\n\n{v.get('steps', '')}"
                                               for v in solution.get("variants") or []]
                solution["markdown"] = "\n\n".join(parts)
    return document


def _read_members(tar: tarfile.TarFile, path: Path) -> tuple[dict[str, bytes], dict[str, tuple[int, str]]]:
    """Read every member once, refusing unsafe ones; keep the JSON members, hash all of them."""
    contents: dict[str, bytes] = {}
    digests: dict[str, tuple[int, str]] = {}
    total = 0
    for count, member in enumerate(tar, 1):
        name = member.name
        if count > MAX_MEMBERS:
            raise BundleError(f"{path}: refused: more than {MAX_MEMBERS} members")
        if _unsafe(name):
            raise BundleError(f"{path}: refused: unsafe member name {name!r}")
        if not member.isreg():
            raise BundleError(f"{path}: refused: member {name!r} is not a regular file (link, device or directory)")
        if name in digests:
            raise BundleError(f"{path}: refused: member {name!r} appears twice")
        total += member.size
        limit = MAX_REPORT_BYTES if name in (MANIFEST, REPORT_JSON) else MAX_MEMBER_BYTES
        if member.size > limit or total > MAX_TOTAL_BYTES:
            raise BundleError(f"{path}: refused: member {name!r} is too large ({member.size} bytes; "
                              f"at most {limit} for it, {MAX_TOTAL_BYTES} in all)")
        data = tar.extractfile(member).read()  # type: ignore[union-attr]  # a regular file has a reader
        if len(data) != member.size:
            raise BundleError(f"{path}: not a readable diagnose bundle (member {name!r} is truncated)")
        digests[name] = (len(data), hashlib.sha256(data).hexdigest())
        if name in (MANIFEST, REPORT_JSON):
            contents[name] = data
    return contents, digests


def _verify(path: Path, listed: list[Any], digests: dict[str, tuple[int, str]]) -> None:
    names = set()
    for item in listed:
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(name, str):
            raise BundleError(f"{path}: not a diagnose bundle (manifest.json lists a member without a name)")
        names.add(name)
        if name not in digests:
            raise BundleError(f"{path}: member {name!r} listed in the manifest is missing")
        if digests[name] != (item.get("size"), item.get("sha256")):
            raise BundleError(f"{path}: checksum mismatch for {name!r}: the bundle was changed or corrupted")
    extra = sorted(set(digests) - names - {MANIFEST})
    if extra:
        raise BundleError(f"{path}: member {extra[0]!r} is not in the manifest: the bundle was changed")


def _json_member(path: Path, contents: dict[str, bytes], name: str, missing: str) -> Any:
    if name not in contents:
        raise BundleError(f"{path}: {missing}")
    try:
        data = json.loads(contents[name].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BundleError(f"{path}: {name} is not valid JSON ({_line(exc)})") from None
    except RecursionError:
        raise BundleError(f"{path}: refused: {name} nests deeper than any report") from None
    problem = _too_big(data)
    if problem:
        raise BundleError(f"{path}: refused: {name} {problem}")
    return data


def _too_big(data: Any) -> str | None:
    """Why a JSON value is larger or deeper than any report diagnose writes (None: it is not)."""
    nodes, stack = 0, [(data, 1)]
    while stack:
        value, depth = stack.pop()
        nodes += 1
        if nodes > MAX_REPORT_NODES:
            return f"has more than {MAX_REPORT_NODES} values"
        if depth > MAX_REPORT_DEPTH:
            return f"nests more than {MAX_REPORT_DEPTH} levels deep"
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    return None


def _open_regular(path: Path) -> Any:
    """The bundle file, opened without blocking (a FIFO would block for ever), if it is a regular file."""
    from diagnose.files import NOT_REGULAR, NotRegularFile, open_regular

    try:
        return open_regular(path)
    except NotRegularFile:
        raise BundleError(f"{path}: refused: {NOT_REGULAR}") from None


def _validate(path: Path, document: Any) -> None:
    """Renderers trust their document: check it against the report schema first."""
    import jsonschema

    from diagnose.reports.document import REPORT_SCHEMA
    from diagnose.reports.triage_document import TRIAGE_SCHEMA

    if not isinstance(document, dict):
        raise BundleError(f"{path}: report.json is not a report document")
    schema = TRIAGE_SCHEMA if document.get("kind") == "triage" else REPORT_SCHEMA
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(document))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        raise BundleError(f"{path}: report.json is not a valid report: {where}: {_line(error.message)[:160]}")


def _check_groups(doc: dict[str, Any]) -> list[tuple[str, str | None, list[dict[str, Any]]]]:
    """``(folder, symptom id, checks)``: one group for a symptom report, one per symptom for triage."""
    if doc.get("kind") == "triage":
        return [(f"evidence/{safe_name(str(s.get('id', 'symptom')))}/", s.get("id"), s.get("checks") or [])
                for s in doc.get("symptoms") or []]
    return [("evidence/", None, doc.get("checks") or [])]


def _free_name(stem: str, ext: str, taken: set[str]) -> str:
    name, n = f"{stem}.{ext}", 1
    while name in taken:
        n += 1
        name = f"{stem}-{n}.{ext}"
    taken.add(name)
    return name


def safe_name(part: str) -> str:
    """A file-name component that cannot escape its folder: no separators, no ``..``, short."""
    return _UNSAFE_CHARS.sub("_", part).strip("._")[:80] or "item"


def _unsafe(name: str) -> bool:
    parts = PurePosixPath(name).parts
    return (not name or name.startswith(("/", "\\")) or "\\" in name or ".." in parts
            or (len(name) > 1 and name[1] == ":"))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _yaml(data: Any) -> bytes:
    import yaml

    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False).encode()


def _epoch(stamp: Any) -> int:
    """The report's own time as the members' mtime (reproducible, yet meaningful when extracted)."""
    try:
        moment = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    except ValueError:
        return 0
    return max(0, int((moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()))


def _line(exc: Any) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""
