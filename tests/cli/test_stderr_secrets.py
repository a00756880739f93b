"""Nothing secret on stderr either: bad options, profiles that do not validate, click's own errors.

A mistyped ``--dsn`` or a profile with a wrong type is reported in one line, and that line once
echoed the password; the terminal (and the CI log it is captured in) must not hold more than a
report would.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def diagnose(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, DIAGNOSE_CACHE_DIR=str(tmp_path / "cache"), PYTHONPATH=str(ROOT))
    env.pop("DIAGNOSE_PROFILE", None)
    return subprocess.run([sys.executable, "-m", "diagnose", *args], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=60)


@pytest.mark.parametrize("args, secret", [
    (["--dsn", "postgresql://desk:StderrPw-1x@db/desk"], "StderrPw-1x"),              # NAME= forgotten
    (["--dsn", "trading"], None),
    (["--endpoint", "http://svc:Stderr@Pw-2y@127.0.0.1:8000"], "Stderr@Pw-2y"),      # @ in the password
    (["--timeout", "postgresql://desk:StderrPw-3z@db/desk"], "StderrPw-3z"),         # click's own message
])
def test_bad_options_never_echo_a_password(tmp_path, args, secret):
    proc = diagnose(tmp_path, "stale-positions", *args)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip(), "one line saying what is wrong"
    if secret is not None:
        for form in (secret, secret.split("'")[-1], secret.split("@")[-1]):
            assert form not in proc.stderr, proc.stderr


@pytest.mark.parametrize("profile, secret", [
    ({"databases": {"trading": ["postgresql://desk:ProfPw-5v@db/desk"]}}, "ProfPw-5v"),   # a list, not a text
    ({"databases": {"trading": {"dsn": "host=db password=ProfKw-6u"}}}, "ProfKw-6u"),
    ({"endpoints": {"api": 8000}, "databases": {"x": "postgresql://u:ProfPw-7t@h/d"}, "bogus": 1}, "ProfPw-7t"),
    ({"databases": {"trading": {"dsn": "postgresql://app:Pa#ss99word@db/x", "bogus": 1}}}, "ss99word"),
    ({"endpoints": {"api": ["http://svc:Ep?Pw-8s@127.0.0.1:8000"]}}, "Pw-8s"),
])
def test_a_profile_that_does_not_validate_is_reported_without_its_passwords(tmp_path, profile, secret):
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(profile))
    proc = diagnose(tmp_path, "stale-positions", "--profile", str(tmp_path / "p.yaml"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "p.yaml:" in proc.stderr and secret not in proc.stderr, proc.stderr
