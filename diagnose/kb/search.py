"""Finding entries: by id, alias or close text (``diagnose SYMPTOM``), and by error message
(``diagnose explain``)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from diagnose import safe_regex
from diagnose.kb.model import Entry, Pack


def _norm(text: str) -> str:
    return re.sub(r"[\s_]+", "-", text.strip().lower())


def find(pack: Pack, text: str) -> Entry | None:
    """The entry named by ``text``: its id, an alias, or an unambiguous part of its title."""
    wanted = _norm(text)
    for entry in pack.entries:
        if wanted == entry.id or wanted in (_norm(a) for a in entry.aliases):
            return entry
    words = [w for w in re.split(r"\W+", text.lower()) if w]
    if len(words) >= 2:
        hits = [e for e in pack.entries if all(w in e.title.lower() for w in words)]
        if len(hits) == 1:
            return hits[0]
    return None


def suggest(pack: Pack, text: str, extra: tuple[str, ...] = (), n: int = 3) -> list[str]:
    """Closest ids and aliases to a name that matched nothing (``stale-position`` -> ``stale-positions``)."""
    import difflib  # only a mistyped symptom needs it

    names = {e.id: e.id for e in pack.entries}
    for entry in pack.entries:
        for alias in entry.aliases:
            names.setdefault(_norm(alias), entry.id)
    for name in extra:
        names.setdefault(name, name)
    wanted = _norm(text)
    scored = sorted(((difflib.SequenceMatcher(None, wanted, name).ratio(), name) for name in names), reverse=True)
    best = scored[0][0] if scored else 0.0
    # only names about as close as the best one: "stale-position" is not "polar-positions-stale"
    close = [name for ratio, name in scored if ratio >= max(0.5, best - 0.12)]
    out: list[str] = []
    for name in close:
        if names[name] not in out:
            out.append(names[name])
    return out[:n]


@dataclass
class Explanation:
    entry: Entry
    score: float
    matched: str        # the part of the message that matched
    pattern: str        # the error pattern, or "" for a text match


def explain(pack: Pack, message: str, limit: int = 5) -> list[Explanation]:
    """Entries whose ``error_patterns`` match ``message``, best first.

    A longer matched span is more specific (``position_mutex_blocked`` beats ``error``); entries
    with no pattern hit are still offered when the message shares words with their title or
    summary, ranked below every pattern hit.
    """
    found: dict[str, Explanation] = {}
    for entry in pack.entries:
        for pattern in entry.error_patterns:
            try:
                match = safe_regex.search(pattern, message)
            except re.error:
                continue
            if match:
                score = 10 + len(match.group(0))
                if entry.id not in found or score > found[entry.id].score:
                    found[entry.id] = Explanation(entry, score, match.group(0), pattern)
    words = {w for w in re.findall(r"[a-z0-9_]{4,}", message.lower())}
    if words:
        for entry in pack.entries:
            if entry.id in found:
                continue
            text = f"{entry.title} {entry.summary} {' '.join(entry.aliases)}".lower()
            shared = [w for w in words if w in text]
            if shared:
                found[entry.id] = Explanation(entry, len(shared) / len(words), ", ".join(sorted(shared)), "")
    return sorted(found.values(), key=lambda x: (-x.score, x.entry.id))[:limit]
