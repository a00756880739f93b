from datetime import datetime, timezone

import pytest

from diagnose.checks import env
from diagnose.checks.base import Context
from diagnose.profile import Profile, Resolver


def ctx_for(tmp_path, files: dict[str, str]) -> Context:
    profile = Profile()
    for name, text in files.items():
        (tmp_path / f"{name}.env").write_text(text)
        profile.sources["env"][name] = str(tmp_path / f"{name}.env")
    return Context(timeout=2, now=datetime.now(timezone.utc), resolve=Resolver(profile))


def test_equals(tmp_path):
    ctx = ctx_for(tmp_path, {"trading": "EXECUTION_MODE=PAPER\n"})
    out = env.run({"env": "trading", "key": "EXECUTION_MODE", "expect": {"equals": "LIVE"}}, ctx)
    assert not out.passed and out.vars["value"] == "PAPER"
    out = env.run({"env": "trading", "key": "EXECUTION_MODE", "expect": {"in": ["PAPER", "LIVE"]}}, ctx)
    assert out.passed


def test_keys_present_reports_which_are_missing(tmp_path):
    ctx = ctx_for(tmp_path, {"trading": "BYBIT_API_KEY=abcd1234\nBYBIT_API_SECRET=\n"})
    out = env.run({"env": "trading", "keys": ["BYBIT_API_KEY", "BYBIT_API_SECRET", "BYBIT_CATEGORY"]}, ctx)
    assert not out.passed
    assert out.vars["missing"] == "BYBIT_API_SECRET, BYBIT_CATEGORY"
    assert out.evidence[0].values["trading:BYBIT_CATEGORY"] == "(not set)"


def test_same_as_compares_two_files(tmp_path):
    ctx = ctx_for(tmp_path, {"backend": "API_JWT_SECRET=one-secret-value\n",
                             "realtime": "API_JWT_SECRET=another-value\n"})
    check = {"env": "backend", "key": "API_JWT_SECRET", "same_as": {"env": "realtime", "key": "API_JWT_SECRET"}}
    assert not env.run(check, ctx).passed
    (tmp_path / "realtime.env").write_text("API_JWT_SECRET=one-secret-value\n")
    ctx = ctx_for(tmp_path, {"backend": "API_JWT_SECRET=one-secret-value\n",
                             "realtime": "API_JWT_SECRET=one-secret-value\n"})
    assert env.run(check, ctx).passed


def test_matches_and_lint(tmp_path):
    ctx = ctx_for(tmp_path, {"b": "NTFY_URL=http://ntfy:80\n"})
    assert env.run({"env": "b", "key": "NTFY_URL", "expect": {"matches": "^https?://"}}, ctx).passed
    assert env.lint({"env": "b", "key": "X", "expect": {"matches": "("}})[0][0] == "expect.matches"
    assert env.lint({"env": "b"}) == [("", "an env check needs 'key' or 'keys'")]


# --- params: the expectation takes the deployment's own value -----------------------------------------

TOPIC_NOT_IN_URL = {"env": "backend", "key": "NTFY_URL", "expect": {"not_matches": "/%(topic)s/?$"},
                    "params": {"topic": {"env": "backend", "key": "NTFY_TOPIC"}}}


def test_param_is_regex_escaped_under_not_matches(tmp_path):
    ctx = ctx_for(tmp_path, {"backend": "NTFY_URL=http://ntfy:80/a.b+c\nNTFY_TOPIC=a.b+c\n"})
    out = env.run(TOPIC_NOT_IN_URL, ctx)
    assert not out.passed and out.vars["topic"] == "a.b+c" and out.vars["failing"] == "NTFY_URL"
    assert out.vars["expected"] == "does not match //a\\.b\\+c/?$/"
    # what the unescaped regex /a.b+c/ would also match is another path, not the topic
    ctx = ctx_for(tmp_path, {"backend": "NTFY_URL=http://ntfy:80/aXbbbc\nNTFY_TOPIC=a.b+c\n"})
    assert env.run(TOPIC_NOT_IN_URL, ctx).passed


def test_param_is_regex_escaped_under_matches(tmp_path):
    check = {"env": "backend", "key": "NTFY_URL", "expect": {"matches": "^http://%(host)s(:\\d+)?$"},
             "params": {"host": {"value": "ntfy.local"}}}
    assert env.run(check, ctx_for(tmp_path, {"backend": "NTFY_URL=http://ntfy.local:80\n"})).passed
    assert not env.run(check, ctx_for(tmp_path, {"backend": "NTFY_URL=http://ntfyXlocal:80\n"})).passed


def test_param_under_equals_is_the_value_itself(tmp_path):
    # the mode the trading .env sets is what the desk's copy must say (a literal, not a regex)
    check = {"env": "desk", "key": "EXECUTION_MODE", "expect": {"equals": "%(mode)s"},
             "params": {"mode": {"env": "trading", "key": "EXECUTION_MODE"}}}
    ctx = ctx_for(tmp_path, {"trading": "EXECUTION_MODE=PA.ER\n", "desk": "EXECUTION_MODE=PA.ER\n"})
    out = env.run(check, ctx)
    assert out.passed and out.vars["mode"] == "PA.ER" and out.vars["expected"] == "= PA.ER"
    ctx = ctx_for(tmp_path, {"trading": "EXECUTION_MODE=PA.ER\n", "desk": "EXECUTION_MODE=PAPER\n"})
    assert not env.run(check, ctx).passed


def test_param_missing_skips_and_default_applies(tmp_path):
    from diagnose.checks.base import SkipCheck

    ctx = ctx_for(tmp_path, {"backend": "NTFY_URL=http://ntfy:80/desk-alerts\n"})
    with pytest.raises(SkipCheck, match="needs NTFY_TOPIC from env 'backend', which does not set it"):
        env.run(TOPIC_NOT_IN_URL, ctx)
    with_default = {**TOPIC_NOT_IN_URL,
                    "params": {"topic": {"env": "backend", "key": "NTFY_TOPIC", "default": "desk-alerts"}}}
    out = env.run(with_default, ctx)
    assert not out.passed and out.vars["topic"] == "desk-alerts"


def test_lint_params_of_an_expectation():
    assert env.lint(TOPIC_NOT_IN_URL) == []
    problems = env.lint({**TOPIC_NOT_IN_URL, "params": {"tpc": {"env": "backend", "key": "NTFY_TOPIC"}}})
    assert ("expect", "%(topic)s has no entry in params") in problems
    assert ("params.tpc", "not used by the expectation (no %(tpc)s)") in problems
    assert env.lint({**TOPIC_NOT_IN_URL, "params": {"topic": {"key": "NTFY_TOPIC"}}}) == [
        ("params.topic", "give a literal, {value: X}, {window: 1h}, {setting: NAME} or {env: NAME, key: KEY, default: X}")]
