"""Where secrets are written, read as the programs that use them read it."""

from __future__ import annotations

import pytest

from diagnose.secret_sources import from_command, from_dsn, from_env, from_url


@pytest.mark.parametrize("dsn, secret", [
    ("postgresql://desk:Pa55@db:5432/desk", "Pa55"),
    ("postgresql://desk:Quo'te\"Pw@db/desk", "Quo'te\"Pw"),          # unencoded quotes
    ("postgres://desk:p@ss@word@db/desk", "p@ss@word"),              # up to the last @
    ("postgresql://desk:p%40ss@db/desk", "p@ss"),                   # decoded too
    ("postgresql://db/desk?password=QueryPw-1", "QueryPw-1"),
    ("host=db password='Kw\\'Esc 77' dbname=x", "Kw'Esc 77"),       # libpq quoting and escapes
    ("host=db password=plain-kw dbname=x", "plain-kw"),
])
def test_dsn_passwords(dsn, secret):
    assert secret in {s for s, _ in from_dsn(dsn)}


@pytest.mark.parametrize("dsn, secret", [
    ("postgresql://app:Pa#ss99word@db/x", "Pa#ss99word"),           # libpq: "#" and "?" are ordinary there
    ("postgresql://app:Pa?ss99word@db:5432/x", "Pa?ss99word"),
    ("postgres://app:Pa#ss?99@db?sslmode=disable", "Pa#ss?99"),     # no path, then a query
    ("postgresql://db/x?sslmode=disable&password=Qu#ery?Pw-1", "Qu#ery?Pw-1"),
    ("redis://:R3dis#Pw-42@cache:6379/0", "R3dis#Pw-42"),           # any URL given as a DSN
])
def test_dsn_passwords_with_hash_or_question_mark(dsn, secret):
    assert secret in {s for s, _ in from_dsn(dsn)}


@pytest.mark.parametrize("dsn", [
    "postgresql://app:Pa#ss99word@db/x", "postgresql://app:Pa?ss99word@db:5432/x", "postgres://desk:p@ss@word@db/desk",
    "postgresql://app:Pa#ss?99@db?sslmode=disable", "postgresql://db/x?password=Qu#ery?Pw-1",
    "postgresql://app:p%23ss%40word@db/x",
])
def test_dsn_passwords_as_libpq_itself_reads_them(dsn):
    """libpq's own parser (PQconninfoParse, through psycopg) is the reference."""
    conninfo = pytest.importorskip("psycopg.conninfo")
    assert conninfo.conninfo_to_dict(dsn)["password"] in {s for s, _ in from_dsn(dsn)}


def test_url_credentials_and_query_values():
    found = {s for s, _ in from_url("http://svc:At@Pass-9@127.0.0.1:8000/cb?pass=QsPw&sig=Sig1&page=2")}
    assert {"At@Pass-9", "QsPw", "Sig1"} <= found and "2" not in found


@pytest.mark.parametrize("command, secret", [
    ("mysql -pMyPw1 -h db", "MyPw1"),
    ("sshpass -p SshPw2 ssh host tail -f /var/log/x.log", "SshPw2"),
    ("curl -u admin:CurlPw3 https://host/logs", "CurlPw3"),
    ("curl --user admin:CurlPw4 https://host/logs", "CurlPw4"),
    ("tool --password=OptPw5 --port 5", "OptPw5"),
    ("tool --api-token OptPw6", "OptPw6"),
    ("PGPASSWORD=EnvPw7 psql -c 'select 1'", "EnvPw7"),
    ("env PGPASSWORD=EnvPw8 psql", "EnvPw8"),
    (["docker", "logs", "https://u:UrlPw9@registry/x"], "UrlPw9"),
])
def test_command_line_credentials(command, secret):
    assert secret in {s for s, _ in from_command(command)}


def test_a_port_or_a_path_is_not_a_password():
    assert from_command("tail -n 100 -p 5 /var/log/app.log") == []
    assert from_command("journalctl -u backend --since '1 hour ago'") == []


def test_env_values_and_what_an_unterminated_quote_left():
    found = {s for s, _ in from_env({"API_TOKEN": "t0k", "MODE": "live"}, {"PRIVATE_KEY": "MIIE\nabcd\n"})}
    assert found == {"t0k", "MIIE", "abcd"}
