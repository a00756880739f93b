"""Fixed runs for the report tests: Entry/Pack/CheckResult/Run built directly (no KB loader).

Three scenarios, each a real ``Run``: ``stale-positions`` (problem, exit 1, with secrets and
hostile text planted in the evidence), ``healthy`` (exit 0), ``inconclusive`` (exit 3: error,
timeout and skip). Times, host and paths are fixed so rendered reports are reproducible.

Every test speaks English unless it asks for another language (``speak("zh")``), whatever the
locale of the machine; :func:`in_chinese` gives a run as a pack loaded in Chinese would (the
knowledge base's texts translated, evidence and the tool's own messages as they are).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from diagnose import i18n
from diagnose.checks.base import CheckResult, Evidence, Status
from diagnose.kb.model import Cause, Check, Entry, FixPolicy, Pack, Solution, Step
from diagnose.runner import Run

STARTED = datetime(2026, 11, 21, 8, 15, 2, 123000, tzinfo=timezone.utc)
GENERATED = STARTED + timedelta(seconds=2)
JWT = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIiwiaXNzIjoic3VwYWJhc2UifQ."
       "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA")
# every secret planted in the scenarios: none may appear in any rendered report
SECRETS = {
    "desk_password": "Desk-Pa55w0rd",
    "bybit_key": "BybitKey-9f8e7d6c5b",
    "bybit_secret": "bYb1tS3cretValue==",
    "jwt_secret": "super-secret-jwt-token-with-at-least-32-characters",
    "service_role": JWT,
    "polar_token": "ptok_7Yk2Lq9Wd3Xs",
    "bearer": "abcDEF123456ghiJKL789",
}


def make_check(check_id: str, title: str, *, kind: str = "sql", causes: tuple[str, ...] = (),
               expects: str = "", manual: str | None = None, symptom: bool | None = None) -> Check:
    raw = {"id": check_id, "kind": kind, **({} if symptom is None else {"symptom": symptom})}
    return Check(id=check_id, kind=kind, title=title, expects=expects, causes=causes,
                 messages={"pass": f"{title}: ok", "fail": f"{title}: failed"}, manual=manual,
                 timeout=None, weight=1.0, raw=raw)


def make_entry(entry_id: str, checks: list[Check], *, causes=(), solutions=(), related=(),
               title: str = "Positions stop updating") -> Entry:
    return Entry(id=entry_id, title=title, category="data", severity="high",
                 aliases=("stale",), summary="The desk shows positions whose prices and status no longer change.",
                 error_patterns=("position_sync_failed",), causes=tuple(causes), checks=tuple(checks),
                 solutions=tuple(solutions), prevention="Alert when `updated_at` is older than **10 minutes**.",
                 related=tuple(related), examples=(), path=Path(f"/kb/checks/data/{entry_id}.yaml"))


def make_pack(*entries: Entry) -> Pack:
    return Pack(root=Path("/kb/checks"), name="builtin", version="2026.11", site_url="https://faq.example.test/",
                digest="sha256:0123456789abcdef", sources={}, entries=list(entries),
                fixes=FixPolicy(approvers={"change": "the change manager"},
                                windows={"outside-trading-hours": "not during a trading session"}))


def result(check: Check, status: Status, message: str, *, duration: float = 0.0123, evidence=(),
           source: str | None = "database:desk") -> CheckResult:
    return CheckResult(id=check.id, title=check.title, kind=check.kind, status=status, message=message,
                       cause=list(check.causes), duration=duration, source=source, manual=check.manual,
                       evidence=list(evidence), role=check.role)


def make_run(entry: Entry, results: list[CheckResult], *, profile: dict | None = None,
             incomplete: bool = False, pack: Pack | None = None, notes: list[str] | None = None) -> Run:
    return Run(entry=entry, pack=pack or make_pack(entry), results=results, started_at=STARTED,
               finished_at=STARTED + timedelta(milliseconds=1534), profile=profile or {}, host="desk-01",
               incomplete=incomplete, notes=list(notes or []))


CAUSES = (
    Cause("sync-task-dead", "The position sync task stopped", "position_sync no longer runs, so nothing refreshes rows."),
    Cause("bybit-key-invalid", "The exchange rejects the API key", "BYBIT_API_KEY is wrong, expired or lacks permission."),
    Cause("db-unreachable", "The desk database is unreachable", "The backend cannot write positions."),
)
SOLUTIONS = (
    Solution("fix-key", "Replace the Bybit API key", (
        Step("Create a key with *Positions* permission.", "read-only", where="ui:Bybit"),
        Step("Put it in `backend/.env`.", "reversible", where="host", scope="BYBIT_API_KEY",
             env={"source": "backend", "set": {"BYBIT_API_KEY": "<new key>"}}, undo="restore the old line",
             verify=("sync-errors",)),
        Step("Recreate the backend so it reads the key.", "outage", where="host", shell="docker compose up -d backend",
             scope="the backend service", verify="the sync log shows no error", approve="change",
             when="outside-trading-hours")), causes=("bybit-key-invalid",)),
    Solution("restart-sync", "Restart the sync task", (
        Step("Restart the backend.", "outage", where="host", shell="docker compose up -d backend",
             scope="the backend service", verify=("open-positions-stale",), approve="change",
             when="outside-trading-hours"),), causes=("sync-task-dead",)),
    Solution("check-db", "Check the database", (Step("Run `pg_isready -h db`.", "read-only", where="host",
                                                     shell="pg_isready -h db"),), causes=("db-unreachable",)),
)
CHECKS = (
    make_check("open-positions-stale", "OPEN positions refreshed recently", causes=("sync-task-dead",),
               expects="no OPEN position older than 10 minutes", symptom=True,
               manual="psql \"$DESK_DSN\" -c \"SELECT id FROM positions WHERE status = 'OPEN'\""),
    make_check("sync-errors", "No position_sync_failed in the execution log", kind="log",
               causes=("bybit-key-invalid",), expects="0 matching lines in the last hour",
               manual="grep -n 'position_sync_failed' /var/log/desk/execution.log"),
    make_check("bybit-key-set", "BYBIT_API_KEY is set", kind="env", causes=("bybit-key-invalid",)),
    make_check("db-reachable", "Desk database reachable", kind="tcp", causes=("db-unreachable",)),
)


def profile() -> dict:
    return {
        "databases": {"desk": f"postgresql://desk:{SECRETS['desk_password']}@127.0.0.1:5432/desk"},
        "logs": {"execution": {"paths": ["/var/log/desk/execution.log*"]}},
        "env": {"backend": {"path": "/srv/desk/backend/.env"}},
        "endpoints": {"api": "http://127.0.0.1:8000", "ntfy": f"https://ntfy.example.test/?token={SECRETS['polar_token']}"},
        "headers": {"Authorization": f"Bearer {SECRETS['bearer']}"},
    }


def problem_run() -> Run:
    stale, logs, env, tcp = CHECKS
    entry = make_entry("stale-positions", list(CHECKS), causes=CAUSES, solutions=SOLUTIONS,
                       related=("polar-push-failed", "market-data-delay"))
    rows = Evidence(kind="rows", title="OPEN positions not updated", columns=["id", "symbol", "updated_at", "note"],
                    rows=[[17, "BTCUSDT", "2026-11-21 06:01:00+00", "qty | side `LONG`"],
                          [23, "ETHUSDT", "2026-11-21 05:59:12+00", "multi\nline"]], total=2)
    lines = Evidence(kind="lines", title="execution log", lines=[
        {"file": "/var/log/desk/execution.log", "line": 1041,
         "text": "2026-11-21 08:01:02,001 ERROR position_sync_failed: 401 invalid api_key="
                 f"{SECRETS['bybit_key']} <script>alert(1)</script>"},
        {"file": "/var/log/desk/execution.log.1.gz", "line": 7,
         "text": f"2026-11-21 07:00:00,000 INFO request id=3f2b1c9e-8d7a-4b6c-9e5f-1a2b3c4d5e6f auth={JWT}"},
    ], total=14)
    values = Evidence(kind="values", title="env 'backend'",
                      values={"backend:BYBIT_API_KEY": SECRETS["bybit_key"],
                              "backend:BYBIT_API_SECRET": SECRETS["bybit_secret"],
                              "backend:EXECUTION_MODE": "LIVE", "backend:SUPABASE_SERVICE_ROLE_KEY": JWT})
    results = [
        result(stale, Status.FAIL, "2 OPEN position(s) not updated for 2h | oldest: BTCUSDT", evidence=[rows],
               duration=0.0421),
        result(logs, Status.FAIL, "14 position_sync_failed line(s) in the last hour", evidence=[lines],
               source="log:execution", duration=0.0087),
        result(env, Status.PASS, "BYBIT_API_KEY is set", evidence=[values], source="env:backend", duration=0.0004),
        result(tcp, Status.PASS, "127.0.0.1:5432 accepts connections", source="endpoint:desk", duration=0.0019),
    ]
    other = make_entry("polar-push-failed", [], title="Pushes to Polar fail")
    notes = ["database 'desk': diagnose connected as desk, a superuser; a read-only role is enough: see 'A role "
             "for diagnose' (reference/least-privilege on the FAQ site)",
             f"database 'desk': 3 connection slot(s) were free, so diagnose used at most 1 connection(s) (not 4); "
             f"DSN postgresql://desk:{SECRETS['desk_password']}@127.0.0.1:5432/desk"]
    return make_run(entry, results, profile=profile(), pack=make_pack(entry, other), notes=notes)


def healthy_run() -> Run:
    stale, logs, env, tcp = CHECKS
    entry = make_entry("stale-positions", list(CHECKS), causes=CAUSES, solutions=SOLUTIONS)
    results = [result(c, Status.PASS, f"{c.title}: ok") for c in CHECKS]
    return make_run(entry, results, profile={"databases": {"desk": "postgresql://desk@127.0.0.1/desk"}})


def risk_run() -> Run:
    """The cause is there (the exchange rejects the key), the symptom not yet (positions are fresh)."""
    stale, logs, env, tcp = CHECKS
    entry = make_entry("stale-positions", list(CHECKS), causes=CAUSES, solutions=SOLUTIONS)
    lines = Evidence(kind="lines", title="execution log", lines=[
        {"file": "/var/log/desk/execution.log", "line": 2210,
         "text": "2026-11-21 08:14:02,001 ERROR position_sync_failed: 401 invalid api key"}], total=3)
    results = [
        result(stale, Status.PASS, "OPEN positions refreshed recently: ok"),
        result(logs, Status.FAIL, "3 position_sync_failed line(s) in the last hour", evidence=[lines],
               source="log:execution"),
        result(env, Status.PASS, "BYBIT_API_KEY is set", source="env:backend"),
        result(tcp, Status.PASS, "127.0.0.1:5432 accepts connections", source="endpoint:desk"),
    ]
    return make_run(entry, results, profile={"databases": {"desk": "postgresql://desk@127.0.0.1/desk"}})


def inconclusive_run() -> Run:
    stale, logs, env, tcp = CHECKS
    entry = make_entry("stale-positions", list(CHECKS), causes=CAUSES, solutions=SOLUTIONS)
    results = [
        result(stale, Status.ERROR, "cannot connect to database 'desk': password authentication failed "
               f"for user \"desk\" (postgresql://desk:{SECRETS['desk_password']}@127.0.0.1:5432/desk)"),
        result(logs, Status.TIMEOUT, "did not finish within 10s", duration=10.0),
        result(env, Status.SKIP, "env 'backend' is not configured in the target profile (add it under env:)",
               duration=0.0),
        result(tcp, Status.PASS, "127.0.0.1:5432 accepts connections"),
    ]
    return make_run(entry, results, profile=profile(), incomplete=False)


SCENARIOS = {"stale-positions": problem_run, "risk": risk_run, "healthy": healthy_run,
             "inconclusive": inconclusive_run}

#: the knowledge base's texts of the scenarios as its Chinese overlay would have them (``*.zh.yaml``);
#: ids, commands, evidence and the tool's own messages (errors, timeouts, skips) are not translated
KB_ZH = {
    "Positions stop updating": "持仓不再更新",
    "Pushes to Polar fail": "推送到极星失败",
    "Market data arrives late": "行情延迟",
    "The desk shows positions whose prices and status no longer change.": "交易台上持仓的价格和状态不再变化。",
    "Alert when `updated_at` is older than **10 minutes**.": "`updated_at` 超过 **10 分钟**未更新时告警。",
    "The position sync task stopped": "持仓同步任务停止了",
    "position_sync no longer runs, so nothing refreshes rows.": "position_sync 不再运行，所以没有任何东西刷新这些行。",
    "The exchange rejects the API key": "交易所拒绝了 API 密钥",
    "BYBIT_API_KEY is wrong, expired or lacks permission.": "BYBIT_API_KEY 错误、已过期或缺少权限。",
    "The desk database is unreachable": "连不上交易台数据库",
    "The backend cannot write positions.": "后端无法写入持仓。",
    "Replace the Bybit API key": "更换 Bybit API 密钥",
    "Create a key with *Positions* permission.": "创建一个带 *Positions* 权限的密钥。",
    "Put it in `backend/.env`.": "把它写进 `backend/.env`。",
    "restore the old line": "恢复原来那一行",
    "Recreate the backend so it reads the key.": "重建后端，让它读取新密钥。",
    "the backend service": "后端服务",
    "the sync log shows no error": "同步日志中没有错误",
    "Restart the sync task": "重启同步任务",
    "Restart the backend.": "重启后端。",
    "Check the database": "检查数据库",
    "Run `pg_isready -h db`.": "运行 `pg_isready -h db`。",
    "the change manager": "变更负责人",
    "not during a trading session": "不要在交易时段内",
    "OPEN positions refreshed recently": "OPEN 持仓最近有刷新",
    "no OPEN position older than 10 minutes": "没有超过 10 分钟未更新的 OPEN 持仓",
    "No position_sync_failed in the execution log": "执行日志中没有 position_sync_failed",
    "0 matching lines in the last hour": "最近一小时内没有匹配的日志行",
    "BYBIT_API_KEY is set": "BYBIT_API_KEY 已设置",
    "Desk database reachable": "交易台数据库可连接",
    "2 OPEN position(s) not updated for 2h | oldest: BTCUSDT": "有 2 个 OPEN 持仓已 2h 未更新 | 最早的：BTCUSDT",
    "14 position_sync_failed line(s) in the last hour": "最近一小时内有 14 行 position_sync_failed",
    "3 position_sync_failed line(s) in the last hour": "最近一小时内有 3 行 position_sync_failed",
    "127.0.0.1:5432 accepts connections": "127.0.0.1:5432 可以接受连接",
}
KB_ZH.update({f"{english}: {word}": f"{KB_ZH[english]}：{zh}" for english in
              ("OPEN positions refreshed recently", "No position_sync_failed in the execution log",
               "BYBIT_API_KEY is set", "Desk database reachable")
              for word, zh in (("ok", "正常"), ("failed", "失败"))})
#: what a translation never touches: evidence, the run's facts and notes, a check's YAML, paths
_NOT_KB = {"evidence", "profile", "notes", "host", "raw", "path", "root", "id", "kind", "where", "shell", "sql",
           "manual", "env"}


def in_chinese(value: Any) -> Any:
    """``value`` (a Run, a Triage, an Entry...) with the knowledge base's texts in Chinese (:data:`KB_ZH`),
    as ``load_pack(lang="zh")`` would give them."""
    if isinstance(value, str):
        return KB_ZH.get(value, value)
    if isinstance(value, (list, tuple)):
        return type(value)(in_chinese(v) for v in value)
    if isinstance(value, dict):
        return {k: in_chinese(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type) and not isinstance(value, Evidence):
        return dataclasses.replace(value, **{f.name: in_chinese(getattr(value, f.name))
                                             for f in dataclasses.fields(value) if f.init and f.name not in _NOT_KB})
    return value


@pytest.fixture(autouse=True)
def english_unless_asked() -> Iterator[None]:
    """English whatever the machine's locale (``LANG=zh_CN.UTF-8`` must not change the golden files); the
    language chosen by a test is undone after it."""
    i18n.set_language("en")
    yield
    i18n.set_language(None)


@pytest.fixture
def in_lang():
    """``in_lang(run, lang)``: the run as a pack loaded in ``lang`` gives it."""
    return lambda value, lang: in_chinese(value) if lang == "zh" else value


@pytest.fixture
def speak():
    """``speak("zh")``: the language of the rest of the test (undone after it)."""
    return i18n.set_language


@pytest.fixture
def scenarios():
    return SCENARIOS


@pytest.fixture
def secrets():
    return SECRETS


@pytest.fixture
def factory():
    """The builders above, for tests that assemble their own runs."""
    import types

    return types.SimpleNamespace(make_check=make_check, make_entry=make_entry, make_pack=make_pack,
                                 result=result, make_run=make_run, profile=profile, CHECKS=CHECKS,
                                 CAUSES=CAUSES, SOLUTIONS=SOLUTIONS, JWT=JWT, GENERATED=GENERATED,
                                 STARTED=STARTED, in_chinese=in_chinese)


def masker_for(run: Run):
    """The masker as the run would set it up: DSN passwords registered up front."""
    from diagnose.masking import Masker

    masker = Masker()
    for dsn in run.profile.get("databases", {}).values():
        masker.add_dsn(dsn)
    return masker


@pytest.fixture
def build():
    """``build(run) -> document`` with fixed ``generated_at``."""
    from diagnose.reports.document import build_document

    return lambda run: build_document(run, masker_for(run), generated_at=GENERATED)
