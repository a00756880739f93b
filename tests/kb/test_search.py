from diagnose.kb.loader import load_pack
from diagnose.kb.lookup import find, suggest
from diagnose.kb.search import explain


def test_find_by_id_alias_and_title(pack_copy):
    pack = load_pack(pack_copy)
    assert find(pack, "stale-positions").id == "stale-positions"
    assert find(pack, "ghost_positions").id == "stale-positions"
    assert find(pack, "orders blocked OPEN position").id == "stale-positions"
    assert find(pack, "nothing-like-this") is None


def test_suggest_closest_ids(pack_copy):
    pack = load_pack(pack_copy)
    assert suggest(pack, "stale-position")[0] == "stale-positions"
    assert suggest(pack, "ws-disconect")[0] == "ws-disconnect"
    assert suggest(pack, "lnt", extra=("lint", "list")) [0] in ("lint", "list")


def test_explain_finds_the_entry_from_an_error_message(pack_copy):
    pack = load_pack(pack_copy)
    hits = explain(pack, "order rejected: position_mutex_blocked (BTCUSDT 1h)")
    assert hits[0].entry.id == "stale-positions"
    assert hits[0].matched == "position_mutex_blocked"
    assert explain(pack, "系统检测到无效持仓")[0].entry.id == "stale-positions"
    assert explain(pack, "zzzz qqqq") == []


def test_patterns_that_cannot_match_are_not_compiled_and_results_do_not_change(pack_copy, monkeypatch):
    """The index keeps the literals every match of an error pattern contains: explain compiles only the
    patterns whose literals are in the message, and ranks exactly as when it compiles them all."""
    from diagnose import safe_regex
    from diagnose.kb import search

    pack = load_pack(pack_copy)
    patterns = [p for e in pack.entries for p in e.error_patterns]
    messages = ["order rejected: position_mutex_blocked (BTCUSDT 1h)", "ORDER REJECTED: POSITION_MUTEX_BLOCKED",
                "Connection Reset by peer while reading the ws", "FATAL: sorry, too many clients already",
                "ntfy: 403 Forbidden", "行情数据不足 BTCUSDT", "ſorry, too many clients already", "nothing at all"]
    messages += [s for e in pack.entries for s in e.seen]
    tried: list[str] = []
    real_search = safe_regex.search
    monkeypatch.setattr(safe_regex, "search", lambda p, text, flags=0: tried.append(p) or real_search(p, text, flags))

    def ranking(message: str) -> list[tuple[str, float, str]]:
        return [(h.entry.id, round(h.score, 9), h.pattern) for h in explain(pack, message, limit=20)]

    for message in messages:
        tried.clear()
        with_prefilter = ranking(message)
        compiled = len(tried)
        with monkeypatch.context() as everything:
            everything.setattr(search, "_may_match", lambda literals, text: True)
            assert ranking(message) == with_prefilter, message
        if message.isascii():
            assert compiled < len(patterns) / 2, f"{compiled} of {len(patterns)} patterns tried for {message!r}"
