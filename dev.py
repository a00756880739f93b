#!/usr/bin/env python3
"""The two quick-start commands, on a fresh machine with only Python 3.11+.

    python3 dev.py demo [ARGS...]   # install into .venv, then `diagnose demo ARGS...`
    python3 dev.py test [ARGS...]   # install into .venv (with test extras), then the whole test suite

Both create ``.venv`` beside this file on first use and reinstall only when pyproject.toml
changes, so running them again is fast. Nothing else is installed outside ``.venv``, except that
``test`` installs Debian's ``chromium`` package (as root, with apt-get) when /usr/bin/chromium is
missing: the FAQ site's browser test drives it, never a browser downloaded by Playwright.
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
EXTRAS = {"demo": "embedded", "test": "test"}
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_HINT = "apt-get update && apt-get install -y --no-install-recommends chromium (as root)"


def python() -> Path:
    return VENV / ("Scripts" if os.name == "nt" else "bin") / "python"


def ensure_installed(extra: str) -> None:
    """Create the venv and install the project (editable) with ``extra``, unless already done."""
    stamp = VENV / f".installed-{extra}"
    want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.is_file() and stamp.read_text() == want and python().exists():
        return
    if not python().exists():
        print(f"dev.py: creating {VENV}", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print(f"dev.py: installing diagnose[{extra}] into {VENV} (first run only)", file=sys.stderr)
    quiet = [] if os.environ.get("CI") else ["-q"]
    subprocess.run([str(python()), "-m", "pip", "install", *quiet, "--disable-pip-version-check",
                    "-e", f"{ROOT}[{extra}]"], check=True)
    stamp.write_text(want)


def ensure_chromium() -> None:
    """Install Debian's chromium for tests/site/test_browser.py when it is missing.

    Never fatal: when it cannot be installed (not root, no apt-get, apt failing) this says so in
    one line and the browser test fails with the same instructions, while every other test runs.
    """
    if CHROMIUM.exists():
        return
    if not shutil.which("apt-get") or not hasattr(os, "geteuid") or os.geteuid() != 0:
        print(f"dev.py: {CHROMIUM} is missing and needs root with apt-get to install; the browser test "
              f"will fail until you run: {CHROMIUM_HINT}", file=sys.stderr)
        return
    print("dev.py: installing Debian chromium for the browser test (first run only)", file=sys.stderr)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for step in (["apt-get", "update", "-q"],
                 ["apt-get", "install", "-y", "-q", "--no-install-recommends", "chromium"]):
        done = subprocess.run(step, check=False, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if done.returncode != 0:
            print(done.stdout[-3000:], file=sys.stderr)
            print(f"dev.py: `{' '.join(step)}` failed (exit {done.returncode}); the browser test will fail "
                  f"until you run: {CHROMIUM_HINT}", file=sys.stderr)
            return


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in EXTRAS:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    try:
        ensure_installed(EXTRAS[command])
    except subprocess.CalledProcessError as exc:
        print(f"dev.py: installation failed (exit {exc.returncode}); see the pip output above", file=sys.stderr)
        return 2
    if command == "demo":
        args = [str(python()), "-m", "diagnose", "demo", *rest]
    else:
        ensure_chromium()
        args = [str(python()), "-m", "pytest", *rest]
    return subprocess.call(args, cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
