import pytest

from diagnose.checks.base import CheckError, SkipCheck
from diagnose.profile import ProfileError, Resolver, apply_overrides, load_profile, parse_env_file

PROFILE = """\
databases: {trading: "postgresql://app:hunter2pass@db:5432/trading", desk: "${DESK_DSN}"}
logs:
  execution: logs/execution*.log
  backend: {command: "docker compose logs --no-color --timestamps backend"}
env: {trading: trading.env, proc: {process: true}}
endpoints: {api: "http://127.0.0.1:8000"}
"""


def test_profile_maps_names_to_places(tmp_path, monkeypatch):
    (tmp_path / "diagnose.yaml").write_text(PROFILE)
    (tmp_path / "trading.env").write_text("EXECUTION_MODE=LIVE\nBYBIT_API_SECRET=abc123secret\n")
    monkeypatch.setenv("DESK_DSN", "postgresql://desk@h/desk")
    resolve = Resolver(load_profile(tmp_path / "diagnose.yaml"))
    assert resolve("databases", "trading").endswith("@db:5432/trading")
    assert resolve("databases", "desk") == "postgresql://desk@h/desk"
    log = resolve("logs", "execution")
    assert log.paths == (str(tmp_path / "logs" / "execution*.log"),)  # relative to the profile file
    assert resolve("logs", "backend").command[:3] == ("docker", "compose", "logs")
    assert resolve("env", "trading")["EXECUTION_MODE"] == "LIVE"
    assert resolve("env", "proc")["DESK_DSN"] == "postgresql://desk@h/desk"
    assert resolve("endpoints", "api") == "http://127.0.0.1:8000"
    from diagnose.masking import Masker

    masker = Masker()
    resolve.register_secrets(masker)
    masked = masker.mask_text("user typed hunter2pass and abc123secret", shapes=False)
    assert "hunter2pass" not in masked and "abc123secret" not in masked


def test_unset_variable_and_unconfigured_source_skip_with_a_reason(tmp_path, monkeypatch):
    (tmp_path / "diagnose.yaml").write_text(PROFILE)
    monkeypatch.delenv("DESK_DSN", raising=False)
    resolve = Resolver(load_profile(tmp_path / "diagnose.yaml"))
    with pytest.raises(SkipCheck, match=r"\$\{DESK_DSN\}, which is not set"):
        resolve("databases", "desk")
    with pytest.raises(SkipCheck, match="endpoint 'ntfy' is not configured .*--endpoint ntfy="):
        resolve("endpoints", "ntfy")


def test_overrides_replace_single_entries(tmp_path):
    (tmp_path / "diagnose.yaml").write_text(PROFILE)
    profile = load_profile(tmp_path / "diagnose.yaml")
    apply_overrides(profile, "databases", ("trading=postgresql://other/db",), "--dsn")
    assert Resolver(profile)("databases", "trading") == "postgresql://other/db"
    with pytest.raises(ProfileError, match="a --dsn value: expected NAME=VALUE"):
        apply_overrides(profile, "databases", ("trading",), "--dsn")


def test_bad_profile_names_file_line_and_field(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("databases:\n  trading: 5432\n")
    with pytest.raises(ProfileError, match=r"p.yaml:2: databases.trading: 5432 is not of type 'string'"):
        load_profile(path)
    path.write_text("databses: {}\n")
    with pytest.raises(ProfileError, match=r"p.yaml:1: .*'databses' was unexpected"):
        load_profile(path)
    with pytest.raises(ProfileError, match="profile file not found"):
        load_profile(tmp_path / "missing.yaml")


def test_a_schema_error_does_not_quote_the_value(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text('databases:\n  trading: {dsn: "postgresql://app:Pa#ss99word@db/x", bogus: 1}\n')
    with pytest.raises(ProfileError) as caught:
        load_profile(path)
    assert str(caught.value) == f"{path}:2: databases.trading: this value is not of type 'string'"


def test_env_file_syntax(tmp_path):
    path = tmp_path / ".env"
    path.write_text("# comment\nexport A=1\nB='two words'\nC=\"x\\ny\"\nD=plain # trailing comment\nE=\n")
    assert parse_env_file(path) == {"A": "1", "B": "two words", "C": "x\ny", "D": "plain", "E": ""}
    path.write_text("A=1\nthis is not an assignment\n")
    with pytest.raises(CheckError, match=r"\.env:2: not a KEY=value line"):
        parse_env_file(path)
    with pytest.raises(CheckError, match="does not exist"):
        parse_env_file(tmp_path / "missing.env")


def test_validation_result_is_cached_by_content(tmp_path, monkeypatch):
    monkeypatch.setenv("DIAGNOSE_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "p.yaml"
    path.write_text(PROFILE)
    load_profile(path)
    assert len(list((tmp_path / "cache" / "profiles").iterdir())) == 1
    load_profile(path)  # served by the marker
    path.write_text("databases:\n  trading: 5432\n")  # new content is validated again, and rejected
    with pytest.raises(ProfileError, match="5432 is not of type 'string'"):
        load_profile(path)
