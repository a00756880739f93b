"""The suite does not depend on where the checkout sits or what folder mode it has.

CI clones main into a new private folder (``mktemp -d``, mode 700). As root, the throwaway
PostgreSQL runs as ``nobody``, who can enter nothing in there: server binaries inside the
checkout (the venv's wheel) must be copied to a world-readable cache, and no test may assume
they ran in place. That once passed on every developer's world-readable checkout and failed
only in CI. This runs a subset that touches those paths from a private copy of the working
tree, with server binaries that sit inside that private folder, as CI's clone has them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from diagnose.pg import binaries as pg_binaries

ROOT = Path(__file__).resolve().parents[1]
SUBSET = [
    "tests/pg/test_server.py",
    "tests/test_fuzz_profile.py::test_deep_nesting_is_a_clean_error_in_a_child_process",
    "tests/cli/test_run_e2e.py",
]
SKIP_DIRS = {".git", ".venv", ".venv-lock", "site", "bench", "__pycache__", ".pytest_cache", ".hypothesis",
             "diagnose-reports", "build", "dist"}


def _copy_tree(target: Path) -> None:
    """The working tree as a clone would have it (no venv, caches or build output)."""
    def ignore(folder: str, names: list[str]) -> set[str]:
        return {n for n in names if n in SKIP_DIRS or n.endswith((".pyc", ".egg-info"))}

    shutil.copytree(ROOT, target, ignore=ignore, symlinks=True)


def _copy_server(target: Path) -> Path:
    """The embedded wheel's server install, as it sits inside a venv: ``bin`` of the copy."""
    wheel_bin = pg_binaries.find_binaries("embedded").bin_dir
    site = wheel_bin.parents[2]
    for part in [wheel_bin.parent / p for p in ("bin", "lib", "share")] + \
            pg_binaries._origin_library_dirs(wheel_bin, wheel_bin.parent):
        shutil.copytree(part, target / part.relative_to(site), symlinks=True)
    return target / wheel_bin.relative_to(site)


def test_a_subset_passes_from_a_private_copy_with_the_server_inside_it():
    private = Path(tempfile.mkdtemp(prefix="diagnose-clone-"))  # mode 700, like mktemp -d
    scratch = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    cache = Path(tempfile.mkdtemp(prefix="diagnose-clone-pgcache-", dir=scratch))
    cache.chmod(0o755)  # the copy of the server must be reachable by its account
    try:
        assert private.stat().st_mode & 0o077 == 0
        clone = private / "c"
        _copy_tree(clone)
        server_bin = _copy_server(private / "venv-site")
        env = {**os.environ, "PYTHONPATH": str(clone), "DIAGNOSE_PG_BIN": str(server_bin),
               "DIAGNOSE_PG_CACHE": str(cache), "DIAGNOSE_CACHE_DIR": str(private / "cache")}
        which = subprocess.run([sys.executable, "-c", "import diagnose; print(diagnose.__file__)"], cwd=clone,
                               env=env, capture_output=True, text=True, timeout=60)
        assert Path(which.stdout.strip()).is_relative_to(clone), which  # the copy's code is what runs
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *SUBSET],
                              cwd=clone, env=env, capture_output=True, text=True, timeout=600)
        tail = done.stdout[-4000:] + done.stderr[-2000:]
        assert done.returncode == 0, tail
        summary = re.search(r"(\d+) passed", done.stdout)
        assert summary and int(summary.group(1)) >= 10 and " failed" not in done.stdout, tail
        if os.geteuid() == 0:  # the session's server ran from a copy in the cache, not from the private folder
            assert list(cache.glob("diagnose-pg-*/.complete")), tail
    finally:
        shutil.rmtree(private, ignore_errors=True)
        shutil.rmtree(cache, ignore_errors=True)
