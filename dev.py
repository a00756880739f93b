#!/usr/bin/env python3
"""The two quick-start commands, on a fresh machine with only Python 3.11+, and the lock refresh.

    python3 dev.py demo [ARGS...]   # install into .venv, then `diagnose demo ARGS...`
    python3 dev.py test [ARGS...]   # install into .venv (with test extras), then ruff, mypy and the whole test suite
    python3 dev.py lock             # newest versions in a scratch venv, whole suite; rewrite constraints.txt if green

Both quick-start commands create ``.venv`` beside this file on first use and install the versions
pinned in ``constraints.txt`` (the lock of the test environment: CI and every contributor get
the same set, whatever the registry serves that day). They reinstall only when pyproject.toml or
constraints.txt change, so running them again is fast. Nothing else is installed outside ``.venv``,
except that ``test`` installs Debian packages (as root, with apt-get) when they are missing:
``chromium``, which the FAQ site's browser test drives (never a browser downloaded by
Playwright); ``libfaketime``, which lets the triage precision tests run a world's PostgreSQL
server and ``diagnose`` at another moment (a Saturday, the night session); and
``systemd-journal-remote``, which writes the real journal files that ``journalctl`` reads in the
log tests. Before the tests, ``test`` runs ``ruff check`` and ``mypy`` at the levels configured in
pyproject.toml (their caches in the venv) and stops at the first that finds a problem.

``lock`` is how the pins move: it installs the newest versions the registry serves into
``.venv-lock`` (no constraints), runs the whole test suite there, and only when it passes writes
their ``pip freeze`` to constraints.txt. ``pip install .`` for users keeps pyproject's ranges.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("DIAGNOSE_VENV", ROOT / ".venv"))
LOCK_VENV = ROOT / ".venv-lock"
CONSTRAINTS = ROOT / "constraints.txt"
EXTRAS = {"demo": "embedded", "test": "test"}
#: what `lock` resolves: every extra, so the demo's and the docs' packages are pinned as well
LOCK_EXTRAS = "test,embedded,docs"
LOCK_HEADER = """\
# The lock of the test environment: `python3 dev.py test`, `python3 dev.py demo` and CI (.ci/run)
# install exactly these versions (pip -c). `pip install .` for users keeps pyproject's ranges.
# Refresh with `python3 dev.py lock`: it installs the newest versions into .venv-lock, runs the
# whole test suite against them, and rewrites this file only when the suite passes.
"""
#: Debian packages the tests drive: package -> (a file it installs (globs allowed), the tests that need it)
DEBIAN_PACKAGES = {
    "chromium": ("/usr/bin/chromium", "the browser test"),
    "libfaketime": ("/usr/lib/*/faketime/libfaketime.so.1", "the triage precision tests (worlds at another moment)"),
    "systemd-journal-remote": ("/usr/lib/systemd/systemd-journal-remote", "the journal tests (real journal files)"),
}


def python(env: Path = VENV) -> Path:
    return env / ("Scripts" if os.name == "nt" else "bin") / "python"


def ensure_installed(extra: str, env: Path = VENV, pinned: bool = True) -> None:
    """Create the venv ``env`` and install the project (editable) with ``extra``, unless already
    done; ``pinned``: with the versions of constraints.txt."""
    stamp = env / f".installed-{extra}"
    inputs = [ROOT / "pyproject.toml"] + ([CONSTRAINTS] if pinned and CONSTRAINTS.is_file() else [])
    want = hashlib.sha256(b"".join(p.read_bytes() for p in inputs)).hexdigest()
    if stamp.is_file() and stamp.read_text() == want and python(env).exists():
        return
    if not python(env).exists():
        print(f"dev.py: creating {env}", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(env)
    versions = "the pinned versions" if len(inputs) > 1 else "the newest versions"
    print(f"dev.py: installing diagnose[{extra}] with {versions} into {env}", file=sys.stderr)
    quiet = [] if os.environ.get("CI") else ["-q"]
    pins = ["-c", str(CONSTRAINTS)] if len(inputs) > 1 else []
    subprocess.run([str(python(env)), "-m", "pip", "install", *quiet, "--disable-pip-version-check", *pins,
                    "-e", f"{ROOT}[{extra}]"], check=True)
    stamp.write_text(want)


def lock(rest: list[str]) -> int:
    """Resolve the newest versions in a scratch venv, run the whole suite, pin them if it passes."""
    shutil.rmtree(LOCK_VENV, ignore_errors=True)
    ensure_installed(LOCK_EXTRAS, LOCK_VENV, pinned=False)
    frozen = subprocess.run([str(python(LOCK_VENV)), "-m", "pip", "freeze", "--exclude-editable",
                             "--disable-pip-version-check"], check=True, capture_output=True, text=True).stdout
    pins = sorted((line for line in frozen.splitlines() if line and not line.startswith("#")), key=str.lower)
    ensure_debian_packages()
    print(f"dev.py: running ruff, mypy and the whole test suite against {len(pins)} newest versions", file=sys.stderr)
    code = static_checks(LOCK_VENV) or subprocess.call([str(python(LOCK_VENV)), "-m", "pytest", *rest], cwd=ROOT)
    if code != 0:
        print(f"dev.py: the suite failed (exit {code}) with the newest versions: {CONSTRAINTS.name} is unchanged",
              file=sys.stderr)
        return code
    before = set(CONSTRAINTS.read_text().splitlines()) if CONSTRAINTS.is_file() else set()
    CONSTRAINTS.write_text(LOCK_HEADER + "\n".join(pins) + "\n")
    changed = sorted(set(pins) - before, key=str.lower)
    print(f"dev.py: {CONSTRAINTS.name} written; {len(changed)} pin(s) changed"
          + "".join(f"\n  {pin}" for pin in changed), file=sys.stderr)
    return 0


#: what `ruff check` reads (mypy reads [tool.mypy] files in pyproject.toml: the diagnose package)
LINTED = ["diagnose", "tests", "bench", "dev.py"]


def static_checks(env: Path = VENV) -> int:
    """``ruff check`` then ``mypy`` from ``env`` (levels in pyproject.toml), caches in ``env``; 0 when both
    are clean, else the failing tool's exit code after one line saying which failed and how to rerun it."""
    py = python(env).relative_to(ROOT) if python(env).is_relative_to(ROOT) else python(env)
    for name, args in (("ruff", ["check", *LINTED]), ("mypy", [])):
        cache = ["--cache-dir", str(env / f".{name}_cache")]
        code = subprocess.call([str(python(env)), "-m", name, *args, *cache], cwd=ROOT)
        if code != 0:
            print(f"dev.py: {name} found problems (exit {code}), so the tests did not run; "
                  f"rerun it with: {py} -m {' '.join([name, *args])}", file=sys.stderr)
            return code
    return 0


