"""An entry's page lists its settings, their defaults and the profile snippet that changes them; the profile
reference lists every setting of the pack."""

from __future__ import annotations

import yaml

from diagnose.kb.loader import load_pack
from diagnose.kb.settings import profile_problems
from diagnose.site.pages import symptom_page
from diagnose.site.reference import profile_page


def _snippet(page: str) -> str:
    section = page.split("## Settings { #settings }", 1)[1]
    return section.split("```yaml\n", 1)[1].split("```", 1)[0]


def test_the_page_lists_the_settings_and_a_profile_snippet_that_the_tool_accepts():
    pack = load_pack()
    entry = pack.get("rollover-alert-missing")
    page = symptom_page(entry, pack, None)
    assert "| `warn_days` | `18 trading days` (integer; at least 1) |" in page
    assert "[Held contracts nearing expiry without any rollover config](#check-config-missing)" in page
    snippet = yaml.safe_load(_snippet(page))
    assert snippet == {"settings": {"rollover-alert-missing": {"warn_days": 18}}}
    assert profile_problems(pack.entries, snippet["settings"]) == []   # pasted as it is, it is valid
    assert "## Settings" not in symptom_page(pack.get("ws-disconnect"), pack, None)  # none, no section


def test_the_profile_reference_lists_every_setting_of_the_pack():
    pack = load_pack()
    page = profile_page(pack)
    section = page.split("## Settings { #settings }", 1)[1]
    for entry in pack.entries:
        for setting in entry.settings:
            assert f"| [`{entry.id}`](../faq/{entry.id}.md#settings) | `{setting.name}` |" in section
    assert sum(len(e.settings) for e in pack.entries) >= 5
