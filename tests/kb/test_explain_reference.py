"""`diagnose explain` lands on the right entry for every error message the reference stack names."""

from __future__ import annotations

import pytest

from diagnose.kb.loader import load_pack
from diagnose.kb.search import explain

PACK = load_pack()

#: (message as an operator would paste it, entry that must rank first)
MESSAGES = [
    ("order rejected: position_mutex_blocked (BTCUSDT 1h)", "stale-positions"),
    ("position_sync_failed: HTTP 401 retCode=10003 API key is invalid", "stale-positions"),
    ("WebSocket disconnected", "ws-disconnect"),
    ("ErrorConnectingToWebsocket: {:error, :signature_error}", "realtime-auth-failed"),
    ("数据加载失败 TypeError: Failed to fetch", "realtime-auth-failed"),
    ("tqsdk.exceptions.TqTimeoutError", "tqsdk-timeout"),
    ("TqTimeoutError", "tqsdk-timeout"),
    ("行情数据不足", "rollover-alert-missing"),
    ("NotImplementedError: 锁仓下单接口未实现", "lock-trigger-failed"),
    ("锁仓执行失败: 持仓不足", "lock-trigger-failed"),
    ("NotImplementedError: 换月平仓接口未实现", "rollover-task-failed"),
    ("NotImplementedError: 换月开仓接口未实现", "rollover-task-failed"),
    ("2026-11-21 08:15:02.123 UTC [4711] FATAL:  sorry, too many clients already", "db-pool-exhausted"),
]


@pytest.mark.parametrize("message, entry_id", MESSAGES)
def test_explain_ranks_the_owning_entry_first(message, entry_id):
    hits = explain(PACK, message)
    assert hits, f"nothing explains {message!r}"
    assert hits[0].entry.id == entry_id, [(h.entry.id, h.score, h.matched) for h in hits[:3]]
