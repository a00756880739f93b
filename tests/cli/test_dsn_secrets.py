"""Every ``--dsn`` password is masked in the report, whatever its characters and whatever its name.

libpq reads ``postgresql://app:Pa#ss99word@db/x`` with the password ``Pa#ss99word`` (user info up
to the ``@`` before the first ``/``); a URL parser that ends the user info at ``#`` or ``?`` saw no
password at all, and the raw DSN reached the report's profile section.
"""

from __future__ import annotations

import json

import pytest

SECRETS = {"trading": ("postgresql://app:Pa#ss99word@127.0.0.1:1/x", "Pa#ss99word"),
           "desk": ("postgresql://desk:Qu?es7ion-Pw@127.0.0.1:1/desk", "Qu?es7ion-Pw"),
           "nosuch": ("postgresql://u:No#such?Pw-7@127.0.0.1:1/d", "No#such?Pw-7")}   # a name no check uses


@pytest.mark.parametrize("fmt", ["json", "md"])
def test_dsn_passwords_with_hash_or_question_mark_never_reach_the_report(diagnose, tmp_path, fmt):
    args = [f"--dsn={name}={dsn}" for name, (dsn, _) in SECRETS.items()]
    result = diagnose("db-pool-exhausted", *args, "--format", fmt, "-o", str(tmp_path / f"r.{fmt}"), "--timeout", "5")
    assert result.code in (1, 3), result.err
    report = (tmp_path / f"r.{fmt}").read_text()
    for _, secret in SECRETS.values():
        for form in (secret, secret.split("#")[-1], secret.split("?")[-1]):
            assert form not in report and form not in result.out + result.err, form
    if fmt == "json":
        databases = json.loads(report)["profile"]["databases"]
        assert set(databases) == set(SECRETS)
        for name, (dsn, secret) in SECRETS.items():    # the password alone is masked, the rest stays readable
            assert databases[name].startswith(dsn.partition(secret)[0])
            assert databases[name].endswith(dsn.partition(secret)[2]) and "«masked-" in databases[name]