def ensure_debian_packages() -> None:
    """Install the Debian packages of :data:`DEBIAN_PACKAGES` that are missing, in one apt-get run.

    Never fatal: when they cannot be installed (not root, no apt-get, apt failing) this says so in
    one line and the tests that need them fail with the same instructions, while every other test runs.
    """
    import glob

    missing = {name: why for name, (path, why) in DEBIAN_PACKAGES.items() if not glob.glob(path)}
    if not missing:
        return
    hint = f"apt-get update && apt-get install -y --no-install-recommends {' '.join(missing)} (as root)"
    needed_by = "; ".join(missing.values())
    if not shutil.which("apt-get") or not hasattr(os, "geteuid") or os.geteuid() != 0:
        print(f"dev.py: {', '.join(missing)} missing and needs root with apt-get to install ({needed_by} "
              f"will fail until you run: {hint})", file=sys.stderr)
        return
    print(f"dev.py: installing Debian {', '.join(missing)} for {needed_by} (first run only)", file=sys.stderr)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for step in (["apt-get", "update", "-q"],
                 ["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing]):
        done = subprocess.run(step, check=False, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if done.returncode != 0:
            print(done.stdout[-3000:], file=sys.stderr)
            print(f"dev.py: `{' '.join(step)}` failed (exit {done.returncode}); {needed_by} will fail "
                  f"until you run: {hint}", file=sys.stderr)
            return


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in (*EXTRAS, "lock"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    try:
        if command == "lock":
            return lock(rest)
        ensure_installed(EXTRAS[command])
    except subprocess.CalledProcessError as exc:
        print(f"dev.py: installation failed (exit {exc.returncode}); see the pip output above", file=sys.stderr)
        return 2
    if command == "demo":
        args = [str(python()), "-m", "diagnose", "demo", *rest]
    else:
        code = static_checks()
        if code != 0:
            return code
        ensure_debian_packages()
        args = [str(python()), "-m", "pytest", *rest]
    return subprocess.call(args, cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
