"""Naming an entry: by its id, an alias or an unambiguous part of its title (``diagnose SYMPTOM``,
``diagnose show``), and the closest names when none matches.

Apart from :mod:`.search` (``explain``) because every symptom run resolves a name and needs none of
the word and index machinery behind a search.
"""

from __future__ import annotations

import re

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
