from diagnose.kb.loader import load_pack
from diagnose.kb.search import explain, find, suggest


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
