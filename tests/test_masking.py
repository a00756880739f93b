"""Masking: planted secrets of every shape disappear, ordinary evidence stays readable."""

from __future__ import annotations

import re

import pytest

from diagnose.masking import LABEL_RE, Masker, MaskingError, key_looks_secret, looks_random

JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJyb2xlIjoiYW5vbiJ9.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk"

# (text with a planted secret, the secret) - each must vanish from mask_text's output
PLANTED = [
    ("DATABASE_URL=postgresql://desk:Pa55-w0rd@db:5432/desk", "Pa55-w0rd"),
    ("redis://:r3d1sPass@cache:6379/0", "r3d1sPass"),
    ("DATABASE_URL=postgresql://app:Pa#ss99word@db/x", "Pa#ss99word"),      # libpq takes "#" and "?" there
    ("dsn 'postgresql://app:Pa?ss77word@db:5432/x'", "Pa?ss77word"),
    ("host=db user=desk password=kw-Secret99 dbname=desk", "kw-Secret99"),
    ('API_JWT_SECRET="my super secret value"', "my super secret value"),
    ("BYBIT_API_SECRET='quoted-secret-42'", "quoted-secret-42"),
    ('{"password": "json-pass-123", "user": "bob"}', "json-pass-123"),
    ("SUPABASE_SERVICE_ROLE_KEY: svc-role-key-value-1", "svc-role-key-value-1"),
    ("TQ_PASSWORD=tq-pw-7788", "tq-pw-7788"),
    ("POLAR_PUSH_TOKEN=ptok_7Yk2Lq9Wd3Xs", "ptok_7Yk2Lq9Wd3Xs"),
    ("GET /notify?topic=desk&access_token=qs-token-5566 HTTP/1.1", "qs-token-5566"),
    ("Authorization: Bearer abcDEF123456ghiJKL789", "abcDEF123456ghiJKL789"),
    ("authorization=Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA=="),
    ('curl -H "X-Api-Key: header-key-0099" http://api', "header-key-0099"),
    (f"realtime rejected token {JWT} (signature_error)", JWT),
    ("openai key sk-proj-abcdefghijklmnopqrstuvwx used", "sk-proj-abcdefghijklmnopqrstuvwx"),
    ("aws AKIAIOSFODNN7EXAMPLE region", "AKIAIOSFODNN7EXAMPLE"),
    ("gh token ghp_abcdefghijklmnopqrstuvwxyz0123456789 push", "ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
    ("slack xoxb-123456789012-abcdefghij posted", "xoxb-123456789012-abcdefghij"),
    ("stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
    ("apiKey=camel-case-key-11", "camel-case-key-11"),
    ("PGPASSWORD=pg-env-pass-1 psql", "pg-env-pass-1"),
    ("Cookie: theme=dark; session=SessCookie7Hq2vXw9LmN4", "SessCookie7Hq2vXw9LmN4"),
    ("Cookie: csrftoken=x7Yk2Lq9Wd3Xs; lang=en", "x7Yk2Lq9Wd3Xs"),
    ("SESSION_COOKIE=plain-cookie-secret-1 and cookie: bare-cookie-value-2", "plain-cookie-secret-1"),
    ("cookie: bare-cookie-value-2", "bare-cookie-value-2"),
    ("Set-Cookie: sessionid=8c1f5a0e9b2d4c7fa3e6d1b0; Path=/; HttpOnly", "8c1f5a0e9b2d4c7fa3e6d1b0"),
    ('{"session_id": "sess_4KxQ9mZ2pL7vR3wT8nB5", "user": 7}', "sess_4KxQ9mZ2pL7vR3wT8nB5"),
    ("JSESSIONID=node0abc123def456 on /app", "node0abc123def456"),
    ("publish npm_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8 done", "npm_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"),
    ("sendgrid 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 failed",
     "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"),
    ("POST https://api.telegram.org/bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/sendMessage",
     "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"),
    ("hub hf_AbCdEfGhIjKlMnOpQrStUvWxYz01234567 pull", "hf_AbCdEfGhIjKlMnOpQrStUvWxYz01234567"),
    ("callback signature mF3kT9qW2xZ7bL4nR8vC1yH6jD5sG0aP verified", "mF3kT9qW2xZ7bL4nR8vC1yH6jD5sG0aP"),
    ("reset link https://app.example.test/reset/Qm7Xk2Lp9Vz4Rt8Wn3Bc6Hy1/confirm", "Qm7Xk2Lp9Vz4Rt8Wn3Bc6Hy1"),
    ("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA1234\n-----END RSA PRIVATE KEY-----", "MIIEowIBAAKCAQEA1234"),
]

ORDINARY = [
    "2026-11-21 08:15:02,123 ERROR execution.position_sync: position_sync_failed: 401 Unauthorized",
    "2026-11-21 08:15:02.123 UTC [4711] FATAL:  sorry, too many clients already",
    'INFO:     127.0.0.1:50412 - "GET /health HTTP/1.1" 200 OK',
    "backend-1  | position_mutex_blocked id=3f2b1c9e-8d7a-4b6c-9e5f-1a2b3c4d5e6f",
    "commit 4b825dc642cb6eb9a060e54bf8d69288fbee4904 sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "ErrorConnectingToWebsocket: {:error, :signature_error}",
    "行情数据不足 symbol=rb2501 count=42 price=3512.5",
    'password authentication failed for user "desk"',
    "TOKEN_TTL=3600 PASSWORD_FILE=/run/secrets/pw PWD=/home/desk max_tokens=100 primary_key=id",
    "key=EXECUTION_MODE value=LIVE status: OPEN",
    "WebSocket disconnected (code 1006), reconnecting in 5s",
    "export API_JWT_SECRET=$API_JWT_SECRET; DB_PASSWORD=${DB_PASSWORD} token=<your token> password=****",
    "https://api.bybit.com/v5/position/list?category=linear&symbol=BTCUSDT",
    "trace 01HQZ3K8M6P4R7T9V2X5Y8B1C3 pod backend-7d9f8c6b5d-x2k4q raised PositionSyncTimeoutError",
    "at com.example.trading.PositionSynchronizer.getUserById2FactorAuthV3Handler(Sync.java:42)",
    "image sha256:9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08 request_id=req_0042",
    "Set-Cookie attributes logged: cookie_policy=strict session_timeout=1800 token_expired password_reset",
    "order ord-20261121-000417 qty=0.250 client_order_id=BTCUSDT-1h-20261121T081502Z",
]


@pytest.mark.parametrize("text,secret", PLANTED)
def test_every_planted_shape_is_masked(text, secret):
    masked = Masker().mask_text(text)
    assert secret not in masked
    assert LABEL_RE.search(masked)


def test_all_planted_secrets_vanish_from_one_combined_text():
    text = "\n".join(t for t, _ in PLANTED)
    masker = Masker()
    masked = masker.mask_text(text)
    assert not [s for _, s in PLANTED if s in masked]
    assert masker.summary()["secrets"] == len(PLANTED)


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_evidence_survives(text):
    masker = Masker()
    assert masker.mask_text(text) == text
    assert masker.summary() == {"secrets": 0, "replacements": 0, "by_kind": {}}


def test_structure_around_a_secret_is_kept():
    masked = Masker().mask_text("postgresql://desk:Pa55-w0rd@db:5432/desk?sslmode=require")
    assert masked == "postgresql://desk:«masked-1»@db:5432/desk?sslmode=require"
    assert Masker().mask_text('{"password": "p4ss-word"}') == '{"password": "«masked-1»"}'


def test_a_url_password_with_hash_keeps_the_host_and_an_at_in_the_query_is_not_a_password():
    assert Masker().mask_text("postgresql://app:Pa#ss99word@db/x") == "postgresql://app:«masked-1»@db/x"
    masked = Masker().mask_text("https://u:Pw-12345@host?email=a@b.example")
    assert masked == "https://u:«masked-1»@host?email=a@b.example"


def test_same_secret_same_label_different_secrets_different_labels():
    masker = Masker()
    first = masker.mask_text("backend API_JWT_SECRET=jwt-secret-AAA1")
    second = masker.mask_text("realtime API_JWT_SECRET=jwt-secret-BBB2")
    again = masker.mask_text("backend echoes jwt-secret-AAA1 in a bare log line")
    assert first.endswith("«masked-1»") and second.endswith("«masked-2»")
    assert again == "backend echoes «masked-1» in a bare log line"


def test_registered_secrets_are_masked_by_value_anywhere():
    masker = Masker(secrets=["TopSecret-123"])
    masker.add("hunter2-xyz")
    masked = masker.mask_text("login with TopSecret-123 failed; retry hunter2-xyz")
    assert masked == "login with «masked-1» failed; retry «masked-2»"
    assert masker.summary()["by_kind"] == {"value": 2}


def test_short_known_secrets_are_masked_only_by_key_context():
    masker = Masker(secrets=["abc"])
    assert masker.mask_text("abc appears in abcdef and abc") == "abc appears in abcdef and abc"
    assert masker.mask_text("PASSWORD=abc") == "PASSWORD=«masked-1»"
    assert masker.mask({"DB_PASSWORD": "abc"}) == {"DB_PASSWORD": "«masked-1»"}


def test_known_secret_is_not_masked_inside_longer_words():
    masker = Masker(secrets=["desk-pw"])
    assert masker.mask_text("desk-pw desk-pwx xdesk-pw") == "«masked-1» desk-pwx xdesk-pw"


def test_plain_words_found_by_context_are_not_masked_everywhere():
    masker = Masker()
    masker.mask_text("postgresql://postgres:postgres@localhost/desk")
    assert masker.mask_text("FATAL: role postgres does not exist") == "FATAL: role postgres does not exist"


def test_mask_is_recursive_and_masks_secret_keys_entirely():
    masker = Masker()
    profile = {
        "databases": {"desk": "postgresql://desk:Pa55-w0rd@db/desk"},
        "env": {"backend": {"API_KEY": "whole-value", "TQ_USER": "alice", "enabled": True,
                            "credentials": {"user": "u", "pass": "nested-pass"}, "API_JWT_SECRET": "(not set)"}},
        "list": [("sk-abcdefghijklmnopqrstuvwx",), 3, None],
    }
    masked = masker.mask(profile)
    assert masked["databases"]["desk"] == "postgresql://desk:«masked-1»@db/desk"
    backend = masked["env"]["backend"]
    assert backend["API_KEY"].startswith("«masked-") and backend["TQ_USER"] == "alice"
    assert backend["enabled"] is True and backend["API_JWT_SECRET"] == "(not set)"
    assert set(backend["credentials"].values()) <= {"«masked-3»", "«masked-4»"}
    assert masked["list"] == [["«masked-5»"], 3, None]
    assert "whole-value" not in repr(masked) and "nested-pass" not in repr(masked)


def test_table_evidence_masks_secret_columns():
    evidence = {"kind": "rows", "columns": ["tenant", "jwt_secret", "updated_at"],
                "rows": [["realtime", "tenant-secret-1", "2026-11-21 08:00:00"]]}
    masked = Masker().mask(evidence)
    assert masked["rows"] == [["realtime", "«masked-1»", "2026-11-21 08:00:00"]]
    assert masked["columns"] == evidence["columns"]


def test_profile_patterns_mask_their_group_or_whole_match():
    masker = Masker(patterns=[r"acct-(\d{6})", r"(?P<secret>INT-[A-Z]{4})-tail", r"PIN\d{4}"])
    masked = masker.mask_text("acct-123456 INT-ABCD-tail PIN1234")
    assert masked == "acct-«masked-1» «masked-2»-tail «masked-3»"
    assert masker.summary()["by_kind"] == {"pattern": 3}


def test_invalid_profile_pattern_is_one_clear_error():
    with pytest.raises(MaskingError, match=r"masking pattern '\(unclosed' is not a valid regex"):
        Masker(patterns=["(unclosed"])


def test_masking_is_idempotent():
    masker = Masker()
    once = masker.mask_text("\n".join(t for t, _ in PLANTED))
    assert masker.mask_text(once) == once


def test_add_dsn_registers_the_password_of_both_dsn_forms():
    masker = Masker()
    masker.add_dsn("postgresql://desk:url-pass-1@db/desk")
    masker.add_dsn("host=db user=desk password='kw pass 2'")
    assert masker.mask_text("echo url-pass-1 kw pass 2") == "echo «masked-1» «masked-2»"


def test_add_env_registers_only_secret_looking_keys():
    masker = Masker()
    masker.add_env({"API_JWT_SECRET": "env-jwt-secret", "EXECUTION_MODE": "LIVE", "TQ_PASSWORD": "$TQ_PW"})
    assert masker.mask_text("LIVE env-jwt-secret $TQ_PW") == "LIVE «masked-1» $TQ_PW"


def test_learn_discovers_without_counting():
    masker = Masker()
    masker.learn({"API_KEY": "learned-key-77"})
    assert masker.summary()["replacements"] == 0
    assert masker.mask_text("log: learned-key-77") == "log: «masked-1»"
    assert masker.summary() == {"secrets": 1, "replacements": 1, "by_kind": {"field": 1}}  # kind first seen


def test_summary_counts_by_kind():
    masker = Masker()
    masker.mask_text(f"Authorization: Bearer {JWT} postgresql://u:pw-999x@h/db AKIAIOSFODNN7EXAMPLE")
    summary = masker.summary()
    assert summary["secrets"] == 3 and summary["replacements"] == 3
    assert set(summary["by_kind"]) <= {"jwt", "auth-header", "url-password", "api-key"}
    assert re.fullmatch(r"«masked-\d+»", "«masked-3»")


@pytest.mark.parametrize("key,secret", [
    ("API_KEY", True), ("SUPABASE_ANON_KEY", True), ("SERVICE_ROLE_KEY", True), ("PGPASSWORD", True),
    ("backend:API_JWT_SECRET", True), ("X-Api-Key", True), ("apiKey", True), ("DB_PASS", True),
    ("client_credentials", True), ("PRIVATE_KEY", True), ("Authorization", True), ("session_cookie", True),
    ("key", False), ("primary_key", False), ("public_key", False), ("TOKEN_TTL", False), ("PWD", False),
    ("PASSWORD_FILE", False), ("max_tokens", False), ("TQ_USER", False), ("DATABASE_URL", False), ("id", False),
])
def test_key_names(key, secret):
    assert key_looks_secret(key) is secret


def test_cookie_attributes_and_other_header_text_stay():
    masked = Masker().mask_text("Set-Cookie: sid=Zx81Qw77Lp0aa; Path=/; Max-Age=3600; SameSite=Lax; HttpOnly")
    assert masked == "Set-Cookie: sid=«masked-1»; Path=/; Max-Age=3600; SameSite=Lax; HttpOnly"
    assert Masker().mask_text("Cookie: theme=dark; lang=en") == "Cookie: theme=dark; lang=en"


def test_a_cookie_found_once_is_masked_bare_elsewhere():
    masker = Masker()
    masker.mask_text("Cookie: session=SessCookie7Hq2vXw9LmN4")
    assert masker.mask_text("user SessCookie7Hq2vXw9LmN4 logged out") == "user «masked-1» logged out"


def test_a_short_dsn_password_is_masked_inside_a_url_encoded_url():
    """``%3A`` before the password ends in a letter: it once counted as part of a longer word."""
    masker = Masker()
    masker.add_dsn("postgresql://app:hunter2pw@db:5432/trading")
    assert masker.mask_text("?target=postgresql%3A%2F%2Fapp%3Ahunter2pw%40db") == \
        "?target=postgresql%3A%2F%2Fapp%3A«masked-1»%40db"
    assert masker.mask_text("next=app%3ahunter2pw%40db&u=app%253Ahunter2pw%2540db") == \
        "next=app%3a«masked-1»%40db&u=app%253A«masked-1»%2540db"
    assert masker.mask_text("xhunter2pw hunter2pw3 hunter2pw") == "xhunter2pw hunter2pw3 «masked-1»"


def test_url_encoded_dsn_password_shares_its_label_with_the_decoded_one():
    masker = Masker()
    masker.add_dsn("postgresql://app:p%40ss%21word-9@db/app")
    masked = masker.mask_text("dsn postgresql://app:p%40ss%21word-9@db/app; server saw p@ss!word-9")
    assert masked == "dsn postgresql://app:«masked-1»@db/app; server saw «masked-1»"


@pytest.mark.parametrize("token,random", [
    ("mF3kT9qW2xZ7bL4nR8vC1yH6jD5sG0aP", True), ("Zr8Qp2Lw7Ks4Nd9Xv3Bm6Hc1Jf5Ty0Ga", True),
    ("PositionSyncTimeoutError", False), ("01HQZ3K8M6P4R7T9V2X5Y8B1C3", False),
    ("4b825dc642cb6eb9a060e54bf8d69288fbee4904", False), ("getUserById2FactorAuthV3Handler", False),
    ("BTCUSDT-1h-20261121T081502Z", False), ("backend-7d9f8c6b5d-x2k4q", False),
])
def test_looks_random(token, random):
    assert looks_random(token) is random


def test_session_id_keys_are_secret():
    assert key_looks_secret("session_id") and key_looks_secret("sessionId") and key_looks_secret("PHPSESSID")
    assert not key_looks_secret("session_timeout") and not key_looks_secret("user_id")


@pytest.mark.parametrize("text, secret", [("数据库密码：Zh0ngWenMiMa99", "Zh0ngWenMiMa99"), ("API密钥=sk9f8g7h6j5k", "sk9f8g7h6j5k"),
                                          ("令牌: abcd1234efgh", "abcd1234efgh"), ("私钥＝k3y-v4lue-x", "k3y-v4lue-x")])
def test_a_secret_after_a_chinese_label_is_masked(text, secret):
    from diagnose.masking import Masker

    assert secret not in Masker().mask_text(text)


@pytest.mark.parametrize("text", ["密码错误，请重试", "密码: 已重置", "修改密码：成功", "令牌过期"])
def test_chinese_words_about_a_secret_are_not_masked(text):
    from diagnose.masking import Masker

    assert Masker().mask_text(text) == text
