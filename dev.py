#!/usr/bin/env python3
"""The two quick-start commands, on a fresh machine with only Python 3.11+.

    python3 dev.py demo [ARGS...]   # install into .venv, then `diagnose demo ARGS...`
    python3 dev.py test [ARGS...]   # install into .venv (with test extras), then the whole test suite

Both create ``.venv`` beside this file on first use and reinstall only when pyproject.toml
changes, so running them again is fast. Nothing is installed outside ``.venv``.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("DIAGNOSE_VENV", ROOT / ".venv"))
EXTRAS = {"demo": "embedded", "test": "test"}


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
        args = [str(python()), "-m", "pytest", *rest]
    return subprocess.call(args, cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
