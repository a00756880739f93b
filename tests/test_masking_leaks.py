"""Never leak a secret: ~40 planted secrets of every shape, through the real CLI on a real world.

The world is real: a PostgreSQL database read by two roles whose passwords are in the profile
(URL and keyword DSN), a log file, an env file, an HTTP server on 127.0.0.1 reached with URL
credentials, and a profile adding its own mask patterns. A small knowledge base of its own
(``--checks``) shows everything as evidence: SQL rows, log lines, env values, HTTP bodies.
Every report format (and the bundle, when the CLI has it) must hold none of the secrets, raw,
URL-encoded, JSON- or HTML-escaped, or base64-encoded at any byte alignment, while ordinary
evidence stays readable and each secret keeps one label everywhere.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import re
import shlex
import subprocess
import sys
import tarfile
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
LABEL = r"«masked-\d+»"

JWT_1 = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyLTQyIiwicm9sZSI6ImF1dGhlbnRpY2F0ZWQifQ"
         ".Qm9ndXNTaWduYXR1cmVGb3JUZXN0c19hYmMxMjM0NTY3OA")
JWT_2 = ("eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJpc3MiOiJzdXBhYmFzZSIsInJlZiI6InByb2QtZGVzayJ9"
         ".U2Vjb25kU2lnbmF0dXJlXzk4NzY1NDMyMTBfeHl6")
PEM_BODY = ["MIIEowIBAAKCAQEAv3kq9Zr8Qp2Lw7Ks4Nd9Xv3Bm6Hc1Jf5Ty0GaQpWm1", "c2VjcmV0LWtleS1tYXRlcmlhbC1kby1ub3QtbGVhazEyMzQ1Njc4OTBhYmNk",
            "ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXpBQkNERUZHSElKS0xNTk9QUVJTVFVW"]
PEM = "-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(PEM_BODY) + "\n-----END RSA PRIVATE KEY-----"

# name -> secret; every one is planted somewhere below and must vanish from every output
S = {
    "dsn_url_password": "dsnPa55_w0rd!Q7z",
    "dsn_keyword_password": "kw Pass-4242 z",
    "endpoint_url_password": "EndpointPw-3377x",
    "log_url_password": "LogUrl-Pw-5511",
    "bearer_opaque": "opaqueBearer9f8e7d6c5b4a",
    "basic_password": "BasicPw-2290q",  # only ever seen base64-encoded in a Basic header
    "jwt_1": JWT_1,
    "jwt_2": JWT_2,
    "aws_access_key_id": "AKIAQ3EXAMPLE7KEY2Z9",
    "aws_secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY",
    "github_classic": "ghp_R4nd0mGitHubT0kenAbCdEfGhIjKlMnOpQr",
    "github_fine_grained": "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV",
    "slack_bot": "xoxb-2048-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    "stripe_live": "sk_live_51HqLyjWDarjtT1zdp7dcAbC",
    "stripe_restricted": "rk_live_51HqLyjWDarjtT1zdp7dcXyZ",
    "google_api_key": "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY",
    "pem_line_1": PEM_BODY[0], "pem_line_2": PEM_BODY[1], "pem_line_3": PEM_BODY[2],
    "log_password_kv": "LogKvPass-8841",
    "sql_json_password": "SmtpJson-Pw-6620",
    "http_json_password": "HttpJson-Pw-1177",
    "env_hex_session_secret": "9b1f0c7e5a3d2b8f6e4c1a0d9f8e7b6c5a4d3e2f1b0c9a8d7e6f5a4b3c2d1e0f",
    "env_base64_signing_key": "q3Zt8Lw+Kp2Nx7Vb/Hc4Rf9Jm1Ty6Gs0Ud5Ea8Wi2Ok=",
    "env_api_key_also_in_log": "Zr8Qp2Lw7Ks4Nd9Xv3Bm6Hc1Jf5Ty0Ga",
    "cookie_session": "SessCookie7Hq2vXw9LmN4",
    "set_cookie_session": "8c1f5a0e9b2d4c7fa3e6d1b0",
    "json_session_id": "sess_4KxQ9mZ2pL7vR3wT8nB5",
    "profile_pattern_vault": "VAULT-7f3k-9q2m-x8w4",
    "profile_pattern_group": "49381726",
    "sql_secret_column": "tok_9fK2mQ7xLp4Rz8Wv3Nb6Yc1D",
    "sql_url_password": "RowUrl-Secret-77",
    "log_query_token": "QueryTok-6a5b4c3d2e1f",
    "http_query_api_key": "HttpQueryKey-99zz",
    "openai_key": "sk-proj-Ab3De6Gh9Jk2Mn5Pq8St1Vw4Yz7",
    "x_api_key_header": "HdrKey-0099-aa77",
    "env_tq_password": "tq-Pw-7788-desk",
    "env_db_pass": "dbpass-Qx81-zz",
    "env_html_special": 'tk<&>"q1-Zz93',
    "npm_token": "npm_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
    "random_token_bare": "mF3kT9qW2xZ7bL4nR8vC1yH6jD5sG0aP",
    "telegram_bot_token": "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
    "sendgrid_key": "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",
    # issue 12: shapes that leaked
    "dsn_url_quotes": "Quo'te\"Pw-55x",                 # unencoded ' and " in a URL DSN
    "dsn_keyword_escaped": "Kw'Esc-77 zq",              # keyword DSN: password='Kw\'Esc-77 zq'
    "endpoint_at_password": "At@Pass-99y",               # an @ inside an endpoint URL's password
    "command_password": "CmdPass-Ab12x",                # logs: {command: ... --password=...}
    "command_curl_user": "CurlPass-Cd34y",               # ... -u admin:...
    "command_env_assign": "EnvAssign-Ef56z",             # env PGPASSWORD=... sh -c ...
    "straddling": "Straddle-9q8w7e6r5t4y3u2i1o",         # a known secret across the 500-character display cut
    "long_known": "L0ng-" + "k9" * 300,                  # 605 characters: crashed the masker (RecursionError)
    "env_pem_body": "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDenvPemBody",  # multi-line value in .env
    "hex_form": "HexForm-Pw-1234",                      # seen only as hex in a log
    "b64url_form": "B64url~Form?Pw>>",                  # seen only as URL-safe base64 in a log
    "location_pass": "LocPassQs-7788",                   # ?pass= in a redirect's Location header
    # issue: spellings other programs write (Go/PHP JSON, lower-case or double URL encoding, numeric
    # entities, SQL and shell quoting), each seen only in a log line
    "env_special_spellings": "Tulip&Garden/2024<ok>",
    "env_quote_spellings": "it'sMyPassw0rd",
}
EVERY_CHAR_ESCAPED = "".join(f"\\u{ord(c):04x}" for c in S["env_special_spellings"])   # a JavaScript escaper
BASIC_ENDPOINT = base64.b64encode(f"svc:{S['endpoint_url_password']}".encode()).decode()
BASIC_ADMIN = base64.b64encode(f"admin:{S['basic_password']}".encode()).decode()

# ordinary evidence that must survive masking
UUID = "3f2b1c9e-8d7a-4b6c-9e5f-1a2b3c4d5e6f"
SHA256_PUBLIC = hashlib.sha256(b"public release notes v1.2").hexdigest()
GIT_SHA = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
ULID = "01HQZ3K8M6P4R7T9V2X5Y8B1C3"
ORDINARY = [
    "2026-11-21 08:15:02,123", UUID, SHA256_PUBLIC, GIT_SHA, ULID, "ord-20261121-000417", "qty=0.250",
    "price=3512.5", "/var/lib/app/uploads/report-2026-11.csv", "token_expired", "password_reset",
    "Invalid API key", "backend-7d9f8c6b5d-x2k4q", "PositionSyncTimeoutError",
    "com.example.trading.PositionSynchronizer", "retry_after_ms=1500", "secret rotation scheduled",
]

LOG = f"""\
2026-11-21 08:15:02,123 INFO app.boot: started pod backend-7d9f8c6b5d-x2k4q commit {GIT_SHA}
2026-11-21 08:15:03,001 WARNING app.db: retrying with credentials {S['dsn_url_password']} after timeout
2026-11-21 08:15:04,002 ERROR app.git: GET https://deploy:{S['log_url_password']}@git.example.test/repo.git failed
2026-11-21 08:15:05,003 INFO app.http: outgoing Authorization: Bearer {S['bearer_opaque']} request_id={UUID}
2026-11-21 08:15:06,004 INFO app.http: proxied Authorization: Basic {BASIC_ADMIN} to upstream
2026-11-21 08:15:06,504 INFO app.http: svc call Authorization: Basic {BASIC_ENDPOINT}
2026-11-21 08:15:07,005 ERROR app.auth: realtime rejected token {JWT_1} reason=token_expired
2026-11-21 08:15:08,006 INFO app.login: login password={S['log_password_kv']} user=bob flow=password_reset
2026-11-21 08:15:09,007 INFO app.aws: signing with {S['aws_secret_access_key']} for s3 upload
2026-11-21 08:15:10,008 INFO app.ci: pushed with {S['github_classic']} sha256={SHA256_PUBLIC}
2026-11-21 08:15:11,009 WARNING app.notify: slack {S['slack_bot']} returned Invalid API key
2026-11-21 08:15:12,010 INFO app.http: incoming Cookie: theme=dark; session={S['cookie_session']}
2026-11-21 08:15:13,011 INFO app.vault: unsealed {S['profile_pattern_vault']} for order ord-20261121-000417
2026-11-21 08:15:14,012 INFO app.door: badge_pin={S['profile_pattern_group']} qty=0.250 price=3512.5
2026-11-21 08:15:15,013 INFO app.api: GET /api/export?format=csv&access_token={S['log_query_token']} HTTP/1.1 200
2026-11-21 08:15:16,014 INFO app.llm: using {S['openai_key']} retry_after_ms=1500
2026-11-21 08:15:17,015 INFO app.http: curl -H "X-Api-Key: {S['x_api_key_header']}" http://api.internal/v1
2026-11-21 08:15:18,016 INFO app.upstream: calling upstream with key {S['env_api_key_also_in_log']} ulid={ULID}
2026-11-21 08:15:19,017 INFO app.npm: publishing with {S['npm_token']} from /var/lib/app/uploads/report-2026-11.csv
2026-11-21 08:15:20,018 INFO app.webhook: callback signature {S['random_token_bare']} verified
2026-11-21 08:15:21,019 ERROR app.tg: POST https://api.telegram.org/bot123456789:{S['telegram_bot_token']}/sendMessage failed
2026-11-21 08:15:22,020 INFO app.mail: sendgrid {S['sendgrid_key']} raised PositionSyncTimeoutError
2026-11-21 08:15:23,021 INFO app.sync: com.example.trading.PositionSynchronizer secret rotation scheduled
2026-11-21 08:15:24,022 INFO app.pad: {"x " * 230}key {S['straddling']} used
2026-11-21 08:15:25,023 INFO app.long: presented {S['long_known']} to the upstream
2026-11-21 08:15:26,024 INFO app.key: loaded body {S['env_pem_body']} from the key file
2026-11-21 08:15:27,025 INFO app.dump: hex {S['hex_form'].encode().hex()} b64 {base64.urlsafe_b64encode(S['b64url_form'].encode()).decode()}
2026-11-21 08:15:28,026 INFO app.go: {{"webhook":"Tulip\\u0026Garden/2024\\u003cok\\u003e"}} php {{"w":"Tulip\\u0026Garden\\/2024\\u003Cok\\u003E"}}
2026-11-21 08:15:29,027 INFO app.js: every char {EVERY_CHAR_ESCAPED}
2026-11-21 08:15:30,028 INFO app.proxy: GET /cb?w=Tulip%26Garden%2f2024%3cok%3e&next=%2Fcb%3Fw%3DTulip%2526Garden%252F2024%253Cok%253E
2026-11-21 08:15:31,029 INFO app.page: <input value="Tulip&#38;Garden/2024&#60;ok&#62;"> <a title="Tulip&#x26;Garden/2024&#x3c;ok&#x3e;" alt="Tulip&#X26;Garden/2024&#X3C;ok&#X3E;">
2026-11-21 08:15:32,030 INFO app.sql: UPDATE smtp SET password = 'it''sMyPassw0rd' WHERE id = 1
2026-11-21 08:15:33,031 INFO app.sh: + sshpass -p 'it'\\''sMyPassw0rd' ssh mail; {shlex.quote(S['env_quote_spellings'])}
"""

ENV = {
    "STRADDLE_TOKEN": S["straddling"],
    "LONG_UPSTREAM_SECRET": S["long_known"],
    "HEX_PASSWORD": S["hex_form"],
    "B64_PASSWORD": S["b64url_form"],
    "API_JWT_SECRET": S["jwt_2"],
    "AWS_ACCESS_KEY_ID": S["aws_access_key_id"],
    "AWS_SECRET_ACCESS_KEY": S["aws_secret_access_key"],
    "SESSION_SECRET": S["env_hex_session_secret"],
    "SIGNING_KEY": S["env_base64_signing_key"],
    "UPSTREAM_API_KEY": S["env_api_key_also_in_log"],
    "TQ_PASSWORD": S["env_tq_password"],
    "DB_PASS": S["env_db_pass"],
    "NTFY_TOKEN": S["env_html_special"],
    "OPENAI_API_KEY": S["openai_key"],
    "WEBHOOK_SECRET": S["env_special_spellings"],
    "SMTP_PASSWORD": S["env_quote_spellings"],
}

HTTP_JSON = {
    "status": "degraded", "request_id": UUID, "checksum": SHA256_PUBLIC,
    "id_token": JWT_1,
    "db": {"host": "db", "password": S["http_json_password"]},
    "session_id": S["json_session_id"],
    "maps": {"provider": "google", "browser": S["google_api_key"]},
    "billing": {"restricted": S["stripe_restricted"]},
    "next": f"https://api.example.test/v1/items?page=2&api_key={S['http_query_api_key']}",
    "error": "token_expired",
}
HTTP_TEXT = f"""\
HTTP/1.1 302 Found
Set-Cookie: sessionid={S['set_cookie_session']}; Path=/; HttpOnly
Location: /login?flow=password_reset&pass={S['location_pass']}
deploy key of {S['github_fine_grained']} follows
{PEM}
"""

SQL = f"""
CREATE TABLE clients (id int PRIMARY KEY, name text, api_token text, note text, settings text,
                      webhook_url text, checksum text, request_id uuid, order_id text, created_at timestamptz);
