"""``kind: http`` against real HTTP servers on 127.0.0.1 (see netservers.py)."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from netservers import HttpServer, Route, SilentTcpServer, free_port, self_signed_cert  # noqa: E402

from diagnose.checks import http  # noqa: E402
from diagnose.checks.base import CheckError, CheckTimeout, Context, SkipCheck  # noqa: E402

CONFIG_CHECK = {"id": "api-config", "kind": "http", "endpoint": "api", "path": "/v1/config",
                "expect": {"status": 200, "json": {"path": "EXECUTION_MODE", "equals": "LIVE"}}}


def context(url: str, timeout: float = 2) -> Context:
    return Context(timeout=timeout, now=datetime.now(timezone.utc), resolve=lambda kind, name: url)


def test_pass_on_expected_status_and_json_value():
    with HttpServer({"/v1/config": Route(200, {"EXECUTION_MODE": "LIVE"})}) as server:
        outcome = http.run(CONFIG_CHECK, context(server.url))
    assert outcome.passed
    assert outcome.vars["status"] == 200
    assert outcome.vars["value"] == "LIVE"
    assert outcome.vars["url"] == f"{server.url}/v1/config"
    assert outcome.vars["error"] is None and outcome.vars["elapsed_ms"] >= 0
    values = outcome.evidence[0].values
    assert values["status"] == 200 and values["content_type"] == "application/json"
    assert values["json EXECUTION_MODE"] == "LIVE"
    assert outcome.evidence[1].kind == "text" and "LIVE" in outcome.evidence[1].text


def test_wrong_json_value_fails_with_the_value():
    with HttpServer({"/v1/config": Route(200, {"EXECUTION_MODE": "PAPER"})}) as server:
        outcome = http.run(CONFIG_CHECK, context(server.url))
    assert not outcome.passed
    assert outcome.vars["value"] == "PAPER"
    assert "EXECUTION_MODE is 'PAPER', expected = LIVE" in outcome.vars["reason"]


def test_missing_json_path_fails_and_says_so():
    with HttpServer({"/v1/config": Route(200, {"other": 1})}) as server:
        outcome = http.run(CONFIG_CHECK, context(server.url))
    assert not outcome.passed and outcome.vars["value"] is None
    assert "missing from the JSON body" in outcome.vars["reason"]


def test_json_path_walks_objects_and_lists():
    body = {"data": [{"id": 7, "symbol": "BTCUSDT"}]}
    check = {"endpoint": "api", "path": "/p", "expect": {"json": {"path": "data.0.symbol", "matches": "^BTC"}}}
    with HttpServer({"/p": Route(200, body)}) as server:
        outcome = http.run(check, context(server.url))
    assert outcome.passed and outcome.vars["value"] == "BTCUSDT"


def test_json_path_alone_means_present():
    check = {"endpoint": "api", "path": "/p", "expect": {"json": {"path": "a.b"}}}
    with HttpServer({"/p": Route(200, {"a": {"b": ""}})}) as server:
        assert not http.run(check, context(server.url)).passed
        server.routes["/p"] = Route(200, {"a": {"b": "x"}})
        assert http.run(check, context(server.url)).passed


def test_status_500_fails_against_expected_200():
    with HttpServer({"/v1/config": Route(500, "Internal Server Error")}) as server:
        outcome = http.run({"endpoint": "api", "path": "/v1/config", "expect": {"status": 200}},
                           context(server.url))
    assert not outcome.passed
    assert outcome.vars["status"] == 500
    assert outcome.vars["reason"] == "status 500, expected = 200"
    assert "Internal Server Error" in outcome.evidence[1].text


def test_default_status_expectation_is_2xx_or_3xx():
    with HttpServer({"/health": Route(204), "/gone": Route(404, "no")}) as server:
        assert http.run({"endpoint": "api", "path": "/health"}, context(server.url)).passed
        outcome = http.run({"endpoint": "api", "path": "/gone"}, context(server.url))
    assert not outcome.passed and "expected ≥ 200 and ≤ 399" in outcome.vars["reason"]


def test_invalid_json_body_fails_with_reason():
    with HttpServer({"/v1/config": Route(200, "<html>oops</html>")}) as server:
        outcome = http.run(CONFIG_CHECK, context(server.url))
    assert not outcome.passed
    assert outcome.vars["error"] == "body is not JSON"
    assert outcome.vars["reason"] == "body is not JSON"


def test_body_expectation():
    check = {"endpoint": "api", "path": "/health", "expect": {"body": {"matches": "ok"}}}
    with HttpServer({"/health": Route(200, "status: ok")}) as server:
        assert http.run(check, context(server.url)).passed
        server.routes["/health"] = Route(200, "degraded")
        outcome = http.run(check, context(server.url))
    assert not outcome.passed and "body does not satisfy: matches /ok/" in outcome.vars["reason"]


def test_refused_port_is_a_failure_with_error():
    outcome = http.run(CONFIG_CHECK, context(f"http://127.0.0.1:{free_port()}"))
    assert not outcome.passed
    assert outcome.vars["status"] is None
    assert "connection refused" in outcome.vars["error"]
    assert outcome.evidence[0].values["error"] == outcome.vars["error"]


def test_unresolvable_host_is_a_failure():
    outcome = http.run(CONFIG_CHECK, context("http://no-such-host.invalid:8000"))
    assert not outcome.passed and "cannot resolve host" in outcome.vars["error"]


def test_accepting_but_silent_host_times_out():
    with SilentTcpServer() as server:
        with pytest.raises(CheckTimeout):
            http.run(CONFIG_CHECK, context(server.url, timeout=0.5))
    assert server.accepted == 1


def test_slow_answer_beyond_the_budget_times_out():
    with HttpServer({"/slow": Route(200, "late", delay=5)}) as server:
        with pytest.raises(CheckTimeout):
            http.run({"endpoint": "api", "path": "/slow"}, context(server.url, timeout=0.3))


def test_non_http_answer_is_a_malformed_response_failure():
    with SilentTcpServer(greeting=b"-ERR unknown command\r\n", close_after_greeting=True) as server:
        outcome = http.run(CONFIG_CHECK, context(server.url))
    assert not outcome.passed and outcome.vars["error"].startswith("malformed HTTP response")
    assert "\n" not in outcome.vars["error"]


def test_connection_closed_without_answer_is_a_failure():
    with SilentTcpServer(close_after_greeting=True) as server:
        outcome = http.run(CONFIG_CHECK, context(server.url))
    assert not outcome.passed
    assert outcome.vars["error"] == "the server closed the connection without answering"


def test_same_host_redirect_is_followed():
    routes = {"/v1/config/": Route(307, "", {"Location": "/v1/config"}),
              "/v1/config": Route(200, {"EXECUTION_MODE": "LIVE"})}
    with HttpServer(routes) as server:
        outcome = http.run({**CONFIG_CHECK, "path": "/v1/config/"}, context(server.url))
    assert outcome.passed and outcome.vars["url"] == f"{server.url}/v1/config"
    assert outcome.evidence[0].values["redirected_from"] == [f"{server.url}/v1/config/"]


def test_redirect_to_another_host_is_not_followed():
    with HttpServer() as elsewhere, HttpServer() as server:
        server.routes["/go"] = Route(302, "", {"Location": f"http://localhost:{elsewhere.port}/"})
        outcome = http.run({"endpoint": "api", "path": "/go", "expect": {"status": 200}}, context(server.url))
    assert not outcome.passed and outcome.vars["status"] == 302
    assert outcome.evidence[0].values["location"] == f"http://localhost:{elsewhere.port}/"
    assert elsewhere.requests == []


def test_head_and_headers_are_sent():
    check = {"endpoint": "api", "path": "/health", "method": "head", "headers": {"Accept": "application/json"}}
    with HttpServer({"/health": Route(200, "ok")}) as server:
        outcome = http.run(check, context(server.url))
        method, path, headers = server.requests[0]
    assert outcome.passed and method == "HEAD" and path == "/health"
    assert headers["Accept"] == "application/json"


def test_credentials_in_endpoint_become_basic_auth_and_are_not_shown():
    with HttpServer({"/health": Route(200, "ok")}) as server:
        url = server.url.replace("http://", "http://alice:s3cret@")
        outcome = http.run({"endpoint": "api", "path": "/health"}, context(url))
        headers = server.requests[0][2]
    assert headers["Authorization"] == "Basic YWxpY2U6czNjcmV0"
    assert "s3cret" not in repr(outcome.vars) and "s3cret" not in repr(outcome.evidence)


def test_body_is_read_up_to_the_cap_and_truncated_in_evidence():
    """The kind keeps what the report may need to mask (SOURCE_CHARS); the report clips after masking."""
    from diagnose.clip import CUT, SOURCE_CHARS

    with HttpServer({"/big": Route(200, "x" * (http.BODY_CAP * 2))}) as server:
        outcome = http.run({"endpoint": "api", "path": "/big"}, context(server.url))
    body = outcome.evidence[1]
    assert outcome.passed and f"the first {http.BODY_CAP} bytes were read" in body.title
    assert body.text.endswith(CUT) and len(body.text) <= SOURCE_CHARS + 1


def test_truncated_json_body_says_why_it_is_not_json():
    big = {"rows": ["x" * 100] * 2000}
    check = {"endpoint": "api", "path": "/big", "expect": {"json": {"path": "rows.0"}}}
    with HttpServer({"/big": Route(200, big)}) as server:
        outcome = http.run(check, context(server.url))
    assert not outcome.passed
    assert outcome.vars["reason"] == "body is not JSON (larger than 64 KiB, truncated)"


@pytest.fixture
def certificate(tmp_path):
    pair = self_signed_cert(str(tmp_path))
    if pair is None:
        pytest.skip("needs the openssl command to make a certificate")
    return pair


def test_https_with_a_trusted_certificate_passes(certificate, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", certificate[0])
    with HttpServer({"/health": Route(200, "ok")}, tls=certificate) as server:
        outcome = http.run({"endpoint": "api", "path": "/health"}, context(server.url))
    assert outcome.passed and outcome.vars["url"].startswith("https://")


def test_https_with_an_untrusted_certificate_fails(certificate):
    with HttpServer({"/health": Route(200, "ok")}, tls=certificate) as server:
        outcome = http.run({"endpoint": "api", "path": "/health"}, context(server.url))
    assert not outcome.passed and outcome.vars["error"].startswith("TLS failed: ")
    assert "certificate" in outcome.vars["error"]


def test_host_port_endpoint_is_http():
    with HttpServer({"/health": Route(200, "ok")}) as server:
        assert http.run({"endpoint": "api", "path": "/health"}, context(f"127.0.0.1:{server.port}")).passed


@pytest.mark.parametrize("method", ["POST", "put", "DELETE", "PATCH"])
def test_writing_methods_are_refused_at_run_and_in_lint(method):
    with HttpServer({"/x": Route(200, "ok")}) as server:
        with pytest.raises(CheckError, match="not allowed"):
            http.run({"endpoint": "api", "path": "/x", "method": method}, context(server.url))
    assert server.requests == []
    assert [p for p, _ in http.lint({"endpoint": "api", "method": method})] == ["method"]


@pytest.mark.parametrize("value", ["redis://127.0.0.1:6379/0", "http://host:notaport"])
def test_unusable_endpoint_is_a_check_error(value):
    with pytest.raises(CheckError, match="endpoint api"):
        http.run(CONFIG_CHECK, context(value))


def test_unconfigured_endpoint_skips():
    def resolve(kind, name):
        raise SkipCheck(f"no endpoint named {name}")

    ctx = Context(timeout=1, now=datetime.now(timezone.utc), resolve=resolve)
    with pytest.raises(SkipCheck):
        http.run(CONFIG_CHECK, ctx)


def test_lint():
    assert http.lint(CONFIG_CHECK) == []
    problems = dict(http.lint({"endpoint": "api", "path": "v1", "method": "HEAD", "expect": {
        "status": {"matches": "("}, "json": {"path": "a", "matches": "["}, "body": {"not_matches": ")"},
        "bogus": 1}}))
    assert set(problems) == {"path", "expect.status.matches", "expect.json.matches", "expect.body.not_matches",
                             "expect.bogus", "expect.json"}
    assert "json needs a `path`" in dict(http.lint({"endpoint": "api", "expect": {"json": {"equals": 1}}}))["expect.json"]


def test_manual_command():
    assert http.manual(CONFIG_CHECK) == 'curl -sS -i "$ENDPOINT_api/v1/config"'
    check = {"endpoint": "api", "path": "/health", "method": "HEAD", "headers": {"Accept": "application/json"}}
    assert http.manual(check) == "curl -sS -I -H 'Accept: application/json' \"$ENDPOINT_api/health\""


def test_schema_documents_every_field():
    for name, prop in http.SCHEMA["properties"].items():
        assert prop.get("description"), name
    assert http.SCHEMA["required"] == ["endpoint"]


# --- params: the running service is compared with the deployment's own value -----------------------------

MODE_AS_CONFIGURED = {"id": "api-mode", "kind": "http", "endpoint": "api", "path": "/v1/config",
                      "expect": {"status": 200, "json": {"path": "EXECUTION_MODE", "equals": "%(mode)s"}},
                      "params": {"mode": {"env": "trading", "key": "EXECUTION_MODE"}}}


def context_with_env(url: str, env: dict[str, dict[str, str]]) -> Context:
    def resolve(kind, name):
        if kind == "endpoints":
            return url
        if name not in env:
            raise SkipCheck(f"env '{name}' is not configured")
        return env[name]

    return Context(timeout=2, now=datetime.now(timezone.utc), resolve=resolve)


def test_json_equals_the_value_the_deployment_itself_sets():
    with HttpServer({"/v1/config": Route(200, {"EXECUTION_MODE": "PAPER"})}) as server:
        paper = http.run(MODE_AS_CONFIGURED, context_with_env(server.url, {"trading": {"EXECUTION_MODE": "PAPER"}}))
        live = http.run(MODE_AS_CONFIGURED, context_with_env(server.url, {"trading": {"EXECUTION_MODE": "LIVE"}}))
    assert paper.passed and paper.vars["mode"] == "PAPER" and paper.vars["value"] == "PAPER"
    assert not live.passed and live.vars["mode"] == "LIVE"
    assert "EXECUTION_MODE is 'PAPER', expected = LIVE" in live.vars["reason"]


def test_a_missing_param_skips_before_probing():
    with HttpServer({"/v1/config": Route(200, {"EXECUTION_MODE": "PAPER"})}) as server:
        with pytest.raises(SkipCheck, match="needs EXECUTION_MODE from env 'trading', which is not configured"):
            http.run(MODE_AS_CONFIGURED, context_with_env(server.url, {}))
        with pytest.raises(SkipCheck, match="needs EXECUTION_MODE from env 'trading', which does not set it"):
            http.run(MODE_AS_CONFIGURED, context_with_env(server.url, {"trading": {}}))
        defaulted = {**MODE_AS_CONFIGURED,
                     "params": {"mode": {"env": "trading", "key": "EXECUTION_MODE", "default": "PAPER"}}}
        assert http.run(defaulted, context_with_env(server.url, {})).passed


def test_a_whole_string_placeholder_keeps_a_number_a_number():
    # `max` compares numbers: a limit written '%(limit)s' must stay 3, not become the text '3'
    check = {"endpoint": "api", "path": "/v1/risk", "params": {"limit": 3},
             "expect": {"json": {"path": "open_lots", "max": "%(limit)s"}}}
    with HttpServer({"/v1/risk": Route(200, {"open_lots": 2})}) as server:
        assert http.run(check, context(server.url)).passed
        server.routes["/v1/risk"] = Route(200, {"open_lots": 5})
        outcome = http.run(check, context(server.url))
    assert not outcome.passed and outcome.vars["limit"] == 3
    assert outcome.vars["reason"] == "open_lots is 5, expected ≤ 3"


def test_a_placeholder_inside_a_text_is_filled_as_text_and_escaped_in_a_regex():
    check = {"endpoint": "api", "path": "/v1/config", "params": {"tenant": {"value": "a.b+c"}},
             "expect": {"json": {"path": "topic", "equals": "alerts-%(tenant)s"},
                        "body": {"matches": "\"tenant\": \"%(tenant)s\""}}}
    body = {"topic": "alerts-a.b+c", "tenant": "a.b+c"}
    with HttpServer({"/v1/config": Route(200, body)}) as server:
        assert http.run(check, context(server.url)).passed
        server.routes["/v1/config"] = Route(200, {"topic": "alerts-a.b+c", "tenant": "aXbbbc"})
        outcome = http.run(check, context(server.url))
    assert not outcome.passed and "body does not satisfy" in outcome.vars["reason"]


def test_lint_params_of_an_expectation():
    assert http.lint(MODE_AS_CONFIGURED) == []
    problems = http.lint({**MODE_AS_CONFIGURED, "params": {"mod": {"env": "trading", "key": "EXECUTION_MODE"}}})
    assert ("expect", "%(mode)s has no entry in params") in problems
    assert ("params.mod", "not used by the expectation (no %(mod)s)") in problems
    assert http.lint({**MODE_AS_CONFIGURED, "params": {"mode": {"env": "trading"}}}) == [
        ("params.mode", "give a literal, {value: X}, {window: 1h}, {setting: NAME} or {env: NAME, key: KEY, default: X}")]
