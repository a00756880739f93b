from datetime import datetime, timezone

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