INSERT INTO clients VALUES
 (1, 'acme', '{S["sql_secret_column"]}', 'rotated key {S["aws_access_key_id"]} after incident', '{{"smtp_password": "{S["sql_json_password"]}", "port": 587}}',
  'https://hook:{S["sql_url_password"]}@hooks.example.test/cb', '{SHA256_PUBLIC}', '{UUID}', 'ord-20261121-000417', '2026-11-21 08:15:02+00'),
 (2, 'globex', NULL, 'billing via {S["stripe_live"]}', '{{"theme": "dark"}}',
  'https://hooks.example.test/public', '{SHA256_PUBLIC}', '{UUID}', 'ord-20261121-000418', '2026-11-21 08:16:02+00'),
 (3, 'initech', NULL, 'refresh {S["jwt_2"]} and {S["profile_pattern_vault"]}', '{{}}',
  '/var/lib/app/uploads/report-2026-11.csv', '{SHA256_PUBLIC}', '{UUID}', 'ord-20261121-000419', '2026-11-21 08:17:02+00');
"""

ENTRY = {
    "id": "leaky-service", "title": "A service that spills secrets everywhere", "category": "service",
    "severity": "high", "summary": "Every source of this service holds secrets; the report must hold none.",
    "causes": [{"id": "spill", "title": "Secrets in evidence", "text": "Secrets are everywhere."}],
    "checks": [
        {"id": "client-rows", "kind": "sql", "title": "Client rows", "expects": "no client row",
         "database": "clients", "cause": "spill", "symptom": True, "expect": {"rows": 0},
         "query": "SELECT id, name, api_token, note, settings, webhook_url, checksum, request_id, order_id, "
                  "created_at FROM clients ORDER BY id",
         "message": {"pass": "no client", "fail": "{count} client row(s); first: {name} {note}"}},
        {"id": "audit-rows", "kind": "sql", "title": "Clients seen by the audit role", "expects": "none",
         "database": "audit", "cause": "spill", "expect": {"rows": 0},
         "query": "SELECT name, note, webhook_url FROM clients ORDER BY id",
         "message": {"pass": "none", "fail": "{count} audited row(s), last webhook {webhook_url}"}},
        {"id": "app-log", "kind": "log", "title": "Every app log line", "expects": "no line", "log": "app",
         "pattern": "app\\.", "last": 100, "expect": {"max": 0}, "cause": "spill",
         "message": {"pass": "quiet", "fail": "{count} line(s); last: {last}"}},
        {"id": "backend-env", "kind": "env", "title": "Backend secrets are set", "expects": "present",
         "env": "backend", "keys": sorted(ENV), "expect": {"present": True}},
        {"id": "debug-json", "kind": "http", "title": "Debug JSON", "expects": "status ok", "endpoint": "svc",
         "path": "/debug", "cause": "spill", "expect": {"json": {"path": "status", "equals": "ok"}}},
        {"id": "debug-text", "kind": "http", "title": "Debug text", "expects": "200", "endpoint": "svc",
         "path": "/raw", "expect": {"status": 200}},
        {"id": "quotes-db", "kind": "sql", "title": "Quoted-password DSN logs in", "expects": "one row",
         "database": "quotes", "query": "SELECT current_user AS who", "expect": {"rows": 1},
         "message": {"pass": "logged in as {who}", "fail": "no"}},
        {"id": "escaped-db", "kind": "sql", "title": "Escaped-password DSN logs in", "expects": "one row",
         "database": "escaped", "query": "SELECT current_user AS who", "expect": {"rows": 1},
         "message": {"pass": "logged in as {who}", "fail": "no"}},
        {"id": "audit-log", "kind": "log", "title": "Audit log by command", "expects": "a line", "log": "audit",
         "pattern": "audit", "expect": {"min": 1}},
        {"id": "at-endpoint", "kind": "http", "title": "Endpoint with @ in its password", "expects": "200",
         "endpoint": "svc_at", "path": "/debug", "expect": {"status": 200}},
        {"id": "redirect", "kind": "http", "title": "A redirect", "expects": "200", "endpoint": "svc",
         "path": "/moved", "cause": "spill", "expect": {"status": 200}},
    ],
    "solutions": [{"id": "rotate", "title": "Rotate the secrets", "steps": [{"do": "Rotate them.", "risk": "read-only"}]}],
    "examples": [{"name": "leaky", "verdict": "problem", "world": {}},
                 {"name": "healthy", "verdict": "healthy", "world": {}}],
}
MASK_PATTERNS = [r"VAULT-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}", r"badge_pin=(\d{8})"]


@pytest.fixture(scope="module")
def outputs(pg_server, tmp_path_factory):
    """Build the world once, run the CLI in every format; -> {fmt: report text}, plus stdout/err."""
    from diagnose.world import endpoints

    root = tmp_path_factory.mktemp("leaks")
    kb = root / "kb"
    (kb / "service").mkdir(parents=True)
    (kb / "pack.yaml").write_text(yaml.safe_dump({"name": "leaks", "version": "1", "sources": {
        "databases": {"clients": {"description": "c"}, "audit": {"description": "a"},
                      "quotes": {"description": "q"}, "escaped": {"description": "e"}},
        "logs": {"app": {"description": "app log"}, "audit": {"description": "audit log (a command)"}},
        "env": {"backend": {"description": "env"}},
        "endpoints": {"svc": {"description": "debug service"}, "svc_at": {"description": "same, @ in password"}}}}))
    (kb / "service" / "leaky-service.yaml").write_text(yaml.safe_dump(ENTRY, allow_unicode=True))

    dbname = f"leaks_{os.getpid()}"
    pg_server.create_database(dbname, schema_sql=SQL)
    pg_server.create_user("leaky_url", S["dsn_url_password"])
    pg_server.create_user("leaky_kw", S["dsn_keyword_password"])
    pg_server.create_user("leaky_q", S["dsn_url_quotes"])
    pg_server.create_user("leaky_esc", S["dsn_keyword_escaped"])
    pg_server.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO leaky_url, leaky_kw, leaky_q, leaky_esc", dbname)
    url_dsn = pg_server.dsn(dbname, user="leaky_url", password=S["dsn_url_password"])
    kw_dsn = (f"host=127.0.0.1 port={pg_server.port} dbname={dbname} user=leaky_kw "
              f"password='{S['dsn_keyword_password']}'")
    quotes_dsn = f"postgresql://leaky_q:{S['dsn_url_quotes']}@127.0.0.1:{pg_server.port}/{dbname}"
    escaped = S["dsn_keyword_escaped"].replace("'", "\\'")
    escaped_dsn = f"host=127.0.0.1 port={pg_server.port} dbname={dbname} user=leaky_esc password='{escaped}'"
    (root / "app.log").write_text(LOG)
    (root / "backend.env").write_text("".join(f"{k}='{v}'\n" if "'" not in v else f'{k}="{v}"\n'
                                              for k, v in ENV.items())
                                      + f'SIGNING_PRIVATE_KEY="-----BEGIN PRIVATE KEY-----\n{S["env_pem_body"]}\n'
                                        '-----END PRIVATE KEY-----"\n')
    (root / "audit.log").write_text("2026-11-21 08:15:02,123 INFO audit.login: ok\n")
    server = endpoints.make("svc", {"routes": {"/debug": {"json": HTTP_JSON},
                                               "/raw": {"body": HTTP_TEXT, "content_type": "text/plain"},
                                               "/moved": {"status": 302, "headers": {
                                                   "Location": f"https://sso.example.test/cb?user=bob&pass={S['location_pass']}"}}}})
    base = server.start().url
    endpoint = base.replace("http://", f"http://svc:{S['endpoint_url_password']}@")
    at_endpoint = base.replace("http://", f"http://svc:{S['endpoint_at_password']}@")
    command = (f"env PGPASSWORD={S['command_env_assign']} sh -c 'cat \"$0\"' {root / 'audit.log'} "
               f"--password={S['command_password']} -u admin:{S['command_curl_user']}")
    profile = root / "diagnose.yaml"
    profile.write_text(yaml.safe_dump({
        "databases": {"clients": url_dsn, "audit": kw_dsn, "quotes": quotes_dsn, "escaped": escaped_dsn},
        "logs": {"app": str(root / "app.log"), "audit": {"command": command}},
        "env": {"backend": str(root / "backend.env")}, "endpoints": {"svc": endpoint, "svc_at": at_endpoint},
        "mask": MASK_PATTERNS}))
    env = dict(os.environ, DIAGNOSE_CACHE_DIR=str(root / "cache"), PYTHONPATH=str(ROOT))
    env.pop("DIAGNOSE_PROFILE", None)
    env.pop("DIAGNOSE_CHECKS", None)

    def cli(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run([sys.executable, "-m", "diagnose", *args], capture_output=True, text=True,
                              cwd=root, env=env, timeout=120, stdin=subprocess.DEVNULL)
        assert not check or "Traceback" not in proc.stderr, proc.stderr
        return proc

    common = ("leaky-service", "--checks", str(kb), "--profile", str(profile))
    result: dict = {"terminal": ""}
    try:
        for fmt in ("md", "html", "json"):
            out = root / f"report.{fmt}"
            proc = cli(*common, "--format", fmt, "-o", str(out))
            assert proc.returncode == 1, (proc.stdout, proc.stderr)
            result[fmt] = out.read_text(encoding="utf-8")
            result["terminal"] += proc.stdout + proc.stderr
        result["bundle"] = _bundle_text(cli, common, root)
    finally:
        server.stop()
    return result


def _bundle_text(cli, common, root: Path) -> str | None:
    """Every member of the support bundle as text, or None when the CLI cannot write one yet."""
    if "--bundle" not in cli("run", "--help").stdout:
        return None
    target = root / "support.tar.gz"
    proc = cli(*common, "--bundle", str(target), "-o", str(root / "with-bundle.md"), check=False)
    if "Traceback" in proc.stderr and "bundle" in proc.stderr:
        return None  # the option is declared but not wired up yet
    assert proc.returncode == 1 and target.is_file(), (proc.stdout, proc.stderr)
    texts = [proc.stdout, proc.stderr]
    with tarfile.open(target) as archive:
        texts += [archive.extractfile(m).read().decode("utf-8", "replace")
                  for m in archive.getmembers() if m.isfile()]
    return "\n".join(texts)


def _base64_fragments(secret: str) -> set[str]:
    """The base64 text that any encoding of ``secret`` contains, at each of the three byte
    alignments, standard and urlsafe, without the edge characters that depend on neighbours."""
    fragments = set()
    raw = secret.encode()
    for pad in range(3):
        encoded = base64.b64encode(b"\0" * pad + raw).decode().rstrip("=")
        start = {0: 0, 1: 2, 2: 3}[pad]
        end = len(encoded) - (1 if (pad + len(raw)) % 3 else 0)
        core = encoded[start:end]
        if len(core) >= 8:
            fragments |= {core, core.replace("+", "-").replace("/", "_")}
    return fragments


def _forms(secret: str) -> dict[str, str]:
    forms = {"raw": secret, "url-encoded": quote(secret, safe=""), "json-escaped": json.dumps(secret)[1:-1],
             "html-escaped": html.escape(secret),
             "url-lower": re.sub("%[0-9A-F]{2}", lambda m: m[0].lower(), quote(secret, safe="")),
             "url-twice": quote(quote(secret, safe=""), safe=""),
             "json-go": secret.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e"),
             "json-every-char": "".join(f"\\u{ord(c):04x}" for c in secret),
             "json-php": json.dumps(secret)[1:-1].replace("/", "\\/"), "sql-quoted": secret.replace("'", "''"),
             "shell-quoted": secret.replace("'", "'\\''"), "shlex-quoted": shlex.quote(secret)}
    forms.update({f"base64 {f}": f for f in _base64_fragments(secret)})
    return forms


def _leaks(text: str) -> list[str]:
    texts = [text, html.unescape(text)]
    return [f"{name} ({form})" for name, secret in S.items() for form, needle in _forms(secret).items()
            if any(needle in t for t in texts)]


def _strings(node) -> str:
    """Every string of a parsed JSON document, one per line (quotes unescaped)."""
    if isinstance(node, dict):
        return "\n".join(_strings(k) + "\n" + _strings(v) for k, v in node.items())
    if isinstance(node, list):
        return "\n".join(_strings(v) for v in node)
    return node if isinstance(node, str) else ""


def test_at_least_30_distinct_secrets_are_planted():
    assert len(set(S.values())) == len(S) >= 30
    planted = LOG + json.dumps(HTTP_JSON) + HTTP_TEXT + SQL + "".join(ENV.values())
    elsewhere = ("dsn_keyword_password", "endpoint_url_password", "basic_password", "dsn_url_quotes",
                 "dsn_keyword_escaped", "endpoint_at_password", "command_password", "command_curl_user",
                 "command_env_assign", "location_pass", "hex_form", "b64url_form")   # the profile, a header, encoded
    absent = [n for n, s in S.items() if s not in planted and n not in elsewhere]
    assert not absent


def test_a_secret_is_masked_before_anything_is_clipped(outputs):
    """The padded line puts a known secret across the 500-character display cut: no part of it shows."""
    for where in ("md", "html", "json", "bundle"):
        text = html.unescape(outputs[where])
        assert S["straddling"][:10] not in text and S["long_known"][:40] not in text, where
    doc = json.loads(outputs["json"])
    checks = {c["id"]: c for c in doc["checks"]}
    padded = [line["text"] for line in checks["app-log"]["evidence"][0]["lines"] if "app.pad" in line["text"]]
    assert padded and len(padded[0]) <= 501   # clipped for display, after masking
    assert checks["quotes-db"]["status"] == "pass" and checks["escaped-db"]["status"] == "pass"
    assert checks["audit-log"]["status"] == "pass" and checks["at-endpoint"]["status"] == "pass"
    assert checks["redirect"]["status"] == "fail"


@pytest.mark.parametrize("where", ["md", "html", "json", "terminal", "bundle"])
def test_no_secret_reaches_any_output(outputs, where):
    text = outputs[where]
    if text is None:
        pytest.skip("the CLI cannot write a --bundle yet (option missing or not wired up)")
    leaks = _leaks(text)
    assert not leaks, sorted({leak.split(' (')[0] for leak in leaks})
    assert re.search(LABEL, text) or where == "terminal"


# (secret, regexes whose group 1 is the label it got in one place each)
ANCHORS = {
    "jwt_1": [r"realtime rejected token («masked-\d+»)", r'"id_token": "(«masked-\d+»)"'],
    "dsn_url_password": [r"retrying with credentials («masked-\d+»)", r"leaky_url:(«masked-\d+»)@"],
    "aws_secret_access_key": [r"signing with («masked-\d+»)", r"backend:AWS_SECRET_ACCESS_KEY\W+(«masked-\d+»)"],
    "env_api_key_also_in_log": [r"upstream with key («masked-\d+»)", r"backend:UPSTREAM_API_KEY\W+(«masked-\d+»)"],
    "jwt_2": [r"refresh («masked-\d+»)", r"backend:API_JWT_SECRET\W+(«masked-\d+»)"],
    "profile_pattern_vault": [r"unsealed («masked-\d+»)", r"and («masked-\d+»)"],
    "aws_access_key_id": [r"rotated key («masked-\d+»)", r"backend:AWS_ACCESS_KEY_ID\W+(«masked-\d+»)"],
    "openai_key": [r"using («masked-\d+») retry", r"backend:OPENAI_API_KEY\W+(«masked-\d+»)"],
    "log_password_kv": [r"login password=(«masked-\d+»)"],
    "stripe_live": [r"billing via («masked-\d+»)"],
    "github_classic": [r"pushed with («masked-\d+»)"],
}


def _labels(text: str) -> dict[str, str]:
    labels = {}
    for name, patterns in ANCHORS.items():
        found = {m for p in patterns for m in re.findall(p, text)}
        assert len(found) == 1, (name, found)
        labels[name] = found.pop()
    return labels


def test_same_secret_same_label_everywhere_and_across_formats(outputs):
    doc = json.loads(outputs["json"])
    by_format = {"json": _labels(_strings(doc)), "md": _labels(outputs["md"]),
                 "html": _labels(html.unescape(outputs["html"]))}
    assert by_format["md"] == by_format["html"] == by_format["json"]
    labels = by_format["json"]
    assert len(set(labels.values())) == len(labels), labels  # different secrets, different labels


def test_ordinary_evidence_is_still_there(outputs):
    for fmt in ("md", "html", "json"):
        text = html.unescape(outputs[fmt]) if fmt == "html" else outputs[fmt]
        missing = [needle for needle in ORDINARY if needle not in text]
        assert not missing, (fmt, missing)
    doc = json.loads(outputs["json"])
    checks = {c["id"]: c for c in doc["checks"]}
    assert checks["client-rows"]["status"] == "fail"
    assert checks["client-rows"]["message"].startswith("3 client row(s); first: acme rotated key «masked-")
    rows = checks["client-rows"]["evidence"][0]["rows"]
    assert [r[0] for r in rows] == [1, 2, 3] and [r[1] for r in rows] == ["acme", "globex", "initech"]
    assert rows[1][2] is None and rows[2][4] == "{}" and rows[1][5] == "https://hooks.example.test/public"
    assert checks["audit-rows"]["status"] == "fail"  # the keyword DSN's password really logged in
    assert checks["app-log"]["message"].startswith(f"{LOG.count(chr(10))} line(s)")
    assert checks["debug-json"]["status"] == "fail" and checks["debug-text"]["status"] == "pass"
    assert checks["backend-env"]["status"] == "pass"
    values = checks["debug-json"]["evidence"][0]["values"]
    assert values["status"] == 200 and values["json status"] == "degraded"


def test_report_states_what_was_masked_and_how_many_times(outputs):
    masking = json.loads(outputs["json"])["masking"]
    assert masking["secrets"] >= 30 and masking["replacements"] > masking["secrets"]
    assert sum(masking["by_kind"].values()) == masking["replacements"]
    assert {"url-password", "auth-header", "jwt", "api-key", "private-key", "pattern"} <= set(masking["by_kind"])
    kinds = ", ".join(f"{kind} {count}" for kind, count in masking["by_kind"].items())
    line = f"{masking['secrets']} secret(s) masked in {masking['replacements']} place(s) ({kinds})"
    assert line in outputs["md"]
    assert line in html.unescape(outputs["html"])
